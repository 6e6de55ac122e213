"""A tolerant JSON scanner for tool-call bodies written by language models.

Why hand-written instead of ``json`` or a JSON5 package: the policy needs, in one pass, things no single
well-kept library gives together — literal newlines/tabs inside strings, trailing commas and unquoted keys
(JSON5), single-quoted Python dicts with ``True``/``None``, exact big integers, *and* a clear distinction
between "the text was cut off" (:class:`JsonIncomplete`: wait for more text, or report a truncated call) and
"the text is wrong" (:class:`JsonSyntaxError`). The scanner also reports where the first value ends, so the
caller can ignore prose or an extra ``}`` after it. It is a single left-to-right pass with no regex
backtracking (each regex below matches a plain character class), and nesting is capped so hostile input
cannot exhaust the stack.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["JsonIncomplete", "JsonSyntaxError", "scan_value", "skip_ws", "MAX_DEPTH"]

MAX_DEPTH = 100
"""Deepest nesting accepted; real tool arguments are far shallower, pathological input is cut short."""

_WS = " \t\n\r\ufeff"
_STR_DQ = re.compile(r'[^"\\]*')
_STR_SQ = re.compile(r"[^'\\]*")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_LITERALS: dict[str, Any] = {
    "true": True, "false": False, "null": None,
    "True": True, "False": False, "None": None,
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


class JsonIncomplete(Exception):
    """The text ended inside a value: more text could still complete it."""

    def __init__(self, pos: int) -> None:
        super().__init__(f"text ends inside a JSON value (at offset {pos})")
        self.pos = pos


class JsonSyntaxError(Exception):
    """The text is not (lenient) JSON; ``msg`` says what was expected where."""

    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(f"{msg} (at offset {pos})")
        self.msg = msg
        self.pos = pos


def skip_ws(s: str, i: int) -> int:
    """Index of the first non-whitespace character at or after ``i`` (``len(s)`` if none)."""
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    return i


def scan_value(s: str, i: int, depth: int = 0) -> tuple[Any, int]:
    """Read one lenient JSON value starting at ``s[i]`` (after whitespace); return ``(value, end)``.

    Raises :class:`JsonIncomplete` if the text ends before the value does (a number or word touching the
    end counts as incomplete, since more digits or letters could follow) and :class:`JsonSyntaxError`
    otherwise. Nothing after ``end`` is read.
    """
    i = skip_ws(s, i)
    n = len(s)
    if i >= n:
        raise JsonIncomplete(i)
    c = s[i]
    if c == "{":
        return _scan_object(s, i, depth + 1)
    if c == "[":
        return _scan_array(s, i, depth + 1)
    if c == '"' or c == "'":
        return _scan_string(s, i)
    m = _NUMBER.match(s, i)
    if m:
        end = m.end()
        if end >= n:
            raise JsonIncomplete(end)
        text = m.group()
        try:
            if any(ch in text for ch in ".eE"):
                return float(text), end
            return int(text), end
        except ValueError:  # e.g. more than 4300 digits: refuse rather than crash
            raise JsonSyntaxError("number is too long", i) from None
    m = _IDENT.match(s, i)
    if m:
        end = m.end()
        if end >= n:
            raise JsonIncomplete(end)
        word = m.group()
        if word in _LITERALS:
            return _LITERALS[word], end
        raise JsonSyntaxError(f"unexpected word {word[:40]!r} (strings need quotes)", i)
    raise JsonSyntaxError(f"unexpected character {c!r}", i)


def _check_depth(depth: int, i: int) -> None:
    if depth > MAX_DEPTH:
        raise JsonSyntaxError(f"nesting deeper than {MAX_DEPTH} levels", i)


def _scan_object(s: str, i: int, depth: int) -> tuple[dict[str, Any], int]:
    _check_depth(depth, i)
    n = len(s)
    out: dict[str, Any] = {}
    i += 1
    while True:
        i = skip_ws(s, i)
        if i >= n:
            raise JsonIncomplete(i)
        c = s[i]
        if c == "}":
            return out, i + 1
        # key: quoted, or a bare identifier (JSON5 / JavaScript style)
        if c == '"' or c == "'":
            key, i = _scan_string(s, i)
        else:
            m = _IDENT.match(s, i)
            if not m:
                raise JsonSyntaxError(f"expected a property name or '}}', found {c!r}", i)
            if m.end() >= n:
                raise JsonIncomplete(m.end())
            key, i = m.group(), m.end()
        i = skip_ws(s, i)
        if i >= n:
            raise JsonIncomplete(i)
        if s[i] != ":":
            raise JsonSyntaxError(f"expected ':' after property name {key[:40]!r}", i)
        value, i = scan_value(s, i + 1, depth)
        out[key] = value
        i = skip_ws(s, i)
        if i >= n:
            raise JsonIncomplete(i)
        c = s[i]
        if c == ",":
            i += 1  # a trailing comma before '}' is accepted by the loop head
        elif c == "}":
            return out, i + 1
        else:
            raise JsonSyntaxError(f"expected ',' or '}}' after the value of {key[:40]!r}, found {c!r}", i)


def _scan_array(s: str, i: int, depth: int) -> tuple[list[Any], int]:
    _check_depth(depth, i)
    n = len(s)
    out: list[Any] = []
    i += 1
    while True:
        i = skip_ws(s, i)
        if i >= n:
            raise JsonIncomplete(i)
        if s[i] == "]":
            return out, i + 1
        value, i = scan_value(s, i, depth)
        out.append(value)
        i = skip_ws(s, i)
        if i >= n:
            raise JsonIncomplete(i)
        c = s[i]
        if c == ",":
            i += 1
        elif c == "]":
            return out, i + 1
        else:
            raise JsonSyntaxError(f"expected ',' or ']' in an array, found {c!r}", i)


def _scan_string(s: str, i: int) -> tuple[str, int]:
    """A ``"…"`` or ``'…'`` string; raw control characters (literal newlines, tabs) are kept as they are."""
    quote = s[i]
    chunk = _STR_DQ if quote == '"' else _STR_SQ
    n = len(s)
    parts: list[str] = []
    i += 1
    while True:
        m = chunk.match(s, i)
        parts.append(m.group())
        i = m.end()
        if i >= n:
            raise JsonIncomplete(i)
        if s[i] == quote:
            return "".join(parts), i + 1
        # a backslash escape
        if i + 1 >= n:
            raise JsonIncomplete(i + 1)
        e = s[i + 1]
        if e == "u":
            code, i = _scan_unicode(s, i)
            parts.append(code)
            continue
        if e == "\n":  # JSON5 line continuation
            i += 2
            continue
        # unknown escapes keep the character (lenient: "\%" -> "%")
        parts.append(_ESCAPES.get(e, e))
        i += 2


def _scan_unicode(s: str, i: int) -> tuple[str, int]:
    """``\\uXXXX`` at ``s[i]``, joining a UTF-16 surrogate pair into one character."""
    n = len(s)
    if i + 6 > n:
        raise JsonIncomplete(n)
    hexa = s[i + 2 : i + 6]
    try:
        cp = int(hexa, 16)
    except ValueError:
        raise JsonSyntaxError(f"bad \\u escape {hexa!r}", i) from None
    i += 6
    if 0xD800 <= cp <= 0xDBFF and s.startswith("\\u", i):
        if i + 6 > n:
            raise JsonIncomplete(n)
        try:
            low = int(s[i + 2 : i + 6], 16)
        except ValueError:
            low = -1
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)), i + 6
    return chr(cp), i
