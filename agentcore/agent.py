"""The agent: a model, its tools, and the loop that runs a task (the loop itself is :mod:`agentcore.loop`).

One step is one model call. A step whose output has tool calls (or unparseable call blocks) runs the calls
(concurrently), appends their results as tool messages and goes on; a step without calls is a candidate
final answer, which the ``agentcore_verify_answer`` hooks may reject with feedback (the loop goes on). The
loop is bounded by ``max_steps``; what happens at the bound is the ``on_max_steps`` policy: ``finalize``
asks once more with tools disabled for the answer, ``error`` stops with status ``max_steps``.

``stream`` yields every event as it happens; ``arun`` consumes the same events and returns a
:class:`~agentcore.result.RunResult`; ``run`` is the sync form.
"""

from __future__ import annotations

import asyncio
import atexit
import queue
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from agentcore.backends.base import Backend, SamplingParams
from agentcore.dispatch import DEFAULT_TOOL_TIMEOUT_S
from agentcore.families import get_family
from agentcore.loop import FINALIZE_PROMPT, Done
from agentcore.result import RunResult
from agentcore.tools import Tool, as_tool

__all__ = ["Agent", "FINALIZE_PROMPT", "MaxStepsPolicy"]

MaxStepsPolicy = Literal["finalize", "error"]


