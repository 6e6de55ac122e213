"""Answer verification: what a ``agentcore_verify_answer`` hook receives and returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentcore.messages import Message


class VerificationContext(BaseModel):
    """What a verifier may look at besides the task and the answer.

    ``reference`` is the expected answer when the caller runs in evaluation mode (``Agent.run(task,
    reference=...)``); ``specialist`` is the name of the specialist that ran; ``messages`` is the
    conversation so far (tool calls and results included); ``attempt`` counts verifications in this run.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    specialist: str | None = None
    reference: str | None = None
    messages: list[Message] = Field(default_factory=list)
    attempt: int = 1
    metadata: dict[str, Any] = Field(default_factory=dict)


class Verdict(BaseModel):
    """A verifier's judgement. ``ok=False`` rejects the answer; ``feedback`` tells the model what was wrong."""

    ok: bool
    feedback: str | None = None
    verifier: str | None = None  # who judged (filled in by the loop from the plugin name when missing)
