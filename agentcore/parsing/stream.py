"""Incremental parsing of streamed model output into events.

:class:`StreamParser` is the one parser: :func:`agentcore.parsing.parse_output` feeds it the whole text at
once. It keeps the full text and an offset up to which everything has been settled; each :meth:`feed` tries
to settle more. Every decision is made only when no future text can change it (the block parsers answer
``NEED_MORE`` otherwise), which is why the events of any chunking add up to the same result:

* concatenated :class:`ReasoningDelta` texts, stripped, == ``reasoning``;
* concatenated :class:`ContentDelta` texts, stripped, == ``content``
  (:func:`agentcore.parsing.output.join_text`; deltas may carry edge whitespace that this strip removes);
* :class:`ToolCallParsed` in order == ``tool_calls``; :class:`ParseProblemEvent` == ``problems``.

Text that might still become markup is held back: a trailing prefix of a tag (``<tool_``), a tag whose
meaning depends on the rest of its line (inline code), and the start of a call until its block is complete.
Without a leading ``<think>``, all text is held until ``</think>`` is seen or ruled out by :meth:`close`
(the prompt may have opened the think block).
"""

from __future__ import annotations

from typing import Any, Iterable, Union

from agentcore.events import ContentDelta, ParseProblemEvent, ReasoningDelta, ToolCallParsed
from agentcore.messages import ToolCall
from agentcore.parsing import hermes, qwen3_coder
from agentcore.parsing.blocks import (
    FUNCTION_OPEN,
    NEED_MORE,
    TOOL_CALL_CLOSE,
    TOOL_CALL_OPEN,
    BlockResult,
    TextIndex,
    starts,
)
from agentcore.parsing.markdown import Fence, closes_fence, code_spans, fence_opening, in_spans
from agentcore.parsing.output import ParsedOutput, ParseProblem, join_text, normalize_format
from agentcore.parsing.reasoning import ReasoningSplitter
from agentcore.parsing.schemas import tool_schemas

StreamEvent = Union[ReasoningDelta, ContentDelta, ToolCallParsed, ParseProblemEvent]

_RETRY_CHARS = ">}]"
"""A block that needed more text is re-parsed only once one of these arrives (or the text doubled, or at
close): a block can only complete on a closing bracket or tag, and re-parsing on every character of a
long block would be quadratic. This changes when events come, never what they are."""


