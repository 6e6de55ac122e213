"""The result of parsing one model output, and :func:`parse_output`."""

from __future__ import annotations

from typing import Any, Iterable, Literal

from pydantic import BaseModel, Field

from agentcore.messages import ToolCall

Format = Literal["hermes", "qwen3_coder"]


class ParseProblem(BaseModel):
    """A block of output that looked like a tool call but could not be used.

    ``message`` is feedback for the model (what was wrong, and how a correct call looks in its format);
    ``raw`` is the block's text.
    """

    message: str
    raw: str = ""


class ParsedOutput(BaseModel):
    """Raw model output split into reasoning, visible content and tool calls."""

    reasoning: str | None = None
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    problems: list[ParseProblem] = Field(default_factory=list)


def join_text(pieces: Iterable[str]) -> str | None:
    """How reasoning and content pieces become the final text — the one definition both
    :func:`parse_output` and a stream's consumer use.

    Pieces are concatenated exactly as they appeared (text before, between and after calls keeps its own
    newlines; nothing is inserted), then the whole is stripped; empty means None. Stream deltas may
    therefore carry edge whitespace that only this final strip removes.
    """
    return "".join(pieces).strip() or None


def normalize_format(format: str) -> Format:
    """Accept ``hermes`` / ``qwen3_coder`` (also spelled ``qwen3-coder``)."""
    f = str(format).strip().lower().replace("-", "_")
    if f not in ("hermes", "qwen3_coder"):
        raise ValueError(f"unknown tool-call format {format!r}: expected 'hermes' or 'qwen3_coder'")
    return f  # type: ignore[return-value]


def parse_output(
    text: str, *, format: str = "hermes", tools: Iterable[Any] | None = None, thinking: str = "auto"
) -> ParsedOutput:
    """Parse raw model output into reasoning, content, tool calls and problems.

    ``format`` is ``"hermes"`` (Qwen2.5, Qwen3, QwQ JSON calls) or ``"qwen3_coder"`` (XML calls);
    ``tools`` (OpenAI function schemas or objects with ``openai_schema()``) type the XML parameters.
    ``thinking`` tells what the prompt decided: ``"auto"`` (the policy's rules), ``"open"`` (the prompt
    opened ``<think>``: QwQ) or ``"off"`` (no reasoning unless the output opens ``<think>`` itself).
    Never raises on any text and runs in linear time. It is the stream parser fed everything at once, so
    a stream of the same text, however chunked, adds up to exactly this result.
    """
    from agentcore.parsing.stream import StreamParser

    parser = StreamParser(format=format, tools=tools, thinking=thinking)
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    try:
        parser._advance(text)  # the event-free path: same machine, no per-event models
        parser._finish()
        return parser.result()
    except Exception as e:  # last-resort safety net: a parser bug must not take the agent down
        return ParsedOutput(
            content=text.strip() or None,
            problems=[ParseProblem(message=f"internal parser error ({type(e).__name__}); output kept as text", raw="")],
        )
