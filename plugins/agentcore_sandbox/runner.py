"""``run_python``: run untrusted Python code in the strongest sandbox this machine allows.

One run: make a fresh working directory (code as ``main.py``, plus the given files), start the launcher
(:mod:`agentcore_sandbox._launcher`) under bubblewrap, ``unshare`` or nothing, read stdout and stderr
incrementally under a byte cap, kill the whole process tree at the wall-clock deadline, then remove the
directory. The caller only ever fork-execs (no ``preexec_fn``), so it is safe to call from threads.
"""

from __future__ import annotations

import math
import os
import selectors
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from . import isolation as iso
from .models import ISOLATION_ORDER, IsolationLevel, SandboxInputError, SandboxResult
from .runtime import NOBODY_GID, NOBODY_UID, _nobody_kwargs, default_python, discover_runtime, drops_privileges

#: Environment variable with the default ``min_isolation`` (``full`` when unset).
MIN_ISOLATION_ENV = "AGENTCORE_SANDBOX_MIN_ISOLATION"
MAIN_FILE = "main.py"
_LAUNCHER_SOURCE = (Path(__file__).with_name("_launcher.py")).read_text(encoding="utf-8")
_MB = 1024 * 1024
# After the program exits, how long to keep reading output that a leftover process may still hold
# (only possible at the rlimits level, where nothing kills detached children).
_DRAIN_S = 0.3


def run_python(
    code: str,
    *,
    timeout_s: float = 10.0,
    memory_mb: int = 512,
    files: Mapping[str, str | bytes] | None = None,
    allow_network: bool = False,
    min_isolation: IsolationLevel | None = None,
    isolation: IsolationLevel | None = None,
    python: str | None = None,
    max_output_bytes: int = 256 * 1024,
    max_processes: int = 64,
    max_file_mb: int = 64,
    max_open_files: int = 256,
) -> SandboxResult:
    """Run ``code`` as ``main.py`` in a fresh sandbox and return what it printed and how it ended.

    Args:
        code: the Python source to run.
        timeout_s: wall-clock limit; the whole process tree is killed when it passes (CPU time is
            limited to the same, plus one second).
        memory_mb: address-space limit (RLIMIT_AS) of each process.
        files: name -> content (text or bytes) written into the working directory first; names are
            relative paths (sub-directories allowed), never absolute or with ``..``.
        allow_network: keep the host's network (no new network namespace). Off by default.
        min_isolation: the weakest level accepted (default ``$AGENTCORE_SANDBOX_MIN_ISOLATION`` or
            ``"full"``); below it the call raises :class:`SandboxUnavailableError` saying what to install.
        isolation: force this level (must be available and at least ``min_isolation``); default: the best.
        python: the interpreter inside the sandbox (default ``/usr/bin/python3``; see :mod:`.runtime`).
        max_output_bytes: cap per stream; more output kills the run (``killed_reason="output_limit"``).
        max_processes: RLIMIT_NPROC (processes and threads of the sandbox user).
        max_file_mb: RLIMIT_FSIZE, the largest file the code may write.
        max_open_files: RLIMIT_NOFILE.
    """
    started = time.monotonic()
    _check_inputs(code, timeout_s, memory_mb, max_output_bytes, max_processes, max_file_mb, max_open_files)
    floor = iso.check_level(min_isolation or os.environ.get(MIN_ISOLATION_ENV) or "full")
    interpreter = python or default_python()
    report = iso.detect(interpreter)
    level = iso.require(report, floor)
    if isolation is not None:
        level = _forced_level(iso.check_level(isolation), floor, report)
    runtime = discover_runtime(interpreter)

    workdir = _make_workdir()
    try:
        _write_files(workdir, code, files or {})
        inside_cwd = iso.SANDBOX_CWD if level == "full" else workdir
        drop = drops_privileges() and not (level == "full" and not report.bwrap_privileged)
        # RLIMIT_NPROC counts the user's tasks per user namespace: in a fresh one only the run's own;
        # without one, every task the user already has on the host, so those are added to the limit.
        own_userns = (level == "full" and not report.bwrap_privileged) or (level == "namespaces" and not drops_privileges())
        nproc = max_processes + (0 if own_userns else _tasks_of(NOBODY_UID if drops_privileges() else os.getuid()))
        read_status, write_status = os.pipe()
        rlimits = {
            "RLIMIT_AS": memory_mb * _MB,
            "RLIMIT_CPU": math.ceil(timeout_s) + 1,
            "RLIMIT_NPROC": nproc,
            "RLIMIT_FSIZE": max_file_mb * _MB,
            "RLIMIT_NOFILE": max_open_files,
            "RLIMIT_CORE": 0,
        }
        uid = NOBODY_UID if drop else None
        gid = NOBODY_GID if drop else None
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": inside_cwd,
            "TMPDIR": "/tmp" if level == "full" else inside_cwd,
            "LANG": "C.UTF-8",
        }
        # The launcher becomes the program, so it starts with the program's flags: -u unbuffered (output
        # printed before a timeout is kept), -E -s no PYTHON* variables or user site, -B no .pyc files.
        launcher = [runtime.executable, "-u", "-E", "-s", "-B", "-c", _LAUNCHER_SOURCE,
                    *_launcher_args(write_status, uid, gid, inside_cwd, MAIN_FILE, rlimits)]
        if level == "full":
            prefix = iso.bwrap_prefix(runtime, workdir, privileged=report.bwrap_privileged, network=allow_network)
            argv = [*prefix, "--", *launcher]
            spawn_kw = _nobody_kwargs() if not report.bwrap_privileged else {}
        elif level == "namespaces":
            prefix = iso.namespaces_prefix()
            if allow_network:
                prefix.remove("--net")
            argv = [*prefix, *launcher]
            spawn_kw = {}
        else:
            argv = launcher
            spawn_kw = {}
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=workdir,
                env=env,  # the whole environment of the program: nothing of the caller's
                pass_fds=(write_status,),
                start_new_session=True,  # its own process group, killed as one
                **spawn_kw,
            )
        finally:
            os.close(write_status)
        try:
            out, err, reason = _pump(proc, started + timeout_s, max_output_bytes)
        finally:
            _kill_group(proc)
            returncode = proc.wait()
            status = _read_status(read_status)
        return _result(level, started, out, err, reason, returncode, status, max_output_bytes)
    finally:
        _remove_tree(workdir)


