"""What the block-level parsers return, and the tag helpers they share.

A *block* starts at an opening tag (``<tool_call>``, or a bare ``<function=`` in the Qwen3-Coder format) at
offset ``start`` of the text. The block parsers are pure functions of ``(text, start, final)``: they answer
:data:`NEED_MORE` when the outcome could still change if more text were appended (``final`` is False), and
otherwise a :class:`BlockResult` that no later text can change. :func:`agentcore.parsing.parse_output` and
:class:`agentcore.parsing.StreamParser` both drive these same functions, which is why a stream, however it
is cut into chunks, adds up to exactly what ``parse_output`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
FUNCTION_OPEN = "<function="
FUNCTION_CLOSE = "</function>"
PARAMETER_OPEN = "<parameter="
PARAMETER_CLOSE = "</parameter>"


class NeedMore:
    """Sentinel: the outcome depends on text that has not arrived yet."""

    _instance: "NeedMore | None" = None

    def __new__(cls) -> "NeedMore":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_MORE"


NEED_MORE = NeedMore()


@dataclass
class BlockResult:
    """The settled outcome of one block ``text[start:end]``.

    ``calls`` holds ``(name, arguments)`` pairs. With no calls the block text stays in the content (a failed
    call, or just a mention of a tag); ``problem`` is the feedback message for the model when the block was
    an attempted call that could not be used (it may accompany calls when only part of a block was usable).
    """

    end: int
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    problem: str | None = None


Outcome = Union[BlockResult, NeedMore]


def starts(text: str, i: int, tag: str, final: bool) -> bool | None:
    """Does ``text[i:]`` start with ``tag``? ``None`` when the text ends inside a prefix of the tag
    (undecided until more text comes); a final text that ends there simply does not match."""
    if text.startswith(tag, i):
        return True
    rest = len(text) - i
    if rest < len(tag) and tag.startswith(text[i:]):
        return False if final else None
    return False


class TextIndex:
    """The text being parsed, with a memo of ``str.find`` answers.

    Why: thousands of unclosed ``<tool_call>`` tags would each search to the end of the text for a closing
    tag that is not there, which is quadratic. Searches come in increasing order of start offset, so the
    last answer per needle settles the next one in O(1) unless the start has passed it.
    """

    __slots__ = ("text", "_memo")

    def __init__(self, text: str) -> None:
        self.text = text
        self._memo: dict[str, tuple[int, int]] = {}

    def find(self, needle: str, i: int) -> int:
        """``text.find(needle, i)``, memoised."""
        hit = self._memo.get(needle)
        if hit is not None:
            start, found = hit
            if start <= i and (found == -1 or found >= i):
                return found
        found = self.text.find(needle, i)
        self._memo[needle] = (i, found)
        return found

    def first_of(self, i: int, *needles: str) -> tuple[int, str] | None:
        """The earliest occurrence at or after ``i`` of any of ``needles``: ``(offset, needle)``, or None."""
        best: tuple[int, str] | None = None
        for needle in needles:
            j = self.find(needle, i)
            if j != -1 and (best is None or j < best[0]):
                best = (j, needle)
        return best


def naive_end(ix: TextIndex, body: int, final: bool) -> int | NeedMore:
    """Where a block that could not be parsed ends: after the first ``</tool_call>``, or before the next
    ``<tool_call>`` (an implicit close), or at the end of a final text.

    Also used after a block's call(s) parsed, from the end of the last one: anything before the
    ``</tool_call>`` (prose, an extra ``}``) belongs to the block and is ignored.
    """
    hit = ix.first_of(body, TOOL_CALL_CLOSE, TOOL_CALL_OPEN)
    if hit is None:
        return len(ix.text) if final else NEED_MORE
    j, tag = hit
    return j + len(tag) if tag == TOOL_CALL_CLOSE else j
