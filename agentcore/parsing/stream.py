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
(the prompt may have opened the think block), unless the caller says what the prompt decided
(``thinking="open"`` or ``"off"``).
"""

from __future__ import annotations

from typing import Any, Iterable, Union

from agentcore.events import ContentDelta, ParseProblemEvent, ReasoningDelta, ToolCallParsed
from agentcore.messages import ToolCall, new_call_id
from agentcore.parsing import hermes, qwen3_coder
from agentcore.parsing.blocks import (
    FUNCTION_OPEN,
    NEED_MORE,
    TOOL_CALL_CLOSE,
    TOOL_CALL_OPEN,
    BlockResult,
    TextIndex,
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


def _partial_tag_start(text: str, lo: int, tags: tuple[str, ...]) -> int:
    """Where a trailing proper prefix of one of ``tags`` begins (``len(text)`` if none): held back."""
    p = text.rfind("<", max(lo, len(text) - max(map(len, tags)) + 1))
    while p != -1:
        tail = text[p:]
        if any(t.startswith(tail) for t in tags):
            return p
        p = text.rfind("<", max(lo, len(text) - max(map(len, tags)) + 1), p)
    return len(text)


_Record = tuple


def _event(rec: _Record) -> StreamEvent:
    kind = rec[0]
    if kind == "content":
        return ContentDelta(text=rec[1])
    if kind == "reasoning":
        return ReasoningDelta(text=rec[1])
    if kind == "call":
        return ToolCallParsed(call=ToolCall(id=rec[3], name=rec[1], arguments=rec[2]))
    return ParseProblemEvent(message=rec[1], raw=rec[2])


class StreamParser:
    """Feed chunks of model output, get events; :meth:`close` at the end, then :meth:`result`."""

    def __init__(self, format: str = "hermes", tools: Iterable[Any] | None = None, thinking: str = "auto") -> None:
        """``thinking``: ``"auto"``, ``"open"`` or ``"off"``, what the prompt decided about reasoning (see
        :class:`~agentcore.parsing.reasoning.ReasoningSplitter`); with ``"open"`` or ``"off"`` text
        streams at once instead of waiting to learn whether a ``</think>`` comes."""
        self.format = normalize_format(format)
        self._schemas = tool_schemas(tools)
        self._text = ""
        self._final = False
        self._reasoning = ReasoningSplitter(thinking)
        self._pos: int | None = None  # settled offset in the body; None while reasoning is undecided
        self._line_begin = 0  # start of the current line (or of the body)
        self._line_start = True  # is _pos at the start of a line?
        self._fence: Fence | None = None
        self._spans: dict[int, list[tuple[int, int]]] = {}  # line start -> inline code spans
        self._blocked: tuple[int, int] | None = None  # (block start, text length) of the last NEED_MORE
        self._records: list[_Record] = []
        self._pending: list[str] = []  # content settled in this run, not yet emitted

    # -- public API ---------------------------------------------------------------------------------
    def feed(self, chunk: str) -> list[StreamEvent]:
        """Add a chunk; return the events it settled."""
        return [_event(r) for r in self._advance(chunk)]

    def close(self) -> list[StreamEvent]:
        """The text is complete: settle everything (a final unclosed block may become a call here)."""
        return [_event(r) for r in self._finish()]

    def result(self) -> ParsedOutput:
        """The parse of everything fed so far (complete after :meth:`close`)."""
        recs = self._records
        return ParsedOutput(
            reasoning=join_text(r[1] for r in recs if r[0] == "reasoning"),
            content=join_text(r[1] for r in recs if r[0] == "content"),
            tool_calls=[ToolCall(id=r[3], name=r[1], arguments=r[2]) for r in recs if r[0] == "call"],
            problems=[ParseProblem(message=r[1], raw=r[2]) for r in recs if r[0] == "problem"],
        )

    @property
    def events(self) -> list[StreamEvent]:
        """Every event emitted so far."""
        return [_event(r) for r in self._records]

    # -- machinery ----------------------------------------------------------------------------------
    # Internally settled output is kept as plain tuples ("reasoning"|"content", text), ("call", name,
    # arguments), ("problem", message, raw): building pydantic events for parse_output, which does not
    # need them, would dominate the cost of a pathological megabyte with one broken block per 12 bytes.
    def _advance(self, chunk: str) -> list[_Record]:
        if self._final:
            raise RuntimeError("feed() after close()")
        if not chunk:
            return []
        self._text += chunk
        return self._run()

    def _finish(self) -> list[_Record]:
        if self._final:
            return []
        self._final = True
        self._blocked = None
        return self._run()

    def _run(self) -> list[_Record]:
        out: list[_Record] = []
        ix = TextIndex(self._text)
        if self._pos is None:
            step = self._reasoning.step(ix, self._final)
            if step.delta:
                out.append(("reasoning", step.delta))
            if step.body_start is None:
                return self._record(out)
            self._pos = self._line_begin = step.body_start
        self._body(ix, out)
        self._flush(out)
        return self._record(out)

    def _record(self, out: list[_Record]) -> list[_Record]:
        self._records.extend(out)
        return out

    def _content(self, out: list[_Record], a: int, b: int) -> None:
        # pieces are collected and flushed as one delta per run of text: one event per "<" of a
        # pathological input would cost more than the parsing itself
        if b > a:
            self._pending.append(self._text[a:b])

    def _flush(self, out: list[_Record]) -> None:
        if self._pending:
            out.append(("content", "".join(self._pending)))
            self._pending = []

    def _body(self, ix: TextIndex, out: list[_Record]) -> None:
        """Settle as much of the text after the reasoning as possible."""
        text, final = ix.text, self._final
        n = len(text)
        tags = (TOOL_CALL_OPEN, TOOL_CALL_CLOSE, FUNCTION_OPEN) if self.format == "qwen3_coder" else (
            TOOL_CALL_OPEN,
            TOOL_CALL_CLOSE,
        )
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
                hit = ix.first_of(pos, *tags)  # jump straight to the next tag: plain "<" costs nothing
                if hit is None or hit[0] >= line_end:
                    if nl != -1:  # no tag on this line
                        self._content(out, pos, nl + 1)
                        pos, self._line_begin, self._line_start = nl + 1, nl + 1, True
                        continue
                    hold = n if final else _partial_tag_start(text, pos, tags)
                    self._content(out, pos, hold)
                    pos = hold
                    break
                lt, tag = hit
                # a tag outside fences: inline code makes it text. Only a backtick before the tag on
                # its line can open a span around it; then the rest of the line is needed to decide.
                tick = ix.find("`", self._line_begin)
                maybe_code = tick != -1 and tick < lt
                if maybe_code and nl == -1 and not final:
                    self._content(out, pos, lt)
                    pos = lt
                    break
                if maybe_code and self._in_inline_code(ix, lt, line_end):
                    self._content(out, pos, lt + len(tag))
                    pos = lt + len(tag)
                    continue
                self._content(out, pos, lt)
                pos = lt
                if tag == TOOL_CALL_CLOSE:  # a stray closing tag is dropped
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

    def _in_inline_code(self, ix: TextIndex, lt: int, line_end: int) -> bool:
        text, begin = ix.text, self._line_begin
        tick = ix.find("`", begin)  # memoised: a long line with many tags must not be rescanned
        if tick == -1 or tick >= line_end:
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

    def _emit_block(self, out: list[_Record], start: int, res: BlockResult) -> None:
        raw = self._text[start : res.end]
        if res.calls:
            self._flush(out)
        for name, args in res.calls:
            # the id is minted once, so a streamed call and the parse result name the same call
            out.append(("call", name, args, new_call_id()))
        if not res.calls:
            self._content(out, start, res.end)
        if res.problem:
            self._flush(out)
            out.append(("problem", res.problem, raw))
