"""The launcher that runs *inside* the sandbox, before the untrusted code.

It is passed to the sandbox interpreter with ``-I -S -c`` (its source, not this file, so nothing of the
host's plugin directory has to be visible), with one JSON argument. It sets the resource limits, drops
to the unprivileged user when started as root, then forks and execs the untrusted program and waits for
it, so it can report how the program ended (exit status or signal, CPU time) on a private status pipe
that the program never holds. Doing this here rather than in ``preexec_fn`` keeps the caller safe in
threaded programs: the caller only ever fork-execs.

Exit status: the program's, or 128+N when it died by signal N; 126 when the launcher itself failed.
Keep this file dependency-free and compatible with old Pythons: it runs with whatever interpreter the
sandbox uses.
"""

import json
import os
import resource
import sys


def main():
    cfg = json.loads(sys.argv[1])
    status_fd = cfg.get("status_fd")
    if status_fd is not None:
        # The program must not inherit the status pipe: only the launcher reports.
        os.set_inheritable(status_fd, False)
    try:
        for name, value in cfg["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        uid = cfg.get("uid")
        gid = cfg.get("gid")
        if uid is not None and os.getuid() == 0:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            if os.getuid() != uid or os.geteuid() != uid:
                raise OSError("could not drop privileges to uid %d" % uid)
        os.chdir(cfg["cwd"])
        os.umask(0o022)
    except Exception as exc:  # report and refuse: never run the program half-confined
        sys.stderr.write("sandbox launcher: %s\n" % (exc,))
        sys.stderr.flush()
        os._exit(126)
    pid = os.fork()
    if pid == 0:
        try:
            os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
        except Exception as exc:
            sys.stderr.write("sandbox launcher: cannot start %s: %s\n" % (cfg["argv"][0], exc))
            sys.stderr.flush()
        os._exit(126)
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    report = {"cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}
    if os.WIFSIGNALED(status):
        report["signal"] = os.WTERMSIG(status)
        code = 128 + os.WTERMSIG(status)
    else:
        report["exit"] = os.WEXITSTATUS(status)
        code = os.WEXITSTATUS(status)
    if status_fd is not None:
        try:
            os.write(status_fd, (json.dumps(report) + "\n").encode())
        except OSError:
            pass
    os._exit(code)


main()