# --- one run's pieces -----------------------------------------------------------------------------


def _pump(proc: subprocess.Popen[bytes], deadline: float, cap: int) -> tuple[bytearray, bytearray, str | None]:
    """Read both streams until they close, the deadline passes or a stream exceeds ``cap`` bytes."""
    assert proc.stdout is not None and proc.stderr is not None
    buffers = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    reason: str | None = None
    exited_at: float | None = None
    with selectors.DefaultSelector() as sel:
        for fd in buffers:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                reason = "timeout"
                break
            if exited_at is None and _has_exited(proc.pid):
                exited_at = now
            if exited_at is not None and now - exited_at > _DRAIN_S:
                break  # a detached leftover holds the pipes; the group kill below ends it
            for key, _ in sel.select(timeout=min(deadline - now, 0.05 if exited_at else 0.25)):
                fd = key.fd
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(fd)
                    continue
                buffers[fd] += data
                if len(buffers[fd]) > cap:
                    reason = "output_limit"
            if reason:
                break
    if reason:
        _kill_group(proc)
    return buffers[proc.stdout.fileno()], buffers[proc.stderr.fileno()], reason


def _has_exited(pid: int) -> bool:
    """Whether ``pid`` has exited, without reaping it (so its process-group id stays ours to kill)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the run's process group. Called before the child is reaped, so the id cannot be reused.

    Under bubblewrap or ``unshare`` this ends the PID namespace's init, and the kernel kills everything
    left inside, detached or not."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _launcher_args(
    status_fd: int, uid: int | None, gid: int | None, cwd: str, main: str, rlimits: dict[str, int]
) -> list[str]:
    """The launcher's settings as plain arguments (it parses them without importing anything)."""
    opt = lambda v: "-" if v is None else str(v)  # noqa: E731
    return [str(status_fd), opt(uid), opt(gid), cwd, main, *(f"{k}={v}" for k, v in rlimits.items())]


def _read_status(fd: int) -> dict[str, float] | None:
    """The launcher's report (``exit`` or ``signal``, ``cpu_s``), or ``None`` if it never wrote one."""
    try:
        os.set_blocking(fd, False)
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return None
    finally:
        os.close(fd)
    try:
        words = data.decode().splitlines()[0].split()
        return {key: float(value) for key, value in (word.split("=", 1) for word in words)}
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