class Agent:
    """A model, its tools and the loop that connects them.

    Args:
        backend: where completions come from; default: the configured default model (the embedded
            SmolLM2-135M-Instruct when nothing else is configured), or the specialist's model.
        tools: tools (``@tool`` functions or plain functions) or names of plugin tools; ``None`` uses every
            tool the loaded plugins register (filtered by the specialist, when one is given).
        family: the chat family prompts are rendered in; default: the backend's, else the specialist's.
        specialist: a :class:`~agentcore.specialists.Specialist` or its name: system prompt, sampling,
            thinking policy and default tools. ``"auto"`` routes each task (:func:`agentcore.route`) to
            a specialist, with thinking on or off as the router decides.
        max_steps: the most model calls in one run (a hard bound).
        tool_choice: ``"auto"``, ``"none"``, ``"required"`` or a tool name. ``required`` and a name apply
            until a tool has run, then the model may answer.
        on_max_steps: ``"finalize"`` or ``"error"`` (see the module docstring).
        enable_thinking / thinking_budget: thinking on or off, and a token budget for it.
        sampling: overrides of the specialist's (or backend's) sampling settings.
        system_prompt: a system message; overrides the specialist's.
        tool_timeout_s: the time limit of tools that set none.
        max_verifications: how many times a rejected answer is sent back before the run ends unverified.
        act_on_first_call: stop generating at the first ``</tool_call>`` and run it at once.
        trace: a JSONL file every run appends its events to.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        tools: Sequence[Tool | Any | str] | None = None,
        family: str | None = None,
        specialist: Any = None,
        max_steps: int = 10,
        tool_choice: str = "auto",
        on_max_steps: MaxStepsPolicy = "finalize",
        enable_thinking: bool | None = None,
        thinking_budget: int | None = None,
        sampling: SamplingParams | None = None,
        system_prompt: str | None = None,
        tool_timeout_s: float = DEFAULT_TOOL_TIMEOUT_S,
        max_verifications: int = 2,
        act_on_first_call: bool = False,
        trace: str | Path | None = None,
    ):
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        if on_max_steps not in ("finalize", "error"):
            raise ValueError("on_max_steps must be 'finalize' or 'error'")
        #: route each task to a specialist (``specialist="auto"``)
        self.auto_route = specialist == "auto"
        self.specialist = None if self.auto_route else _resolve_specialist(specialist)
        self._backend = backend
        self._tools_arg = tools
        self._family = family
        self.max_steps = max_steps
        self.tool_choice = tool_choice
        self.on_max_steps: MaxStepsPolicy = on_max_steps
        self.enable_thinking = enable_thinking
        self.thinking_budget = thinking_budget
        self.sampling = sampling
        self.system_prompt = system_prompt
        self.tool_timeout_s = tool_timeout_s
        self.max_verifications = max_verifications
        self.act_on_first_call = act_on_first_call
        self.trace = trace
        self.notices: list[str] = []  # one-line notices (e.g. a fallback to the embedded model)
        self._loop_thread: _LoopThread | None = None  # the event loop sync runs use, started on first use

    # --- configuration, resolved lazily so constructing an Agent is cheap -------------------------

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = _default_backend(self.specialist, self.notices)
        return self._backend

    @property
    def family(self) -> str:
        return self.family_for(self.backend, self.specialist)

    @property
    def tools(self) -> dict[str, Tool]:
        """The tools this agent offers, by name."""
        return self.tools_for(self.specialist)

    def backend_for(self, specialist: Any) -> Backend:
        """The backend a run with ``specialist`` uses: the agent's own, else the specialist's model."""
        if self._backend is not None or specialist is self.specialist:
            return self.backend
        return _default_backend(specialist, self.notices)

    def family_for(self, backend: Backend, specialist: Any) -> str:
        """The chat family: the agent's ``family``, else the backend's, else the specialist's."""
        family = self._family or getattr(backend, "family", None)
        if family is None and specialist is not None:
            family = specialist.family
        return get_family(family or "chatml").name

    def tools_for(self, specialist: Any) -> dict[str, Tool]:
        """The tools a run with ``specialist`` offers: the agent's ``tools``, else the plugins' (filtered)."""
        from agentcore.plugins import registered_tools

        if self._tools_arg is None:
            registry = registered_tools()
            if specialist is not None:
                return {n: t for n, t in registry.items() if specialist.selects_tool(n)}
            return registry
        out: dict[str, Tool] = {}
        registry_cache: dict[str, Tool] | None = None
        for item in self._tools_arg:
            if isinstance(item, str):
                registry_cache = registry_cache if registry_cache is not None else registered_tools()
                if item not in registry_cache:
                    raise ValueError(
                        f"no registered tool named {item!r}; registered tools: {', '.join(sorted(registry_cache)) or 'none'}"
                    )
                t = registry_cache[item]
            else:
                t = as_tool(item)
            if t.name in out:
                raise ValueError(f"two tools are named {t.name!r}: give one of them another name")
            out[t.name] = t
        return out

    # --- the public ways to run ----------------------------------------------------------------

    def run(self, task: str, *, images: Sequence[Any] | None = None, reference: str | None = None,
            resume: str | Path | None = None, history: Sequence[Any] | None = None) -> RunResult:
        """Run ``task`` to the end and return the result (sync; safe inside a running event loop).

        Sync runs share one event loop per agent, in a thread of its own, so what backends keep per
        loop (an HTTP connection pool) lasts from one run to the next.
        """
        return self._runner().run(self.arun(task, images=images, reference=reference, resume=resume, history=history))

    async def arun(self, task: str, *, images: Sequence[Any] | None = None, reference: str | None = None,
                   resume: str | Path | None = None, history: Sequence[Any] | None = None) -> RunResult:
        """Run ``task`` to the end and return the result.

        ``history`` is the conversation before the task (messages or OpenAI-style dicts), for a
        multi-turn chat: it comes after the system prompt and before the task. ``images`` go with the
        task; ``reference`` is an expected answer for the verifiers; ``resume`` a trace to go on from.
        """
        result: RunResult | None = None
        async for event in self._events(task, images, reference, resume, history):
            if isinstance(event, Done):
                result = event.result
        assert result is not None
        return result

    def stream(self, task: str, *, images: Sequence[Any] | None = None, reference: str | None = None,
               resume: str | Path | None = None, history: Sequence[Any] | None = None) -> Iterator[Any]:
        """Yield every event of the run as it happens; the last one is a ``FinalAnswer``.

        The run happens on the agent's event loop thread; breaking out of the iteration early stops
        the run at its next event.
        """
        events: queue.Queue[Any] = queue.Queue()  # unbounded: the loop thread never waits on a reader
        stop = threading.Event()
        end = object()

        async def pump() -> None:
            try:
                async for event in self._events(task, images, reference, resume, history):
                    if stop.is_set():
                        break
                    if not isinstance(event, Done):
                        events.put(event)
            except BaseException as exc:  # handed to the consumer
                events.put(exc)
            finally:
                events.put(end)

        future = self._runner().submit(pump())
        try:
            while True:
                item = events.get()
                if item is end:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            future.result()  # the run has closed its trace when stream() returns

    def _runner(self) -> _LoopThread:
        with _RUNNER_LOCK:
            if self._loop_thread is None or not self._loop_thread.alive:
                self._loop_thread = _LoopThread()
            return self._loop_thread

    async def astream(self, task: str, *, images: Sequence[Any] | None = None, reference: str | None = None,
                      resume: str | Path | None = None, history: Sequence[Any] | None = None) -> AsyncIterator[Any]:
        """Async :meth:`stream`."""
        async for event in self._events(task, images, reference, resume, history):
            if not isinstance(event, Done):
                yield event

    # --- the loop ---------------------------------------------------------------------------------

    async def _events(self, task: str, images: Sequence[Any] | None, reference: str | None,
                      resume: str | Path | None, history: Sequence[Any] | None = None) -> AsyncIterator[Any]:
        from agentcore.loop import Run

        run = Run(self, task, images, reference, resume, history)
        try:
            async for event in run.events():
                yield event
        finally:
            run.close()


