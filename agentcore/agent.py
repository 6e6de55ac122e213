"""The agent loop: render → generate → parse → run tools → feed results back, until the answer is final.

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
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from agentcore import events as ev
from agentcore.backends.base import Backend, BackendError, Completion, GenerationRequest, SamplingParams, Usage
from agentcore.dispatch import DEFAULT_TOOL_TIMEOUT_S, ToolBudget, execute_call
from agentcore.families import get_family
from agentcore.messages import ImagePart, Message, TextPart, ToolCall
from agentcore.result import RunResult, StepRecord
from agentcore.tools import Tool, as_tool
from agentcore.trace import TraceWriter, read_trace, replay
from agentcore.verification import Verdict, VerificationContext

MaxStepsPolicy = Literal["finalize", "error"]

FINALIZE_PROMPT = (
    "You have reached the step limit. Do not call any more tools: give your final answer now, "
    "based on what you have found so far."
)


class Agent:
    """A model, its tools and the loop that connects them.

    Args:
        backend: where completions come from; default: the configured default model (the embedded
            SmolLM2-135M-Instruct when nothing else is configured), or the specialist's model.
        tools: tools (``@tool`` functions or plain functions) or names of plugin tools; ``None`` uses every
            tool the loaded plugins register (filtered by the specialist, when one is given).
        family: the chat family prompts are rendered in; default: the backend's, else the specialist's.
        specialist: a :class:`~agentcore.specialists.Specialist` or its name: system prompt, sampling,
            thinking policy and default tools.
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
        self.specialist = _resolve_specialist(specialist)
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

    # --- configuration, resolved lazily so constructing an Agent is cheap -------------------------

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = _default_backend(self.specialist, self.notices)
        return self._backend

    @property
    def family(self) -> str:
        family = self._family or getattr(self.backend, "family", None)
        if family is None and self.specialist is not None:
            family = self.specialist.family
        return get_family(family or "chatml").name

    @property
    def tools(self) -> dict[str, Tool]:
        """The tools this agent offers, by name."""
        from agentcore.plugins import registered_tools

        if self._tools_arg is None:
            registry = registered_tools()
            if self.specialist is not None:
                return {n: t for n, t in registry.items() if self.specialist.selects_tool(n)}
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
            resume: str | Path | None = None) -> RunResult:
        """Run ``task`` to the end and return the result (sync; safe inside a running event loop)."""
        coro = self.arun(task, images=images, reference=reference, resume=resume)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        # Called from inside an event loop (a notebook, a server): run in a thread of its own.
        box: dict[str, Any] = {}
        thread = threading.Thread(target=lambda: box.setdefault("r", asyncio.run(coro)), daemon=True)
        thread.start()
        thread.join()
        if "r" not in box:
            raise RuntimeError("the run failed; see the error above")
        return box["r"]

    async def arun(self, task: str, *, images: Sequence[Any] | None = None, reference: str | None = None,
                   resume: str | Path | None = None) -> RunResult:
        """Run ``task`` to the end and return the result."""
        result: RunResult | None = None
        async for event in self._events(task, images, reference, resume):
            if isinstance(event, _Done):
                result = event.result
        assert result is not None
        return result

    def stream(self, task: str, *, images: Sequence[Any] | None = None, reference: str | None = None,
               resume: str | Path | None = None) -> Iterator[Any]:
        """Yield every event of the run as it happens; the last one is a ``FinalAnswer``.

        The run happens in a worker thread with its own event loop; breaking out of the loop early
        stops the run after the current step.
        """
        q: queue.Queue[Any] = queue.Queue(maxsize=1024)
        stop = threading.Event()
        end = object()

        async def pump() -> None:
            try:
                async for event in self._events(task, images, reference, resume):
                    if stop.is_set():
                        break
                    if not isinstance(event, _Done):
                        q.put(event)
            except BaseException as exc:  # handed to the consumer
                q.put(exc)
            finally:
                q.put(end)

        thread = threading.Thread(target=lambda: asyncio.run(pump()), daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is end:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while thread.is_alive():  # drain so the worker never blocks on a full queue
                try:
                    q.get(timeout=0.05)
                except queue.Empty:
                    pass

    async def astream(self, task: str, *, images: Sequence[Any] | None = None, reference: str | None = None,
                      resume: str | Path | None = None) -> AsyncIterator[Any]:
        """Async :meth:`stream`."""
        async for event in self._events(task, images, reference, resume):
            if not isinstance(event, _Done):
                yield event

    # --- the loop ---------------------------------------------------------------------------------

    async def _events(self, task: str, images: Sequence[Any] | None, reference: str | None,
                      resume: str | Path | None) -> AsyncIterator[Any]:
        run = _Run(self, task, images, reference, resume)
        try:
            async for event in run.events():
                yield event
        finally:
            run.close()


class _Done(BaseModel):
    """Internal: carries the RunResult out of the event stream."""

    result: RunResult


class _Run:
    """The state of one run. Kept apart from Agent so one Agent can run many tasks at once."""

    def __init__(self, agent: Agent, task: str, images: Sequence[Any] | None, reference: str | None,
                 resume: str | Path | None):
        self.agent = agent
        self.task = task
        self.reference = reference
        self.backend = agent.backend
        self.family = get_family(agent.family)
        self.tools = agent.tools if agent.tool_choice != "none" or agent._tools_arg is not None else {}
        self.budget = ToolBudget()
        self.usage = Usage(calls=0)
        self.steps: list[StepRecord] = []
        self.verifications = 0
        self.verified: bool | None = None
        self.tool_choice = agent.tool_choice
        self.thinking = self._thinking()
        self.run_id = uuid.uuid4().hex[:12]
        self.resume_state = None
        trace_path = resume or agent.trace
        if resume is not None:
            self.resume_state = replay(read_trace(resume))
            self.task = task or self.resume_state.task
        self.writer = TraceWriter(trace_path) if trace_path is not None else None
        self.messages = self.resume_state.messages if self.resume_state else self._initial_messages(images)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def _thinking(self) -> bool | None:
        """Whether this run thinks; ``None`` leaves it to the template (and the model).

        A family that cannot switch thinking decides alone (Qwen2.5 never thinks, QwQ always does).
        Otherwise an explicit ``enable_thinking`` wins (the CLI passes the router's decision there), then
        the specialist's policy (``auto`` with no opinion means off).
        """
        style = self.family.thinking
        if style == "none":
            return None
        if style == "always":
            return True
        if self.agent.enable_thinking is not None:
            return self.agent.enable_thinking
        spec = self.agent.specialist
        return spec.thinking.decide(None) if spec is not None else None

    def _thinking_budget(self) -> int | None:
        if not self.thinking:
            return None
        if self.agent.thinking_budget is not None:
            return self.agent.thinking_budget
        spec = self.agent.specialist
        return spec.thinking.budget if spec is not None else None

    def _initial_messages(self, images: Sequence[Any] | None) -> list[Message]:
        messages: list[Message] = []
        system = self.agent.system_prompt
        if system is None and self.agent.specialist is not None:
            system = self.agent.specialist.render_system_prompt(tools=sorted(self.tools))
        if system:
            messages.append(Message(role="system", content=system))
        if images:
            parts: list[Any] = [ImagePart(image=img) for img in images]
            parts.append(TextPart(text=self.task))
            messages.append(Message(role="user", content=parts))
        else:
            messages.append(Message(role="user", content=self.task))
        return messages

    def emit(self, event: BaseModel) -> BaseModel:
        if self.writer is not None:
            self.writer.write(event)
        return event

    def _thinking_hint(self) -> str:
        """What the prompt decided about reasoning, so the stream parser can stream at once."""
        if self.family.thinking == "always":
            return "open"  # the generation prompt opened <think> (QwQ)
        if self.family.thinking == "none" or self.thinking is False:
            return "off"
        return "auto"

    def _sampling(self) -> SamplingParams:
        base = SamplingParams()
        spec = self.agent.specialist
        if spec is not None:
            base = spec.sampling_for(bool(self.thinking))
        return base.merged(self.agent.sampling)

    def _request(self, *, finalize: bool = False) -> GenerationRequest:
        from agentcore.prompting import render_prompt

        tools = [] if finalize or self.family.tool_format == "none" else [t.openai_schema() for t in self.tools.values()]
        kwargs: dict[str, Any] = {}
        if self.thinking is not None and self.family.thinking == "hybrid":
            kwargs["enable_thinking"] = self.thinking
        prompt = render_prompt(self.messages, family=self.family, tools=tools or None,
                               add_generation_prompt=True, **kwargs)
        stop = list(self.family.stop)
        if self.agent.act_on_first_call and tools:
            stop.append("</tool_call>")
        return GenerationRequest(
            messages=list(self.messages),
            prompt=prompt,
            family=self.family.name,
            tools=tools,
            tool_format=self.family.tool_format if self.family.tool_format != "none" else "hermes",
            tool_choice="none" if finalize or not tools else self.tool_choice,
            enable_thinking=self.thinking,
            thinking_budget=self._thinking_budget(),
            sampling=self._sampling(),
            stop=stop,
        )

    async def _generate(self, request: GenerationRequest) -> AsyncIterator[Any]:
        """Stream one model call through the streaming parser; the last item is ``(completion, parsed)``."""
        from agentcore.parsing import StreamParser

        parser = StreamParser(format=request.tool_format, tools=request.tools, thinking=self._thinking_hint())
        completion: Completion | None = None
        async for item in self.backend.astream(request):
            if isinstance(item, Completion):
                completion = item
                break
            for event in parser.feed(item):
                yield event
        for event in parser.close():
            yield event
        if completion is None:
            raise BackendError(f"backend {self.backend.name!r} ended its stream without a completion")
        parsed = parser.result()
        if completion.tool_calls is not None or completion.reasoning is not None:
            # A server that parses calls itself (OpenAI chat mode): trust its calls and reasoning.
            parsed = parsed.model_copy(update={
                "tool_calls": list(completion.tool_calls or []) or parsed.tool_calls,
                "reasoning": completion.reasoning if completion.reasoning is not None else parsed.reasoning,
            })
            for call in completion.tool_calls or []:
                yield ev.ToolCallParsed(call=call)
        yield (completion, parsed)

    async def events(self) -> AsyncIterator[Any]:
        agent = self.agent
        if self.resume_state is not None and self.resume_state.final is not None:
            final = self.resume_state.final
            yield final
            yield _Done(result=self._result(final.answer, final.status, final.error))
            return
        if self.resume_state is None:
            yield self.emit(ev.RunStarted(task=self.task, config={
                "run_id": self.run_id, "family": self.family.name, "backend": self.backend.name,
                "specialist": getattr(agent.specialist, "name", None), "tools": sorted(self.tools),
                "max_steps": agent.max_steps, "messages": [m.model_dump(mode="json") for m in self.messages],
            }))
        step = self.resume_state.completed_steps if self.resume_state else 0
        pending = self.resume_state.pending_turn if self.resume_state else None
        while True:
            if step >= agent.max_steps:
                async for event in self._at_max_steps(step):
                    yield event
                return
            step += 1
            yield self.emit(ev.StepStarted(step=step))
            record = StepRecord(index=step)
            started = time.perf_counter()
            if pending is not None:  # resuming: the model already answered this step
                assistant = Message.model_validate(pending.message)
                record.raw_output = pending.raw
                calls, problems, completion_usage = list(assistant.tool_calls or []), [], Usage(calls=0)
                finished = dict(self.resume_state.finished_results) if self.resume_state else {}
                pending = None
            else:
                request = self._request()
                record.prompt = request.prompt
                try:
                    out = None
                    async for item in self._generate(request):
                        if isinstance(item, tuple):
                            out = item
                        else:
                            yield self.emit(item)
                    completion, parsed = out  # type: ignore[misc]
                except BackendError as exc:
                    yield self.emit(ev.FinalAnswer(answer=None, status="error", error=str(exc)))
                    yield _Done(result=self._result(None, "error", str(exc)))
                    return
                completion_usage = completion.usage
                self.usage = self.usage + completion_usage
                calls, problems = parsed.tool_calls, parsed.problems
                assistant = Message(role="assistant", content=parsed.content, reasoning_content=parsed.reasoning,
                                    tool_calls=calls or None)
                record.raw_output = completion.text
                record.finish_reason = completion.finish_reason
                yield self.emit(ev.AssistantTurn(step=step, message=assistant.model_dump(mode="json"),
                                                 raw=completion.text, usage=completion_usage.model_dump(),
                                                 finish_reason=completion.finish_reason))
                finished = {}
            record.generate_s = time.perf_counter() - started
            record.reasoning, record.content = assistant.reasoning_content, assistant.content
            record.tool_calls, record.usage = calls, completion_usage
            record.problems = [p.message for p in problems]
            added: list[Message] = [assistant]

            if calls or problems:
                tools_started = time.perf_counter()
                results = await self._run_calls(calls, finished)
                for result in results:
                    if result.call_id not in finished:
                        yield self.emit(result)
                    added.append(Message(role="tool", content=result.content, tool_call_id=result.call_id,
                                         name=result.name))
                for problem in problems:
                    added.append(Message(role="tool", content=problem.message))
                record.tool_results = results
                record.tools_s = time.perf_counter() - tools_started
                if any(r.ok for r in results) and self.tool_choice != "none":
                    self.tool_choice = "auto"  # required/named: satisfied once a tool has run
                self._finish_step(step, record, added)
                yield self.emit(ev.StepFinished(step=step, record=self._step_payload(record, added)))
                continue

            answer = assistant.content or ""
            verdicts = await self._verify(answer)
            record.verdicts = verdicts
            rejected = [v for v in verdicts if not v.ok]
            if rejected and self.verifications <= agent.max_verifications and step < agent.max_steps:
                feedback = "\n".join(f"- {v.feedback or 'rejected'}" for v in rejected)
                added.append(Message(role="user", content=(
                    "Your answer was checked and it is not right yet:\n" + feedback
                    + "\nPlease correct it and give the final answer again.")))
                for v in rejected:
                    yield self.emit(ev.VerificationFailed(feedback=v.feedback or "rejected"))
                self._finish_step(step, record, added)
                yield self.emit(ev.StepFinished(step=step, record=self._step_payload(record, added)))
                continue
            if verdicts:
                self.verified = not rejected
            self._finish_step(step, record, added)
            yield self.emit(ev.StepFinished(step=step, record=self._step_payload(record, added)))
            final = self.emit(ev.FinalAnswer(answer=assistant.content, status="final"))
            yield final
            yield _Done(result=self._result(assistant.content, "final", None, reasoning=assistant.reasoning_content))
            return

    def _finish_step(self, step: int, record: StepRecord, added: list[Message]) -> None:
        self.messages.extend(added)
        self.steps.append(record)
        from agentcore.plugins import get_plugin_manager

        get_plugin_manager().hook.agentcore_step_finished(step=record, run={"run_id": self.run_id, "task": self.task})

    @staticmethod
    def _step_payload(record: StepRecord, added: list[Message]) -> dict[str, Any]:
        return {"messages_added": [m.model_dump(mode="json") for m in added],
                "usage": record.usage.model_dump(), "generate_s": record.generate_s, "tools_s": record.tools_s}

    async def _run_calls(self, calls: list[ToolCall], finished: dict[str, Any]) -> list[ev.ToolResult]:
        from agentcore.plugins import get_plugin_manager

        async def one(call: ToolCall) -> ev.ToolResult:
            if call.id in finished:  # resumed: this call already ran before the interruption
                return finished[call.id]
            result = await execute_call(call, self.tools, budget=self.budget,
                                        default_timeout_s=self.agent.tool_timeout_s)
            get_plugin_manager().hook.agentcore_tool_finished(call=call, result=result)
            return result

        return list(await asyncio.gather(*(one(c) for c in calls)))

    async def _verify(self, answer: str) -> list[Verdict]:
        from agentcore.plugins import get_plugin_manager

        pm = get_plugin_manager()
        impls = pm.hook.agentcore_verify_answer.get_hookimpls()
        spec = self.agent.specialist
        # A specialist that does not verify (general, vl) skips it, unless a reference answer is given.
        if not impls or (spec is not None and not spec.verify and self.reference is None):
            return []
        self.verifications += 1
        context = VerificationContext(
            specialist=getattr(self.agent.specialist, "name", None), reference=self.reference,
            messages=list(self.messages), attempt=self.verifications,
        )

        def call_all() -> list[Verdict]:
            verdicts = []
            for impl in impls:
                name = pm.get_name(impl.plugin) or "plugin"
                try:
                    out = impl.function(task=self.task, answer=answer, context=context)
                except Exception as exc:  # a broken verifier must not end the run
                    verdicts.append(Verdict(ok=True, feedback=f"verifier failed: {exc}", verifier=name))
                    continue
                if out is None:
                    continue
                verdict = out if isinstance(out, Verdict) else Verdict.model_validate(out)
                if verdict.verifier is None:
                    verdict = verdict.model_copy(update={"verifier": name})
                verdicts.append(verdict)
            return verdicts

        # Verifiers may do real work (sympy, a sandbox): keep the event loop free.
        return await asyncio.to_thread(call_all)

    async def _at_max_steps(self, step: int) -> AsyncIterator[Any]:
        if self.agent.on_max_steps == "error":
            error = f"the run reached max_steps={self.agent.max_steps} without a final answer"
            yield self.emit(ev.FinalAnswer(answer=None, status="max_steps", error=error))
            yield _Done(result=self._result(None, "max_steps", error))
            return
        self.messages.append(Message(role="user", content=FINALIZE_PROMPT))
        request = self._request(finalize=True)
        record = StepRecord(index=step + 1, prompt=request.prompt)
        yield self.emit(ev.StepStarted(step=step + 1))
        try:
            out = None
            async for item in self._generate(request):
                if isinstance(item, tuple):
                    out = item
                elif not isinstance(item, ev.ToolCallParsed):  # tools are off: calls are ignored
                    yield self.emit(item)
            completion, parsed = out  # type: ignore[misc]
        except BackendError as exc:
            yield self.emit(ev.FinalAnswer(answer=None, status="error", error=str(exc)))
            yield _Done(result=self._result(None, "error", str(exc)))
            return
        self.usage = self.usage + completion.usage
        record.raw_output, record.content, record.reasoning = completion.text, parsed.content, parsed.reasoning
        record.usage = completion.usage
        assistant = Message(role="assistant", content=parsed.content, reasoning_content=parsed.reasoning)
        self._finish_step(step + 1, record, [assistant])
        yield self.emit(ev.StepFinished(step=step + 1, record=self._step_payload(record, [assistant])))
        yield self.emit(ev.FinalAnswer(answer=parsed.content, status="max_steps"))
        yield _Done(result=self._result(parsed.content, "max_steps", None, reasoning=parsed.reasoning))

    def _result(self, answer: str | None, status: str, error: str | None, reasoning: str | None = None) -> RunResult:
        result = RunResult(
            run_id=self.run_id, task=self.task, answer=answer, reasoning=reasoning, status=status,  # type: ignore[arg-type]
            error=error, verified=self.verified, specialist=getattr(self.agent.specialist, "name", None),
            steps=self.steps, messages=self.messages, usage=self.usage,
            trace_path=str(self.writer.path) if self.writer is not None else None,
        )
        from agentcore.plugins import get_plugin_manager

        get_plugin_manager().hook.agentcore_run_finished(result=result)
        return result


def _resolve_specialist(specialist: Any) -> Any:
    if specialist is None or not isinstance(specialist, str):
        return specialist
    from agentcore.specialists import get_specialist

    return get_specialist(specialist)


def _default_backend(specialist: Any, notices: list[str]) -> Backend:
    """The backend an Agent without one uses: the specialist's model, else the configured default."""
    if specialist is not None:
        from agentcore.pool import default_pool

        backend, notice = default_pool().backend_for(specialist)
        if notice:
            notices.append(notice)
        return backend
    from agentcore.backends.transformers import TransformersBackend

    return TransformersBackend()
