"""agentcore_sandbox: run untrusted Python in a sandbox (bubblewrap namespaces, rlimits, nobody).

``run_python(code, ...) -> SandboxResult`` is the API; the plugin also registers it as the tool
``run_python``. The threat model, isolation levels and how to opt down are in docs/sandbox.md.
"""

from .isolation import IsolationReport, clear_cache, detect
from .models import (
    ISOLATION_ORDER,
    IsolationLevel,
    SandboxInputError,
    SandboxResult,
    SandboxUnavailableError,
)
from .runner import run_python
from .runtime import default_python

__all__ = [
    "ISOLATION_ORDER",
    "IsolationLevel",
    "IsolationReport",
    "SandboxInputError",
    "SandboxResult",
    "SandboxUnavailableError",
    "clear_cache",
    "default_python",
    "detect",
    "run_python",
]
