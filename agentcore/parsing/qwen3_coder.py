"""Qwen3-Coder XML tool calls:
``<tool_call><function=NAME><parameter=P>value</parameter></function></tool_call>``.

Values are verbatim text (no XML unescaping) minus one leading and one trailing newline of template padding,
typed from the tool's JSON schema (:func:`agentcore.parsing.schemas.coerce_value`).

Where a value ends is decided by scanning the structure, not by splitting on the first closing tag, because
values (code, docs) may contain ``</parameter>``, ``</function>`` or ``<tool_call>`` as text:

* tags that open a call construct inside a value (``<tool_call>``, ``<function=``, and ``<parameter=`` once
  nested) are stacked and closed by their closing tags, so a complete example call written inside a value
  is skipped as a whole (an opener never closed, like a lone ``<tool_call>`` mention, is dropped from the
  stack when an outer closing tag arrives);
* a closing tag with no opener on the stack ends the value only when structure follows it: for
  ``</parameter>`` another ``<parameter=``, ``</function>``, ``</tool_call>``, ``<tool_call>``,
  ``<function=`` or the end of the text; ``</function>`` / ``</tool_call>`` (a missing ``</parameter>``)
  likewise; otherwise it is text in the value;
* with nothing open, ``<parameter=`` ends a value whose ``</parameter>`` is missing;
* if that scan never settles (an unbalanced tag mention inside the value), a flat scan that ignores nesting
  decides. Nesting is capped, which also keeps hostile input linear.

A value cut by the end of the text is never executed; a function cut after a complete ``</parameter>`` is
accepted with the parameters it has.
"""

from __future__ import annotations

import re
from typing import Any

from agentcore.parsing.blocks import (
    FUNCTION_CLOSE,
    FUNCTION_OPEN,
    NEED_MORE,
    PARAMETER_CLOSE,
    PARAMETER_OPEN,
    TOOL_CALL_CLOSE,
    TOOL_CALL_OPEN,
    BlockResult,
    NeedMore,
    Outcome,
    TextIndex,
    naive_end,
    starts,
)
from agentcore.parsing.lenient_json import skip_ws
from agentcore.parsing.schemas import ToolSchemas, coerce_value

EXAMPLE = (
    "<tool_call>\n<function=FUNCTION_NAME>\n<parameter=PARAMETER_NAME>\nvalue\n</parameter>\n"
    "</function>\n</tool_call>"
)
MAX_NESTING = 6
"""Deepest nesting of example call syntax inside a value (an example call is 3 levels deep)."""

_TAG_NAME = re.compile(r"[^>\n<]*")
_AFTER_VALUE = (PARAMETER_OPEN, FUNCTION_CLOSE, TOOL_CALL_CLOSE, TOOL_CALL_OPEN, FUNCTION_OPEN)
_ALL_TAGS = (PARAMETER_CLOSE, PARAMETER_OPEN, FUNCTION_CLOSE, FUNCTION_OPEN, TOOL_CALL_CLOSE, TOOL_CALL_OPEN)


def problem_message(reason: str) -> str:
    """Feedback for the model: what was wrong, and the format to use instead."""
    return (
        f"Your tool call could not be used: {reason}. Nothing was executed. Write each call exactly like "
        f"this (one <parameter=…> block per argument):\n{EXAMPLE}"
    )


class _Fail(Exception):
    """The block is not a usable call; the message says why."""


def _tag_at(text: str, i: int, tags: tuple[str, ...], final: bool) -> str | None | NeedMore:
    """Which of ``tags`` starts at ``i`` (None if none, NEED_MORE if the text ends inside a prefix)."""
    undecided = False
    for tag in tags:
        hit = starts(text, i, tag, final)
        if hit:
            return tag
        if hit is None:
            undecided = True
    return NEED_MORE if undecided else None


