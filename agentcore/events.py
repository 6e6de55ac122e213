"""Events: what a streaming parse and an agent run emit, in order, as they happen.

Every event is a pydantic model with a ``type`` tag, so a stream can be written to a JSONL trace and read
back (:data:`Event` is the discriminated union).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field

from agentcore.messages import ToolCall


class ReasoningDelta(BaseModel):
    """A piece of the model's reasoning (text inside ``<think>``)."""

    type: Literal["reasoning_delta"] = "reasoning_delta"
    text: str


class ContentDelta(BaseModel):
    """A piece of the visible answer text (never partial tool-call or think markup)."""

    type: Literal["content_delta"] = "content_delta"
    text: str


class ToolCallParsed(BaseModel):
    """A tool-call block closed and parsed into a complete call."""

    type: Literal["tool_call"] = "tool_call"
    call: ToolCall


class ParseProblemEvent(BaseModel):
    """A block of model output that could not be parsed; ``message`` is feedback for the model."""

    type: Literal["parse_problem"] = "parse_problem"
    message: str
    raw: str = ""


class StepStarted(BaseModel):
    type: Literal["step_started"] = "step_started"
    step: int


class ToolResult(BaseModel):
    """The outcome of one tool call: its output, or the error that goes back to the model."""

    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    ok: bool
    content: str
    error_kind: str | None = None  # unknown_tool, invalid_arguments, exception, timeout, retry_budget
    duration_s: float = 0.0


class StepFinished(BaseModel):
    type: Literal["step_finished"] = "step_finished"
    step: int
    record: dict[str, Any] = Field(default_factory=dict)


class AssistantTurn(BaseModel):
    """The model's whole output for one step, parsed: written before its tool calls run (for resume)."""

    type: Literal["assistant_turn"] = "assistant_turn"
    step: int
    message: dict[str, Any]
    raw: str
    usage: dict[str, Any] = Field(default_factory=dict)
    finish_reason: str = "stop"


class VerificationFailed(BaseModel):
    """A verify hook rejected the final answer; ``feedback`` goes back to the model."""

    type: Literal["verification_failed"] = "verification_failed"
    feedback: str


class FinalAnswer(BaseModel):
    """The run ended: its answer and status (``final``, ``max_steps`` or ``error``)."""

    type: Literal["final_answer"] = "final_answer"
    answer: str | None
    status: str
    error: str | None = None


class RunStarted(BaseModel):
    type: Literal["run_started"] = "run_started"
    task: str
    config: dict[str, Any] = Field(default_factory=dict)


Event = Annotated[
    Union[
        RunStarted,
        StepStarted,
        ReasoningDelta,
        ContentDelta,
        ToolCallParsed,
        ParseProblemEvent,
        AssistantTurn,
        ToolResult,
        StepFinished,
        VerificationFailed,
        FinalAnswer,
    ],
    Field(discriminator="type"),
]
