"""One run of the agent loop: render → generate → parse → run tools → feed back, until final.

:class:`Run` holds the state of one run (messages, usage, the tool budget, the trace) so that one
:class:`~agentcore.agent.Agent` can run many tasks at once. :meth:`Run.events` is the loop; each step is
three phases: the model's turn, then either a tool turn (calls run concurrently, results go back as tool
messages) or an answer turn (verification; a rejection is feedback and the loop goes on).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agentcore import events as ev
from agentcore.backends.base import BackendError, Completion, GenerationRequest, SamplingParams, Usage
from agentcore.dispatch import ToolBudget, execute_call
from agentcore.families import get_family, reasoning_hint
from agentcore.messages import ImagePart, Message, TextPart, ToolCall, to_message
from agentcore.parsing import ParseProblem
from agentcore.result import RunResult, StepRecord
from agentcore.trace import TraceWriter, read_trace, replay
from agentcore.verification import Verdict, VerificationContext

FINALIZE_PROMPT = (
    "You have reached the step limit. Do not call any more tools: give your final answer now, "
    "based on what you have found so far."
)


@dataclass
class Turn:
    """What one step produced, filled in phase by phase."""

    record: StepRecord
    assistant: Message = field(default_factory=lambda: Message(role="assistant"))
    calls: list[ToolCall] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    finished: dict[str, ev.ToolResult] = field(default_factory=dict)  # resumed calls that already ran
    added: list[Message] = field(default_factory=list)  # messages this step appends to the conversation
    error: str | None = None
    final: bool = False


class Done(BaseModel):
    """The last item of :meth:`Run.events`: carries the RunResult out of the event stream (not an event)."""

    result: RunResult


class Run:
    """The state of one run of an :class:`~agentcore.agent.Agent`; one Agent can run many at once."""

    def __init__(self, agent: Any, task: str, images: Sequence[Any] | None, reference: str | None,
                 resume: str | Path | None, history: Sequence[Any] | None = None):
        self.agent = agent
        self.task = task
        self.reference = reference
        self.resume_state = replay(read_trace(resume)) if resume is not None else None
        if self.resume_state is not None:
            self.task = task or self.resume_state.task
        self.decision: Any = None  # the router's decision, when the agent routes each task
        self.specialist = agent.specialist
        if agent.auto_route:
            from agentcore.router import route
            from agentcore.specialists import get_specialist

            self.decision = route(self.task, images=len(images or ()))
            self.specialist = get_specialist(self.decision.specialist)
        self.backend = agent.backend_for(self.specialist)
        self.family = get_family(agent.family_for(self.backend, self.specialist))
        wants_tools = agent.tool_choice != "none" or agent._tools_arg is not None
        self.tools = agent.tools_for(self.specialist) if wants_tools else {}
        self.budget = ToolBudget()
        self.usage = Usage(calls=0)
        self.steps: list[StepRecord] = []
        self.verifications = 0
        self.verified: bool | None = None
        self.tool_choice = agent.tool_choice
        self.thinking = self._thinking()
        self.run_id = uuid.uuid4().hex[:12]
        self.messages = self.resume_state.messages if self.resume_state else self._initial_messages(images, history)
        trace_path = resume or agent.trace  # opened last: nothing above can leave it open on an error
        self.writer = TraceWriter(trace_path) if trace_path is not None else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def _thinking(self) -> bool | None:
        """Whether this run thinks; ``None`` leaves it to the template (and the model).

        A family that cannot switch thinking decides alone (Qwen2.5 never thinks, QwQ always does).
        Otherwise an explicit ``enable_thinking`` wins (the CLI passes the router's decision there), then
        the router's decision (``specialist="auto"``), then the specialist's policy (``auto`` with no
        opinion means off).
        """
        style = self.family.thinking
        if style == "none":
            return None
        if style == "always":
            return True
        if self.agent.enable_thinking is not None:
            return self.agent.enable_thinking
        if self.decision is not None:
            return bool(self.decision.thinking)
        spec = self.specialist
        return spec.thinking.decide(None) if spec is not None else None

    def _thinking_budget(self) -> int | None:
        if not self.thinking:
            return None
        if self.agent.thinking_budget is not None:
            return self.agent.thinking_budget
        spec = self.specialist
        return spec.thinking.budget if spec is not None else None

    def _initial_messages(self, images: Sequence[Any] | None, history: Sequence[Any] | None) -> list[Message]:
        earlier = [to_message(m) for m in history or ()]
        messages: list[Message] = []
        system = self.agent.system_prompt
        if system is None and earlier and earlier[0].role == "system":
            system = earlier[0].text()  # the conversation's own system message, when the agent sets none
        if system is None and self.specialist is not None:
            system = self.specialist.render_system_prompt(tools=sorted(self.tools))
        if system:
            messages.append(Message(role="system", content=system))
        messages.extend(m for m in earlier if m.role != "system")
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

    def _sampling(self) -> SamplingParams:
        base = SamplingParams()
        spec = self.specialist
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

        parser = StreamParser(format=request.tool_format, tools=request.tools,
                              thinking=reasoning_hint(self.family, self.thinking))
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
        """Every event of the run, in order; the last item is a :class:`Done`."""
        if self.resume_state is not None and self.resume_state.final is not None:
            final = self.resume_state.final
            yield final
            yield Done(result=self._result(final.answer, final.status, final.error))
            return
        if self.resume_state is None:
            yield self.emit(ev.RunStarted(task=self.task, config=self._config()))
        step = self.resume_state.completed_steps if self.resume_state else 0
        pending = self.resume_state.pending_turn if self.resume_state else None
        while step < self.agent.max_steps:
            step += 1
            yield self.emit(ev.StepStarted(step=step))
            turn = Turn(record=StepRecord(index=step))
            async for event in self._model_turn(turn, pending):
                yield event
            pending = None
            if turn.error is not None:
                yield self.emit(ev.FinalAnswer(answer=None, status="error", error=turn.error))
                yield Done(result=self._result(None, "error", turn.error))
                return
            if turn.calls or turn.problems:
                async for event in self._tool_turn(turn):
                    yield event
                continue
            async for event in self._answer_turn(turn):
                yield event
            if turn.final:
                return
        async for event in self._at_max_steps(step):
            yield event

    async def _model_turn(self, turn: Turn, pending: ev.AssistantTurn | None) -> AsyncIterator[Any]:
        """Get the model's output for this step (or, resuming, the output the trace recorded)."""
        record, started = turn.record, time.perf_counter()
        if pending is not None:  # resuming: the model already answered this step
            turn.assistant = Message.model_validate(pending.message)
            turn.calls = list(turn.assistant.tool_calls or [])
            turn.finished = dict(self.resume_state.finished_results) if self.resume_state else {}
            record.raw_output = pending.raw
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
                turn.error = str(exc)
                return
            self.usage = self.usage + completion.usage
            turn.calls, turn.problems = parsed.tool_calls, parsed.problems
            turn.assistant = Message(role="assistant", content=parsed.content, reasoning_content=parsed.reasoning,
                                     tool_calls=turn.calls or None)
            record.raw_output, record.finish_reason, record.usage = (
                completion.text, completion.finish_reason, completion.usage)
            yield self.emit(ev.AssistantTurn(step=record.index, message=turn.assistant.model_dump(mode="json"),
                                             raw=completion.text, usage=completion.usage.model_dump(),
                                             finish_reason=completion.finish_reason))
        record.generate_s = time.perf_counter() - started
        record.reasoning, record.content = turn.assistant.reasoning_content, turn.assistant.content
        record.tool_calls, record.problems = turn.calls, [p.message for p in turn.problems]
        turn.added = [turn.assistant]

    async def _tool_turn(self, turn: Turn) -> AsyncIterator[Any]:
        """Run the step's calls; their results (and unparseable blocks) go back as tool messages."""
        started = time.perf_counter()
        results = await self._run_calls(turn.calls, turn.finished)
        for result in results:
            if result.call_id not in turn.finished:
                yield self.emit(result)
            turn.added.append(Message(role="tool", content=result.content, tool_call_id=result.call_id,
                                      name=result.name))
        turn.added.extend(Message(role="tool", content=problem.message) for problem in turn.problems)
        turn.record.tool_results = results
        turn.record.tools_s = time.perf_counter() - started
        if any(r.ok for r in results) and self.tool_choice != "none":
            self.tool_choice = "auto"  # required/named: satisfied once a tool has run
        yield self._finish_step(turn)

    async def _answer_turn(self, turn: Turn) -> AsyncIterator[Any]:
        """A step without calls: verify the answer; a rejection is feedback, else the run ends."""
        verdicts = await self._verify(turn.assistant.content or "")
        turn.record.verdicts = verdicts
        rejected = [v for v in verdicts if not v.ok]
        if rejected and self.verifications <= self.agent.max_verifications and turn.record.index < self.agent.max_steps:
            feedback = "\n".join(f"- {v.feedback or 'rejected'}" for v in rejected)
            turn.added.append(Message(role="user", content=(
                "Your answer was checked and it is not right yet:\n" + feedback
                + "\nPlease correct it and give the final answer again.")))
            for v in rejected:
                yield self.emit(ev.VerificationFailed(feedback=v.feedback or "rejected"))
            yield self._finish_step(turn)
            return
        if verdicts:
            self.verified = not rejected
        yield self._finish_step(turn)
        answer, reasoning = turn.assistant.content, turn.assistant.reasoning_content
        yield self.emit(ev.FinalAnswer(answer=answer, status="final"))
        yield Done(result=self._result(answer, "final", None, reasoning=reasoning))
        turn.final = True

    def _finish_step(self, turn: Turn) -> ev.StepFinished:
        """Commit the step's messages and record; tell observers; the StepFinished event to emit."""
        from agentcore.plugins import get_plugin_manager

        record = turn.record
        self.messages.extend(turn.added)
        self.steps.append(record)
        get_plugin_manager().hook.agentcore_step_finished(step=record, run={"run_id": self.run_id, "task": self.task})
        payload = {"messages_added": [m.model_dump(mode="json") for m in turn.added],
                   "usage": record.usage.model_dump(), "generate_s": record.generate_s, "tools_s": record.tools_s}
        return self.emit(ev.StepFinished(step=record.index, record=payload))  # type: ignore[return-value]

    def _config(self) -> dict[str, Any]:
        """What the trace's run_started event records: enough to resume the run."""
        return {
            "run_id": self.run_id, "family": self.family.name, "backend": self.backend.name,
            "specialist": getattr(self.specialist, "name", None), "tools": sorted(self.tools),
            "route": self.decision.reason if self.decision is not None else None,
            "max_steps": self.agent.max_steps, "messages": [m.model_dump(mode="json") for m in self.messages],
        }

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
        spec = self.specialist
        # A specialist that does not verify (general, vl) skips it, unless a reference answer is given.
        if not impls or (spec is not None and not spec.verify and self.reference is None):
            return []
        self.verifications += 1
        context = VerificationContext(
            specialist=getattr(self.specialist, "name", None), reference=self.reference,
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
        """The step bound is reached: ``error`` stops; ``finalize`` asks once more, tools off."""
        if self.agent.on_max_steps == "error":
            error = f"the run reached max_steps={self.agent.max_steps} without a final answer"
            yield self.emit(ev.FinalAnswer(answer=None, status="max_steps", error=error))
            yield Done(result=self._result(None, "max_steps", error))
            return
        self.messages.append(Message(role="user", content=FINALIZE_PROMPT))
        request = self._request(finalize=True)
        turn = Turn(record=StepRecord(index=step + 1, prompt=request.prompt))
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
            yield Done(result=self._result(None, "error", str(exc)))
            return
        self.usage = self.usage + completion.usage
        record = turn.record
        record.raw_output, record.content, record.reasoning = completion.text, parsed.content, parsed.reasoning
        record.usage = completion.usage
        turn.added = [Message(role="assistant", content=parsed.content, reasoning_content=parsed.reasoning)]
        yield self._finish_step(turn)
        yield self.emit(ev.FinalAnswer(answer=parsed.content, status="max_steps"))
        yield Done(result=self._result(parsed.content, "max_steps", None, reasoning=parsed.reasoning))

    def _result(self, answer: str | None, status: str, error: str | None, reasoning: str | None = None) -> RunResult:
        result = RunResult(
            run_id=self.run_id, task=self.task, answer=answer, reasoning=reasoning, status=status,  # type: ignore[arg-type]
            error=error, verified=self.verified, specialist=getattr(self.specialist, "name", None),
            steps=self.steps, messages=self.messages, usage=self.usage,
            trace_path=str(self.writer.path) if self.writer is not None else None,
        )
        from agentcore.plugins import get_plugin_manager

        get_plugin_manager().hook.agentcore_run_finished(result=result)
        return result