def _result(
    level: IsolationLevel,
    started: float,
    out: bytearray,
    err: bytearray,
    reason: str | None,
    returncode: int,
    status: dict[str, float] | None,
    cap: int,
) -> SandboxResult:
    signum: int | None = None
    cpu_s = status.get("cpu_s") if status else None
    if status and "signal" in status:
        signum = int(status["signal"])
        exit_code = -signum
    elif status and "exit" in status and reason is None:
        exit_code = int(status["exit"])
    elif returncode < 0:
        signum, exit_code = -returncode, returncode
    elif returncode > 128 and level != "rlimits":
        # No report: the launcher itself was killed (by the code, say), and bwrap/unshare turned
        # its death by signal N into 128+N.
        signum = returncode - 128
        exit_code = -signum
    else:
        exit_code = returncode
    stderr_text = err[:cap].decode("utf-8", "replace")
    if reason is None and signum is not None:
        reason = {signal.SIGXCPU: "cpu_time", signal.SIGXFSZ: "file_size"}.get(signum, "signal")
    if reason is None and exit_code != 0:
        tail = stderr_text[-2000:]
        if "MemoryError" in tail:
            reason = "memory"
        elif "[Errno 27] File too large" in tail:
            reason = "file_size"
    return SandboxResult(
        stdout=out[:cap].decode("utf-8", "replace"),
        stderr=stderr_text,
        exit_code=exit_code,
        timed_out=reason in ("timeout", "cpu_time"),
        killed_reason=reason,  # type: ignore[arg-type]
        signal=_signal_name(signum) if signum else None,
        stdout_truncated=len(out) > cap,
        stderr_truncated=len(err) > cap,
        duration_s=time.monotonic() - started,
        cpu_s=cpu_s,
        isolation=level,
    )


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# --- inputs and the working directory -------------------------------------------------------------


def _check_inputs(code: str, timeout_s: float, memory_mb: int, *limits: int) -> None:
    if not isinstance(code, str):
        raise SandboxInputError(f"code must be a string of Python source, got {type(code).__name__}")
    if not (isinstance(timeout_s, (int, float)) and 0 < timeout_s <= 3600):
        raise SandboxInputError(f"timeout_s must be a number of seconds in (0, 3600], got {timeout_s!r}")
    if not (isinstance(memory_mb, int) and memory_mb >= 64):
        raise SandboxInputError(f"memory_mb must be an integer >= 64 (Python itself needs ~30 MB), got {memory_mb!r}")
    for value in limits:
        if not (isinstance(value, int) and value > 0):
            raise SandboxInputError(f"output, process, file and open-file limits must be positive integers, got {value!r}")


def _forced_level(level: IsolationLevel, floor: IsolationLevel, report: iso.IsolationReport) -> IsolationLevel:
    if ISOLATION_ORDER.index(level) < ISOLATION_ORDER.index(floor):
        raise SandboxInputError(
            f"isolation={level!r} is weaker than min_isolation={floor!r}: pass min_isolation={level!r} to opt down"
        )
    if level not in report.available:
        iso.require(report, level)  # raises with the reason and the fix
    return level


def _make_workdir() -> str:
    base = tempfile.gettempdir()
    if drops_privileges() and not _reachable_by_others(base):
        base = "/tmp"  # the sandbox user must be able to reach it (bubblewrap binds it as nobody)
    workdir = tempfile.mkdtemp(prefix="agentcore-sandbox-", dir=base)
    if drops_privileges():
        os.chown(workdir, NOBODY_UID, NOBODY_GID)
    return workdir


def _reachable_by_others(path: str) -> bool:
    p = Path(path).resolve()
    return all(os.stat(q).st_mode & stat.S_IXOTH for q in [p, *p.parents])


def _write_files(workdir: str, code: str, files: Mapping[str, str | bytes]) -> None:
    if not isinstance(files, Mapping):
        raise SandboxInputError(f"files must be a dict of name -> content, got {type(files).__name__}")
    entries: dict[str, str | bytes] = {}
    for name, content in files.items():
        rel = PurePosixPath(str(name))
        if not str(name) or rel.is_absolute() or ".." in rel.parts or str(rel) in ("", "."):
            raise SandboxInputError(
                f"file name {name!r} is not allowed: use a relative path inside the working directory (no '..', not absolute)"
            )
        if str(rel) == MAIN_FILE:
            raise SandboxInputError(f"files may not contain {MAIN_FILE!r}: the code itself runs as {MAIN_FILE}")
        if not isinstance(content, (str, bytes)):
            raise SandboxInputError(f"content of file {name!r} must be str or bytes, got {type(content).__name__}")
        entries[str(rel)] = content
    entries[MAIN_FILE] = code
    for rel, content in entries.items():
        target = Path(workdir, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    if drops_privileges():  # the code runs as nobody and may change its own files
        for root, dirs, names in os.walk(workdir):
            for entry in [*dirs, *names]:
                os.chown(os.path.join(root, entry), NOBODY_UID, NOBODY_GID)


def _remove_tree(path: str) -> None:
    """Remove the working directory even if the code made parts of it unwritable."""

    def fix(func, failed, _exc):  # type: ignore[no-untyped-def]
        try:
            os.chmod(os.path.dirname(failed), 0o700)
            os.chmod(failed, 0o700)
        except OSError:
            pass
        try:
            func(failed)
        except OSError:
            pass

    shutil.rmtree(path, onerror=fix)


def _tasks_of(uid: int) -> int:
    """How many tasks (threads included) ``uid`` has now: RLIMIT_NPROC counts them too."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                text = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1 ").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count
