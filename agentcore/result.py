"""What a run returns: :class:`RunResult`, one :class:`StepRecord` per model call. JSON-serializable."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agentcore.backends.base import Usage
from agentcore.events import ToolResult
from agentcore.messages import Message, ToolCall
from agentcore.verification import Verdict

RunStatus = Literal["final", "max_steps", "error"]


class StepRecord(BaseModel):
    """One model call and what followed it."""

    index: int
    prompt: str | None = None  # the rendered prompt the model saw
    raw_output: str = ""
    reasoning: str | None = None
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str = "stop"
    generate_s: float = 0.0
    tools_s: float = 0.0


class RunResult(BaseModel):
    """The outcome of :meth:`agentcore.Agent.run`.

    ``status`` is ``final`` (the model answered), ``max_steps`` (the step bound ended the run; with the
    ``finalize`` policy ``answer`` holds the forced last answer) or ``error`` (``error`` says why).
    ``verified`` is True when a verifier accepted the answer, False when verifiers still rejected it at
    the end, None when no verifier gave an opinion.
    """

    run_id: str
    task: str
    answer: str | None = None
    reasoning: str | None = None
    status: RunStatus = "final"
    error: str | None = None
    verified: bool | None = None
    specialist: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    usage: Usage = Field(default_factory=lambda: Usage(calls=0))
    trace_path: str | None = None

    def to_json(self, **kwargs: Any) -> str:
        return self.model_dump_json(**kwargs)

    def __repr__(self) -> str:
        # Short on purpose: the full result (every prompt, message and step) is model_dump()'s job, and
        # asyncio formats a finished task's result into messages of its own, once per run.
        answer = self.answer if self.answer is None or len(self.answer) <= 60 else self.answer[:57] + "..."
        return (f"RunResult(status={self.status!r}, answer={answer!r}, steps={len(self.steps)}, "
                f"verified={self.verified!r}, run_id={self.run_id!r})")
