"""Which Python runs the untrusted code, and which host files it needs to start.

The sandboxed code does not run with the caller's interpreter (often a virtual environment or a pyenv
build under ``/root``, which the unprivileged user cannot read) but with a system Python, by default
``/usr/bin/python3``. Its needs are discovered once by asking it: the standard library directories and
the directories of every shared library it maps after importing all its extension modules. The
``full`` isolation level makes exactly those visible, read-only.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass

from .models import SandboxUnavailableError

#: Environment variable naming the interpreter for sandboxed code (default: ``/usr/bin/python3``).
PYTHON_ENV = "AGENTCORE_SANDBOX_PYTHON"

#: The unprivileged user and group the code runs as when the caller is root (``nobody``/``nogroup``).
NOBODY_UID = 65534
NOBODY_GID = 65534

# Run by the sandbox interpreter: import every extension module it ships, so /proc/self/maps lists
# every shared library any stdlib import could need, and report its layout.
_PROBE = r"""
import json, os, sys, sysconfig
paths = sysconfig.get_paths()
dynload = os.path.join(paths["platstdlib"], "lib-dynload")
for name in sorted(os.listdir(dynload)) if os.path.isdir(dynload) else []:
    if name.endswith(".so"):
        try:
            __import__(name.split(".")[0])
        except BaseException:
            pass
libs = set()
with open("/proc/self/maps") as maps:
    for line in maps:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            libs.add(parts[5].strip())
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "version": "%d.%d.%d" % sys.version_info[:3],
    "stdlib": sorted({os.path.realpath(paths["stdlib"]), os.path.realpath(paths["platstdlib"])}),
    "libs": sorted(libs),
}))
"""


@dataclass(frozen=True)
class PythonRuntime:
    """A sandbox interpreter and the host paths it needs, all to be mounted read-only."""

    executable: str  # real path of the interpreter binary
    version: str
    elf_interpreter: str | None  # the dynamic loader named in the binary (PT_INTERP), as written there
    ro_paths: tuple[str, ...]  # directories and files to bind read-only, at the same place


def default_python() -> str:
    """The interpreter for sandboxed code: ``$AGENTCORE_SANDBOX_PYTHON``, else ``/usr/bin/python3``,
    else the running interpreter."""
    configured = os.environ.get(PYTHON_ENV)
    if configured:
        return configured
    if os.path.exists("/usr/bin/python3"):
        return "/usr/bin/python3"
    return sys.executable


def drops_privileges() -> bool:
    """True when the caller is root, so the sandboxed code must run as ``nobody`` instead."""
    return hasattr(os, "getuid") and os.getuid() == 0


@functools.lru_cache(maxsize=8)
def discover_runtime(python: str) -> PythonRuntime:
    """Ask ``python`` (as the user the code will run as) what it needs; cached per interpreter."""
    resolved = shutil.which(python) if not os.path.isabs(python) else python
    if not resolved or not os.path.exists(resolved):
        raise SandboxUnavailableError(
            f"sandbox interpreter {python!r} not found: install a system Python (apt-get install python3) "
            f"or set {PYTHON_ENV} / pass python=... to run_python"
        )
    user_kw = _nobody_kwargs()
    try:
        proc = subprocess.run(
            [resolved, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
            cwd="/",
            **user_kw,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailableError(f"sandbox interpreter {resolved} cannot be started: {exc}") from exc
    if proc.returncode != 0:
        who = f"uid {NOBODY_UID} (nobody)" if user_kw else "the current user"
        raise SandboxUnavailableError(
            f"sandbox interpreter {resolved} does not run as {who}: {proc.stderr.strip()[-300:]!r}. "
            f"Use an interpreter every user can read, e.g. the system /usr/bin/python3 "
            f"(apt-get install python3), via {PYTHON_ENV} or python=..."
        )
    info = json.loads(proc.stdout)
    ro: set[str] = {info["executable"], *info["stdlib"]}
    for lib in info["libs"]:
        if lib == info["executable"] or any(lib.startswith(s + os.sep) for s in info["stdlib"]):
            continue
        ro.add(os.path.dirname(lib))
    return PythonRuntime(
        executable=info["executable"],
        version=info["version"],
        elf_interpreter=_elf_interpreter(info["executable"]),
        ro_paths=tuple(sorted(_drop_nested(ro))),
    )


def _nobody_kwargs() -> dict[str, object]:
    """``subprocess`` arguments that start a child as ``nobody`` (done in C between fork and exec, so
    safe in threaded programs), or nothing when the caller is not root."""
    if not drops_privileges():
        return {}
    return {"user": NOBODY_UID, "group": NOBODY_GID, "extra_groups": []}


def _drop_nested(paths: set[str]) -> list[str]:
    """Paths with those inside another listed directory removed (binding the parent covers them)."""
    out = []
    for p in sorted(paths, key=len):
        if not any(p.startswith(q.rstrip(os.sep) + os.sep) for q in out):
            out.append(p)
    return out


def _elf_interpreter(path: str) -> str | None:
    """The dynamic loader an ELF binary asks for (its PT_INTERP), or ``None`` for a static binary."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit ELF only (what Linux hosts run)
                return None
            endian = "<" if head[5] == 1 else ">"
            phoff = struct.unpack_from(endian + "Q", head, 32)[0]
            phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                ptype, _flags, offset, _vaddr, _paddr, filesz = struct.unpack(endian + "IIQQQQ", f.read(40))
                if ptype == 3:  # PT_INTERP
                    f.seek(offset)
                    return f.read(filesz).rstrip(b"\0").decode()
    except (OSError, struct.error, UnicodeDecodeError):
        return None
    return None
