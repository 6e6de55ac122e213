"""Extracting the final answer from a math solution.

Order (docs: ``parsing-and-grading.md``): the last ``\\boxed{…}`` (braces nest, escaped ``\\{``/``\\}`` do not
count, ``\\boxed 5`` without braces, ``\\fbox`` counts too); else the last "the answer is X" / "final
answer: X" / "答案是 X" phrase or GSM8K ``#### X`` line (trailing period dropped); else, as a flagged
fallback, the last number in the text. Nothing at all → None.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

__all__ = ["FinalAnswerResult", "extract_final_answer"]


class FinalAnswerResult(BaseModel):
    """An extracted answer and how it was found; ``fallback`` marks the last-number guess."""

    value: str
    method: Literal["boxed", "phrase", "gsm8k", "last_number"]
    fallback: bool = False


_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_PHRASE = re.compile(r"(?:the\s+)?(?:final\s+)?answer\s+is\s*:?|final\s+answer\s*:|答案是|答案为", re.IGNORECASE)
_GSM8K = re.compile(r"^[ \t]*####[ \t]*", re.MULTILINE)
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?|-?\.\d+")


def _boxed_content(text: str, i: int) -> str | None:
    """The argument of the box command ending at ``i``: ``{…}`` with nesting, or a bare token."""
    n = len(text)
    j = i
    while j < n and text[j] in " \t":
        j += 1
    if j < n and text[j] == "{":
        depth = 0
        k = j
        while k < n:
            c = text[k]
            if c == "\\":
                k += 2  # "\{" and "\}" are literal braces, not structure
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[j + 1 : k]
            k += 1
        return None  # never closed
    if j == i:
        return None  # "\boxedx" is another command
    m = re.compile(r"[^\s$]+").match(text, j)
    if not m:
        return None
    return m.group().rstrip(".")


def _clean_phrase(value: str) -> str:
    """The rest of the line after a marker, without wrapping ``$``/``**`` and the sentence's final period."""
    v = value.strip()
    # the answer ends with its sentence ("… is 12. We are done."); "3.5" has no space after the point
    for stop in (". ", "。"):
        cut = v.find(stop)
        if cut != -1:
            v = v[:cut]
    for _ in range(2):
        v = v.strip().strip("*").strip()
        if v.endswith((".", "。")):
            v = v[:-1].rstrip()
        if len(v) >= 2 and v.startswith("$") and v.endswith("$"):
            v = v.strip("$").strip()
        if v.startswith("\\(") and v.endswith("\\)"):
            v = v[2:-2].strip()
    return v


def extract_final_answer(text: str) -> FinalAnswerResult | None:
    """The final answer of ``text`` (see module docs), or None when there is none."""
    if not isinstance(text, str) or not text:
        return None
    last_box: str | None = None
    for m in _BOX.finditer(text):
        content = _boxed_content(text, m.end())
        if content is not None:
            last_box = content
    if last_box is not None:
        return FinalAnswerResult(value=last_box.strip(), method="boxed")

    best: tuple[int, str, Literal["phrase", "gsm8k"]] | None = None
    for pattern, method in ((_PHRASE, "phrase"), (_GSM8K, "gsm8k")):
        for m in pattern.finditer(text):
            line_end = text.find("\n", m.end())
            rest = text[m.end() : line_end if line_end != -1 else len(text)]
            value = _clean_phrase(rest)
            if value and (best is None or m.start() >= best[0]):
                best = (m.start(), value, method)  # type: ignore[assignment]
    if best is not None:
        value = best[1]
        if best[2] == "gsm8k":
            value = value.replace(",", "") if _NUMBER.fullmatch(value) else value
        return FinalAnswerResult(value=value, method=best[2])

    numbers = _NUMBER.findall(text)
    if numbers:
        return FinalAnswerResult(value=numbers[-1].replace(",", ""), method="last_number", fallback=True)
    return None