def _tag_name(text: str, i: int, final: bool, what: str) -> tuple[str, int] | NeedMore:
    """Read ``NAME>`` at ``i`` (after ``<function=`` or ``<parameter=``); return the name and the offset
    after ``>``. A newline or ``<`` before ``>`` means a malformed tag."""
    m = _TAG_NAME.match(text, i)
    j = m.end()
    if j >= len(text):
        if not final:
            return NEED_MORE
        raise _Fail(f"the <{what}=…> tag was cut off")
    name = m.group().strip()
    if text[j] != ">" or not name:
        raise _Fail(f"the <{what}=NAME> tag is malformed (it must end with '>' on the same line)")
    return name, j + 1


_KIND = {
    TOOL_CALL_OPEN: "call", TOOL_CALL_CLOSE: "call",
    FUNCTION_OPEN: "function", FUNCTION_CLOSE: "function",
    PARAMETER_OPEN: "parameter", PARAMETER_CLOSE: "parameter",
}
_OPENERS = (TOOL_CALL_OPEN, FUNCTION_OPEN, PARAMETER_OPEN)
# what must follow a closing tag (after whitespace) for it to end the value rather than be text in it
_FOLLOWS = {
    PARAMETER_CLOSE: _AFTER_VALUE,
    FUNCTION_CLOSE: (TOOL_CALL_CLOSE, TOOL_CALL_OPEN, FUNCTION_OPEN),
    TOOL_CALL_CLOSE: (TOOL_CALL_OPEN, FUNCTION_OPEN),
}


def _value_end(text: str, v: int, final: bool, nested: bool) -> tuple[int, int] | NeedMore | None:
    """Find where the value starting at ``v`` ends: ``(value_end, resume_at)``. None if the text ends
    inside the value (final) or, for the nesting scan, if it gave up (too deep).

    The nesting scan keeps a stack of the constructs opened inside the value; a closing tag whose opener
    is on the stack closes it (and any unclosed ones above it: a lone ``<tool_call>`` mention). A closing
    tag with no opener on the stack belongs to the value's own structure, if structure follows it.
    """
    n = len(text)
    stack: list[str] = []
    i = v
    while True:
        lt = text.find("<", i)
        if lt == -1:
            return None if final else NEED_MORE
        tag = _tag_at(text, lt, _ALL_TAGS, final)
        if tag is NEED_MORE:
            return NEED_MORE
        i = lt + 1
        if tag is None:
            continue
        kind = _KIND[tag]
        if tag in _OPENERS:
            if tag == PARAMETER_OPEN and not stack:
                return lt, lt  # missing "</parameter>": the next parameter closes this one
            if not nested:
                return lt, lt  # flat scan: a new "<tool_call>"/"<function=" closes the value implicitly
            stack.append(kind)
            if len(stack) > MAX_NESTING:
                return None
            i = lt + len(tag)
            continue
        if kind in stack:  # closes an example construct written inside the value
            while stack.pop() != kind:
                pass
            i = lt + len(tag)
            continue
        k = skip_ws(text, lt + len(tag))
        if k >= n:
            if not final:
                return NEED_MORE
            return lt, (lt + len(tag) if tag == PARAMETER_CLOSE else lt)
        nxt = _tag_at(text, k, _FOLLOWS[tag], final)
        if nxt is NEED_MORE:
            return NEED_MORE
        if nxt is not None:
            # "</parameter>" ends the value; "</function>" or "</tool_call>" mean it was missing
            return lt, (lt + len(tag) if tag == PARAMETER_CLOSE else lt)
        i = lt + len(tag)  # a closing tag written inside the value


def _parse_value(text: str, v: int, final: bool) -> tuple[int, int] | NeedMore:
    hit = _value_end(text, v, final, nested=True)
    if hit is None:
        hit = _value_end(text, v, final, nested=False)
    if hit is None:
        if not final:
            return NEED_MORE
        raise _Fail("a parameter value was cut off before its </parameter>")
    return hit


def _strip_padding(value: str) -> str:
    """One leading and one trailing newline are the template's padding; the rest is verbatim."""
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value


