"""The launcher that runs *inside* the sandbox and then becomes the untrusted program.

Its source (not this file, so nothing of the host's plugin directory needs to be visible) is passed
to the sandbox interpreter with ``-c``, followed by its settings as plain arguments (see
:func:`agentcore_sandbox.runner._launcher_args`; no ``json``: importing it pulls in ``re`` and ``enum``
and would add a third to the start-up time). It sets the resource limits, drops to
the unprivileged user when started as root, and forks: the child runs ``main.py`` as ``__main__`` in
this same interpreter (one interpreter start per run instead of two), while the parent waits and
reports how the child ended (exit status or signal, CPU time) on a private status pipe the program
never holds. Doing this here rather than in ``preexec_fn`` keeps the caller safe in threaded
programs: the caller only ever fork-execs.

The launcher's exit status is the program's, or 128+N when it died by signal N; 126 when the
launcher itself failed. Keep this file dependency-free and compatible with old Pythons: it runs with
whatever interpreter the sandbox uses.
"""

import sys

# -c puts the working directory first on sys.path: drop it before importing anything, so files the
# caller put there (a "json.py"…) cannot replace the modules the launcher uses.
del sys.path[0]

import builtins  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402


def _fail(message):
    sys.stderr.write("sandbox launcher: %s\n" % (message,))
    sys.stderr.flush()
    os._exit(126)


def _launch():
    """Confine this process, fork, and in the child return (code object, globals) of main.py."""
    # argv: status_fd uid gid cwd main RLIMIT_X=value... ("-" for none)
    status_fd, uid, gid = [None if a == "-" else int(a) for a in sys.argv[1:4]]
    cwd, main = sys.argv[4], sys.argv[5]
    rlimits = [arg.split("=", 1) for arg in sys.argv[6:]]
    try:
        for name, value in rlimits:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
        if uid is not None and os.getuid() == 0:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            if os.getuid() != uid or os.geteuid() != uid:
                raise OSError("could not drop privileges to uid %d" % uid)
        os.chdir(cwd)
        os.umask(0o022)
    except Exception as exc:  # refuse: never run the program half-confined
        _fail(exc)
    try:
        pid = os.fork()
    except OSError as exc:
        _fail("cannot fork: %s" % (exc,))
    if pid == 0:
        if status_fd is not None:
            os.close(status_fd)  # only the launcher reports
        return _program(os.path.join(cwd, main))
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    # The report: "key=value" words on one line.
    report = "cpu_s=%r maxrss_kb=%d" % (usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
    if os.WIFSIGNALED(status):
        report += " signal=%d" % os.WTERMSIG(status)
        code = 128 + os.WTERMSIG(status)
    else:
        report += " exit=%d" % os.WEXITSTATUS(status)
        code = os.WEXITSTATUS(status)
    if status_fd is not None:
        try:
            os.write(status_fd, (report + "\n").encode())
        except OSError:
            pass
    os._exit(code)


def _program(path):
    """Set the interpreter up as ``python main.py`` would, and compile main.py."""
    sys.argv = [os.path.basename(path)]
    sys.path.insert(0, os.path.dirname(path))
    module = type(sys)("__main__")
    module.__dict__.update(
        __file__=path, __builtins__=builtins, __cached__=None, __package__=None, __spec__=None, __loader__=None
    )
    sys.modules["__main__"] = module

    def excepthook(kind, value, tb):
        # Hide the launcher's frames: the traceback starts at main.py, as with `python main.py`.
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        if value is not None:
            value = value.with_traceback(tb)  # the default hook prints value.__traceback__
        sys.__excepthook__(kind, value, tb)

    sys.excepthook = excepthook
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec", dont_inherit=True)
    return code, module.__dict__


_code, _globals = _launch()
del _launch, _program, _fail
exec(_code, _globals)
