"""Running tool calls: validate, execute under a timeout that really stops the tool, report.

Every outcome becomes a :class:`~agentcore.events.ToolResult`; nothing here raises for a bad call. Unknown
tools, invalid arguments, exceptions and timeouts all come back as ``ok=False`` results whose ``content``
tells the model what happened and what to do, so the run goes on.

Where a tool runs (see :class:`~agentcore.tools.Tool`): a sync tool with ``isolation="process"`` runs in a
forked child in its own process group; on timeout the whole group is killed (SIGKILL), so the tool and
anything it started really stop. ``"thread"`` tools run in a worker thread: a timeout stops the wait but
cannot stop the thread (use it for tools that manage their own processes, like the sandbox). Async tools
run on the event loop and are cancelled on timeout.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import traceback
from typing import Any

from agentcore.events import ToolResult
from agentcore.messages import ToolCall
from agentcore.tools import Tool, ToolArgumentsError, stringify_result

DEFAULT_TOOL_TIMEOUT_S = 60.0
MAX_RESULT_CHARS = 20_000


class ToolBudget:
    """Per-tool failure counts in one run: a tool that failed ``max_retries`` times is not run again."""

    def __init__(self) -> None:
        self.failures: dict[str, int] = {}

    def exhausted(self, tool: Tool) -> bool:
        return self.failures.get(tool.name, 0) >= tool.max_retries

    def record(self, tool: Tool, ok: bool) -> None:
        if not ok:
            self.failures[tool.name] = self.failures.get(tool.name, 0) + 1


async def execute_call(
    call: ToolCall,
    tools: dict[str, Tool],
    *,
    budget: ToolBudget | None = None,
    default_timeout_s: float = DEFAULT_TOOL_TIMEOUT_S,
) -> ToolResult:
    """Run one call and return its result; never raises for the call's own failures."""
    started = time.perf_counter()

    def result(ok: bool, content: str, error_kind: str | None = None) -> ToolResult:
        if len(content) > MAX_RESULT_CHARS:
            cut = len(content) - MAX_RESULT_CHARS
            content = content[:MAX_RESULT_CHARS] + f"\n[... {cut} more characters cut]"
        return ToolResult(
            call_id=call.id,
            name=call.name,
            ok=ok,
            content=content,
            error_kind=error_kind,
            duration_s=time.perf_counter() - started,
        )

    tool = tools.get(call.name)
    if tool is None:
        available = ", ".join(sorted(tools)) or "none"
        return result(False, f"Error: there is no tool named '{call.name}'. Available tools: {available}.", "unknown_tool")
    if budget is not None and budget.exhausted(tool):
        return result(
            False,
            f"Error: tool '{tool.name}' failed {tool.max_retries} times in this run and will not be run again. "
            "Answer with what you have, or use another tool.",
            "retry_budget",
        )
    try:
        kwargs = tool.validate(call.arguments)
    except ToolArgumentsError as exc:
        if budget is not None:
            budget.record(tool, False)
        return result(False, exc.feedback, "invalid_arguments")

    timeout = tool.timeout_s if tool.timeout_s is not None else default_timeout_s
    try:
        if tool.is_async:
            value = await asyncio.wait_for(tool.fn(**kwargs), timeout)
            text = stringify_result(value)
        elif tool.isolation == "process":
            text = await asyncio.to_thread(run_in_child, tool, kwargs, timeout)
        else:
            value = await asyncio.wait_for(_in_daemon_thread(tool.fn, kwargs), timeout)
            text = stringify_result(value)
    except (asyncio.TimeoutError, ToolTimeout):
        if budget is not None:
            budget.record(tool, False)
        return result(
            False,
            f"Error: tool '{tool.name}' did not finish within {timeout:g} s and was stopped. "
            "Try smaller input or a different approach.",
            "timeout",
        )
    except ToolCrashed as exc:
        if budget is not None:
            budget.record(tool, False)
        return result(False, f"Error: tool '{tool.name}' failed: {exc}", "exception")
    except Exception as exc:  # the tool's own exception: its message, not a traceback
        if budget is not None:
            budget.record(tool, False)
        return result(False, f"Error: tool '{tool.name}' failed: {_describe(exc)}", "exception")
    if budget is not None:
        budget.record(tool, True)
    return result(True, text)


def _in_daemon_thread(fn: Any, kwargs: dict[str, Any]) -> asyncio.Future[Any]:
    """Run ``fn(**kwargs)`` in a daemon thread of its own; the future gets its result.

    Not ``asyncio.to_thread``: the event loop joins its executor's threads when it closes, so one
    stuck thread tool would hang the end of the run after its timeout had already been reported.
    A daemon thread is abandoned instead (a thread cannot be killed: use process isolation for that).
    """
    import threading

    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def work() -> None:
        try:
            value, ok = fn(**kwargs), True
        except BaseException as exc:  # handed to the awaiting coroutine
            value, ok = exc, False
        try:
            loop.call_soon_threadsafe(settle, ok, value)
        except RuntimeError:  # the loop closed while we ran: nobody is waiting any more
            pass

    threading.Thread(target=work, name=f"agentcore-tool-{getattr(fn, '__name__', 'tool')}", daemon=True).start()
    return future


def _describe(exc: BaseException) -> str:
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class ToolTimeout(Exception):
    """A tool running in a child process ran past its timeout and was killed."""


class ToolCrashed(Exception):
    """A tool's child process raised or died; the message says how."""


def run_in_child(tool: Tool, kwargs: dict[str, Any], timeout_s: float) -> str:
    """Run a sync tool in a forked child (own process group); kill the group on timeout.

    Only text crosses back (the result is stringified in the child), so results need not pickle.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child_main, args=(tool, kwargs, writer), daemon=True)
    process.start()
    writer.close()
    try:
        if not reader.poll(timeout_s):
            raise ToolTimeout()
        try:
            status, payload = reader.recv()
        except EOFError:
            process.join(1)
            code = process.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise ToolCrashed(f"the tool's process died ({how}) without returning a result") from None
        if status == "ok":
            return payload
        raise ToolCrashed(payload)
    finally:
        _kill_group(process.pid)
        process.join(1)
        reader.close()


def _child_main(tool: Tool, kwargs: dict[str, Any], writer: Any) -> None:
    # Own process group, so a timeout kills whatever the tool started too.
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    try:
        value = tool.fn(**kwargs)
        writer.send(("ok", stringify_result(value)))
    except BaseException as exc:  # report any failure as text; the child is exiting anyway
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {tb[-1].name}, line {tb[-1].lineno})" if tb else ""
        writer.send(("error", _describe(exc) + where))
    finally:
        writer.close()
        os._exit(0)


def _kill_group(pid: int | None) -> None:
    if pid is None:
        return
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
