"""Just enough Markdown to tell documentation from action: fenced code blocks and inline code spans.

A complete tool call written inside either is an example, not a call. Both checks need only bounded
lookahead (the start of a line for a fence, the rest of the current line for a code span), so a streaming
parser can decide them as soon as that much text has arrived.
"""

from __future__ import annotations

from bisect import bisect_right

from agentcore.parsing.blocks import NEED_MORE, NeedMore

Fence = tuple[str, int]
"""An open fence: its character (backtick or tilde) and run length."""


def fence_opening(text: str, i: int, final: bool) -> Fence | None | NeedMore:
    """Does the line starting at ``i`` open a fenced block (up to 3 spaces, then 3+ backticks or tildes)?"""
    n = len(text)
    j = i
    while j < n and j - i < 3 and text[j] == " ":
        j += 1
    if j >= n:
        return None if final else NEED_MORE
    c = text[j]
    if c not in "`~":
        return None
    k = j
    while k < n and text[k] == c:
        k += 1
    if k >= n and not final:
        return NEED_MORE  # the run (its length matters for the closing fence) may go on
    return (c, k - j) if k - j >= 3 else None


def closes_fence(line: str, fence: Fence) -> bool:
    """Is ``line`` (without its newline) the closing fence of ``fence``?"""
    c, length = fence
    s = line.rstrip(" \t\r")
    stripped = s.lstrip(" ")
    if len(s) - len(stripped) > 3:
        return False
    return len(stripped) >= length and stripped == c * len(stripped)


def code_spans(line: str) -> list[tuple[int, int]]:
    """Inline code spans of one line as ``(start, end)`` offsets of their contents.

    CommonMark pairing: a run of N backticks opens a span closed by the next run of exactly N backticks;
    a run without a partner is literal. Linear: the next run of each length is found from the end.
    """
    runs: list[tuple[int, int]] = []
    i = line.find("`")
    while i != -1:
        j = i
        while j < len(line) and line[j] == "`":
            j += 1
        runs.append((i, j - i))
        i = line.find("`", j)
    nxt: list[int] = [-1] * len(runs)
    last: dict[int, int] = {}
    for idx in range(len(runs) - 1, -1, -1):
        nxt[idx] = last.get(runs[idx][1], -1)
        last[runs[idx][1]] = idx
    spans: list[tuple[int, int]] = []
    idx = 0
    while idx < len(runs):
        partner = nxt[idx]
        if partner == -1:
            idx += 1
            continue
        spans.append((runs[idx][0] + runs[idx][1], runs[partner][0]))
        idx = partner + 1
    return spans


def in_spans(spans: list[tuple[int, int]], offset: int) -> bool:
    """Is ``offset`` inside one of the (sorted, disjoint) ``spans``?"""
    k = bisect_right(spans, (offset, float("inf"))) - 1
    return k >= 0 and spans[k][0] <= offset < spans[k][1]