_RUNNER_LOCK = threading.RLock()
#: every agent loop started in this process, with its thread: joined at exit
_LOOP_THREADS: list[tuple[asyncio.AbstractEventLoop, threading.Thread]] = []


@atexit.register
def _close_loops() -> None:
    # A daemon thread still running when the interpreter finalizes is killed mid-step; if it is then
    # freeing a torch tensor, the C++ unwinding aborts the process ("terminate called without an
    # active exception") after the run's output was already printed. End every loop thread first.
    with _RUNNER_LOCK:
        pairs = list(_LOOP_THREADS)
    for loop, thread in pairs:
        _stop_when_idle(loop, thread)
        thread.join(30)
        if not thread.is_alive() and not loop.is_closed():
            loop.close()


class _LoopThread:
    """An event loop running in a daemon thread of its own: where an agent's sync runs happen.

    ``asyncio.run`` per call would build a new loop each time, and with it everything backends keep
    per loop (an HTTP client and its open connections), and close it again.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="agentcore-agent-loop", daemon=True)
        self.thread.start()
        with _RUNNER_LOCK:
            # Drop loops whose threads have ended; keep (loop, thread), not this object, so that a
            # discarded agent's thread is still joined at exit.
            _LOOP_THREADS[:] = [(loop, thread) for loop, thread in _LOOP_THREADS if thread.is_alive()]
            _LOOP_THREADS.append((self.loop, self.thread))
        # When the agent (and with it this object) is gone, let its thread end too. Not at exit:
        # _close_loops then stops every loop and joins its threads, in order.
        weakref.finalize(self, _stop_when_idle, self.loop, self.thread).atexit = False

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def submit(self, coro: Any) -> Any:
        """Schedule ``coro`` on the loop; a ``concurrent.futures.Future`` of its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Any) -> Any:
        """Run ``coro`` to the end and return its result (or raise its exception)."""
        if threading.current_thread() is self.thread:
            # A sync run started from inside a run on this loop (an async tool calling agent.run):
            # waiting here would block the loop the outer run needs, so this one gets a loop of its own.
            box: dict[str, Any] = {}

            def isolated() -> None:
                try:
                    box["result"] = asyncio.run(coro)
                except BaseException as exc:  # re-raised in the caller's thread
                    box["error"] = exc

            worker = threading.Thread(target=isolated, daemon=True)
            worker.start()
            worker.join()
            if "error" in box:
                raise box["error"]
            return box["result"]
        future = self.submit(coro)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()  # Ctrl-C stops the run too, not only the wait for it
            raise


def _stop_when_idle(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Finish a loop's worker threads, then stop it, so its thread ends (no join: we may be on it)."""
    if loop.is_closed() or not thread.is_alive() or not loop.is_running():
        return

    async def finish() -> None:
        await loop.shutdown_default_executor()
        loop.stop()

    try:
        loop.call_soon_threadsafe(lambda: loop.create_task(finish()))
    except RuntimeError:  # the loop closed meanwhile
        pass


def _resolve_specialist(specialist: Any) -> Any:
    if specialist is None or not isinstance(specialist, str):
        return specialist
    from agentcore.specialists import get_specialist

    return get_specialist(specialist)


def _default_backend(specialist: Any, notices: list[str]) -> Backend:
    """The backend an Agent without one uses: the specialist's model, else the configured default.

    Both come from the shared model pool, so agents that need the same model share one copy.
    """
    from agentcore.pool import default_pool

    if specialist is not None:
        backend, notice = default_pool().backend_for(specialist)
        if notice:
            notices.append(notice)
        return backend
    return default_pool().default_backend()