def parse_function(
    text: str, i: int, final: bool, schemas: ToolSchemas
) -> tuple[str, dict[str, Any], int, bool] | NeedMore:
    """Parse ``<function=NAME>…`` at ``i``; return ``(name, arguments, end, closed)`` where ``closed``
    says whether ``</function>`` was there. Raises :class:`_Fail`."""
    got = _tag_name(text, i + len(FUNCTION_OPEN), final, "function")
    if got is NEED_MORE:
        return NEED_MORE
    name, pos = got
    props = schemas.get(name, {})
    args: dict[str, Any] = {}
    while True:
        k = skip_ws(text, pos)
        if k >= len(text):
            if not final:
                return NEED_MORE
            if not args:
                raise _Fail(f"the call of {name!r} was cut off before its parameters")
            return name, args, len(text), False
        tag = _tag_at(text, k, (PARAMETER_OPEN, FUNCTION_CLOSE, TOOL_CALL_CLOSE, TOOL_CALL_OPEN, FUNCTION_OPEN), final)
        if tag is NEED_MORE:
            return NEED_MORE
        if tag == FUNCTION_CLOSE:
            return name, args, k + len(tag), True
        if tag in (TOOL_CALL_CLOSE, TOOL_CALL_OPEN, FUNCTION_OPEN):
            return name, args, k, False  # "</function>" missing; the enclosing block decides what follows
        if tag is None:
            raise _Fail(f"unexpected text {text[k:k + 30]!r} inside <function={name}> (expected <parameter=…>)")
        got = _tag_name(text, k + len(PARAMETER_OPEN), final, "parameter")
        if got is NEED_MORE:
            return NEED_MORE
        pname, v = got
        hit = _parse_value(text, v, final)
        if hit is NEED_MORE:
            return NEED_MORE
        value_end, pos = hit
        raw = _strip_padding(text[v:value_end])
        args[pname] = coerce_value(raw, props.get(pname)) if pname in props else raw


def parse_block(ix: TextIndex, start: int, final: bool, schemas: ToolSchemas, bare: bool = False) -> Outcome:
    """Parse the block at ``start``: a ``<tool_call>`` block, or (``bare``) a ``<function=…>`` written
    without the ``<tool_call>`` wrapper. A bare function that does not parse is just text."""
    text = ix.text
    if bare:
        try:
            got = parse_function(text, start, final, schemas)
        except _Fail:
            return BlockResult(end=start + len(FUNCTION_OPEN))
        if got is NEED_MORE:
            return NEED_MORE
        name, args, end, closed = got
        if not closed and not args:
            # "<function=NAME>" alone, outside <tool_call>, is a mention rather than a call
            return BlockResult(end=start + len(FUNCTION_OPEN))
        return BlockResult(end=end, calls=[(name, args)])

    body = start + len(TOOL_CALL_OPEN)
    i = skip_ws(text, body)
    if i >= len(text):
        return BlockResult(end=body) if final else NEED_MORE
    first = _tag_at(text, i, (FUNCTION_OPEN, PARAMETER_OPEN), final)
    if first is NEED_MORE:
        return NEED_MORE
    if first is None:
        if text[i] in "{[":
            return _failed(ix, body, final, "it is JSON, but this model's tools use the XML format")
        return BlockResult(end=body)  # a mention of the tag, not a call
    if first == PARAMETER_OPEN:
        return _failed(ix, body, final, "the <parameter=…> blocks must be inside a <function=NAME> block")

    calls: list[tuple[str, dict[str, Any]]] = []
    pos = i
    try:
        while True:
            got = parse_function(text, pos, final, schemas)
            if got is NEED_MORE:
                return NEED_MORE
            name, args, pos, _closed = got
            calls.append((name, args))
            k = skip_ws(text, pos)
            if k >= len(text):
                if not final:
                    return NEED_MORE
                return BlockResult(end=len(text), calls=calls)
            nxt = starts(text, k, FUNCTION_OPEN, final)
            if nxt is None:
                return NEED_MORE
            if not nxt:
                break
            pos = k  # several functions in one block: several calls
    except _Fail as e:
        return _failed(ix, body, final, str(e))
    end = naive_end(ix, pos, final)
    if end is NEED_MORE:
        return NEED_MORE
    return BlockResult(end=end, calls=calls)


def _failed(ix: TextIndex, body: int, final: bool, reason: str) -> Outcome:
    end = naive_end(ix, body, final)
    if end is NEED_MORE:
        return NEED_MORE
    return BlockResult(end=end, problem=problem_message(reason))
