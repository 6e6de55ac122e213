"""Hook implementations of agentcore_sandbox: the ``run_python`` tool.

The tool runs with ``isolation="thread"``: the sandbox already runs the code in its own killable
process tree with its own timeout, so a second forked process around it would only add cost.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from agentcore.hookspecs import hookimpl
from agentcore.tools import tool

from .models import SandboxResult
from .runner import run_python

#: Longest run the model may ask for, and the default.
MAX_TOOL_TIMEOUT_S = 60.0
DEFAULT_TOOL_TIMEOUT_S = 10.0
#: Characters of each stream shown to the model (head and tail kept, middle elided).
TOOL_OUTPUT_CHARS = 4000


def _run_python_tool(
    code: str,
    timeout_s: Annotated[float, Field(gt=0, le=MAX_TOOL_TIMEOUT_S)] = DEFAULT_TOOL_TIMEOUT_S,
) -> str:
    """Run Python code in an isolated sandbox and return its exit code, stdout and stderr.

    The sandbox has no network, no access to host files, and limits on time and memory; each call
    starts fresh (nothing persists between calls). Print whatever you want to see.

    Args:
        code: a complete Python program (Python 3 standard library only).
        timeout_s: seconds before the program is killed.
    """
    return format_result(run_python(code, timeout_s=timeout_s), timeout_s)


run_python_tool = tool(
    _run_python_tool,
    name="run_python",
    isolation="thread",
    # The sandbox kills the run itself at timeout_s; this outer bound only covers sandbox start-up.
    timeout_s=MAX_TOOL_TIMEOUT_S + 15,
)


def format_result(result: SandboxResult, timeout_s: float | None = None, limit: int = TOOL_OUTPUT_CHARS) -> str:
    """The compact text the model sees: exit code, a notice if killed, then non-empty stdout/stderr."""
    lines = [f"exit code: {result.exit_code}"]
    if result.timed_out:
        after = f" after {timeout_s:g} s" if timeout_s is not None else ""
        lines.append(f"TIMED OUT{after}: the program was killed (make it faster or print progress).")
    elif result.killed_reason == "output_limit":
        lines.append("KILLED: too much output (print less).")
    elif result.killed_reason == "memory":
        lines.append("Ran out of memory (the sandbox limits memory).")
    elif result.killed_reason in ("signal", "file_size") and result.signal:
        lines.append(f"Killed by {result.signal}.")
    for label, text, cut in (("stdout", result.stdout, result.stdout_truncated), ("stderr", result.stderr, result.stderr_truncated)):
        if text:
            shown = _clip(text, limit)
            more = " (truncated)" if cut or len(shown) < len(text) else ""
            lines.append(f"{label}{more}:\n{shown.rstrip()}")
    if not result.stdout and not result.stderr:
        lines.append("(no output)")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return f"{text[:head]}\n[... {len(text) - limit} characters elided ...]\n{text[-tail:]}"


@hookimpl
def agentcore_register_tools(register: Any) -> None:
    register(run_python_tool)