class StreamParser:
    """Feed chunks of model output, get events; :meth:`close` at the end, then :meth:`result`."""

    def __init__(self, format: str = "hermes", tools: Iterable[Any] | None = None) -> None:
        self.format = normalize_format(format)
        self._schemas = tool_schemas(tools)
        self._text = ""
        self._final = False
        self._reasoning = ReasoningSplitter()
        self._pos: int | None = None  # settled offset in the body; None while reasoning is undecided
        self._calls_allowed = True
        self._line_begin = 0  # start of the current line (or of the body)
        self._line_start = True  # is _pos at the start of a line?
        self._fence: Fence | None = None
        self._spans: dict[int, list[tuple[int, int]]] = {}  # line start -> inline code spans
        self._blocked: tuple[int, int] | None = None  # (block start, text length) of the last NEED_MORE
        self._events: list[StreamEvent] = []

    # -- public API ---------------------------------------------------------------------------------
    def feed(self, chunk: str) -> list[StreamEvent]:
        """Add a chunk; return the events it settled."""
        if self._final:
            raise RuntimeError("feed() after close()")
        if not chunk:
            return []
        self._text += chunk
        return self._run()

    def close(self) -> list[StreamEvent]:
        """The text is complete: settle everything (a final unclosed block may become a call here)."""
        if self._final:
            return []
        self._final = True
        self._blocked = None
        return self._run()

    def result(self) -> ParsedOutput:
        """The parse of everything fed so far (complete after :meth:`close`)."""
        return ParsedOutput(
            reasoning=join_text(e.text for e in self._events if isinstance(e, ReasoningDelta)),
            content=join_text(e.text for e in self._events if isinstance(e, ContentDelta)),
            tool_calls=[e.call for e in self._events if isinstance(e, ToolCallParsed)],
            problems=[ParseProblem(message=e.message, raw=e.raw) for e in self._events if isinstance(e, ParseProblemEvent)],
        )

    @property
    def events(self) -> list[StreamEvent]:
        """Every event emitted so far."""
        return list(self._events)

    # -- machinery ----------------------------------------------------------------------------------
    def _run(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        ix = TextIndex(self._text)
        if self._pos is None:
            step = self._reasoning.step(ix, self._final)
            if step.delta:
                out.append(ReasoningDelta(text=step.delta))
            if step.body_start is None:
                return self._record(out)
            self._pos = self._line_begin = step.body_start
        self._body(ix, out)
        return self._record(out)

    def _record(self, out: list[StreamEvent]) -> list[StreamEvent]:
        self._events.extend(out)
        return out

    def _content(self, out: list[StreamEvent], a: int, b: int) -> None:
        if b > a:
            out.append(ContentDelta(text=self._text[a:b]))

    def _body(self, ix: TextIndex, out: list[StreamEvent]) -> None:
        """Settle as much of the text after the reasoning as possible."""
        text, final = ix.text, self._final
        n = len(text)
        coder = self.format == "qwen3_coder"
        assert self._pos is not None
        pos = self._pos
        try:
            while pos < n:
                if self._fence is not None:
                    # inside a fenced code block everything is text; only the closing fence matters
                    nl = ix.find("\n", pos)
                    if nl == -1 and not final:
                        break
                    end = n if nl == -1 else nl + 1
                    self._content(out, pos, end)
                    if closes_fence(text[pos : nl if nl != -1 else n], self._fence):
                        self._fence = None
                    pos, self._line_begin, self._line_start = end, end, True
                    continue
                if self._line_start:
                    fence = fence_opening(text, pos, final)
                    if fence is NEED_MORE:
                        break
                    self._line_start = False
                    if fence is not None:
                        self._fence = fence  # type: ignore[assignment]
                        self._line_start = False
                        nl = ix.find("\n", pos)
                        if nl == -1 and not final:
                            self._fence = None  # decide again once the line is complete
                            self._line_start = True
                            break
                        end = n if nl == -1 else nl + 1
                        self._content(out, pos, end)
                        pos, self._line_begin, self._line_start = end, end, True
                        continue
                nl = ix.find("\n", pos)
                line_end = n if nl == -1 else nl
                lt = text.find("<", pos, line_end)
                if lt == -1:
                    end = line_end if nl == -1 else nl + 1
                    self._content(out, pos, end)
                    pos = end
                    if nl != -1:
                        self._line_begin, self._line_start = end, True
                    continue
                tag = self._tag_at(text, lt, coder)
                if tag is NEED_MORE:
                    self._content(out, pos, lt)
                    pos = lt
                    break
                if tag is None:
                    self._content(out, pos, lt + 1)
                    pos = lt + 1
                    continue
                # a tag outside fences: inline code makes it text (needs the rest of the line)
                if nl == -1 and not final:
                    self._content(out, pos, lt)
                    pos = lt
                    break
                if self._in_inline_code(text, lt, line_end):
                    self._content(out, pos, lt + len(tag))
                    pos = lt + len(tag)
                    continue
                self._content(out, pos, lt)
                pos = lt
                if tag == TOOL_CALL_CLOSE:  # a stray closing tag is dropped
                    pos = lt + len(tag)
                    continue
                if not self._calls_allowed:
                    self._content(out, pos, lt + len(tag))
                    pos = lt + len(tag)
                    continue
                if not self._should_retry(lt):
                    break
                res = self._parse_block(ix, lt, tag)
                if res is NEED_MORE:
                    self._blocked = (lt, n)
                    break
                self._blocked = None
                assert isinstance(res, BlockResult)
                self._emit_block(out, lt, res)
                r = text.rfind("\n", lt, res.end)
                if r != -1:
                    self._line_begin = r + 1
                pos = res.end
                self._line_start = False
        finally:
            self._pos = pos

    def _tag_at(self, text: str, lt: int, coder: bool) -> str | None | Any:
        """The markup tag starting at ``lt`` that the body cares about (None: plain ``<``)."""
        tags = (TOOL_CALL_OPEN, TOOL_CALL_CLOSE, FUNCTION_OPEN) if coder else (TOOL_CALL_OPEN, TOOL_CALL_CLOSE)
        undecided = False
        for tag in tags:
            hit = starts(text, lt, tag, self._final)
            if hit:
                return tag
            if hit is None:
                undecided = True
        return NEED_MORE if undecided else None

    def _in_inline_code(self, text: str, lt: int, line_end: int) -> bool:
        begin = self._line_begin
        if text.find("`", begin, line_end) == -1:
            return False
        spans = self._spans.get(begin)
        if spans is None:
            spans = [(begin + a, begin + b) for a, b in code_spans(text[begin:line_end])]
            self._spans = {begin: spans}  # one line at a time: keep memory flat
        return in_spans(spans, lt)

    def _should_retry(self, start: int) -> bool:
        if self._final or self._blocked is None or self._blocked[0] != start:
            return True
        _, seen = self._blocked
        new = self._text[seen:]
        return any(c in new for c in _RETRY_CHARS) or len(self._text) - start >= 2 * (seen - start)

    def _parse_block(self, ix: TextIndex, start: int, tag: str) -> Any:
        if self.format == "hermes":
            return hermes.parse_block(ix, start, self._final)
        return qwen3_coder.parse_block(ix, start, self._final, self._schemas, bare=(tag == FUNCTION_OPEN))

    def _emit_block(self, out: list[StreamEvent], start: int, res: BlockResult) -> None:
        raw = self._text[start : res.end]
        for name, args in res.calls:
            out.append(ToolCallParsed(call=ToolCall(name=name, arguments=args)))
        if not res.calls:
            self._content(out, start, res.end)
        if res.problem:
            out.append(ParseProblemEvent(message=res.problem, raw=raw))
