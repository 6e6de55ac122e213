"""The sandbox's public data: isolation levels, the result of a run, and its errors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agentcore.errors import AgentcoreError, ConfigurationError

#: How strongly a run is isolated, weakest first (see docs/sandbox.md):
#:
#: - ``rlimits``: a plain child process with resource limits, a scrubbed environment, a temporary working
#:   directory and (when the caller is root) the unprivileged user ``nobody``. The host file system,
#:   network and processes stay reachable; detached children can outlive the run.
#: - ``namespaces``: as ``rlimits``, inside new PID, network, IPC, UTS and mount namespaces (``unshare``):
#:   no network, nothing outlives the run, the caller's processes are invisible; the host file system is
#:   still visible (read with ``nobody``'s rights).
#: - ``full``: bubblewrap: all of the above, and the file system is only the Python runtime (read-only),
#:   the working directory, a small ``/tmp``, ``/proc`` and ``/dev``.
IsolationLevel = Literal["rlimits", "namespaces", "full"]
ISOLATION_ORDER: tuple[IsolationLevel, ...] = ("rlimits", "namespaces", "full")

KilledReason = Literal["timeout", "cpu_time", "memory", "output_limit", "file_size", "signal"]


class SandboxResult(BaseModel):
    """What one sandboxed run produced and why it ended."""

    stdout: str = ""
    stderr: str = ""
    #: the program's exit status; negative ``-N`` when it was ended by signal ``N`` (as ``subprocess`` does)
    exit_code: int
    #: the run hit its wall-clock or CPU-time limit and was killed
    timed_out: bool = False
    #: why the sandbox (or the kernel, for a limit) ended the program; ``None`` when it exited by itself
    killed_reason: KilledReason | None = None
    #: the signal's name (``"SIGKILL"``, ``"SIGSEGV"``…) when the program died by a signal
    signal: str | None = None
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    #: wall-clock seconds from the call to the result, sandbox set-up included
    duration_s: float = Field(ge=0)
    #: CPU seconds the program used (user + system), when the launcher could report them
    cpu_s: float | None = None
    isolation: IsolationLevel

    @property
    def ok(self) -> bool:
        """True when the program exited by itself with status 0."""
        return self.exit_code == 0 and self.killed_reason is None


class SandboxUnavailableError(AgentcoreError, RuntimeError):
    """The isolation level asked for cannot be had on this machine; the message says what to install."""


class SandboxInputError(ConfigurationError):
    """Bad arguments to the sandbox (a file name that escapes the working directory, a bad limit…)."""
