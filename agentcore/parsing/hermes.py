"""Hermes-style tool calls (Qwen2.5, Qwen3, QwQ): ``<tool_call>{"name": …, "arguments": {…}}</tool_call>``.

Each block is parsed on its own and leniently (see :mod:`agentcore.parsing.lenient_json`): several objects or
a JSON array give several calls, the OpenAI ``{"type": "function", "function": {…}}`` wrapper is unwrapped,
``parameters`` stands in for ``arguments``, missing/null arguments mean ``{}`` and a JSON-encoded string is
decoded once. What is rejected (the block stays text and a problem says why): non-object arguments, a
missing name, and anything that is not JSON.

The block's extent is found by scanning the JSON itself, so a ``</tool_call>`` inside a string value does
not end the block; only when the JSON cannot be read does the block end at the first closing tag.
"""

from __future__ import annotations

from typing import Any

from agentcore.parsing.blocks import (
    FUNCTION_OPEN,
    NEED_MORE,
    TOOL_CALL_OPEN,
    BlockResult,
    Outcome,
    TextIndex,
    naive_end,
    starts,
)
from agentcore.parsing.lenient_json import JsonIncomplete, JsonSyntaxError, scan_value, skip_ws

EXAMPLE = '<tool_call>\n{"name": "<function-name>", "arguments": {"<param>": <value>}}\n</tool_call>'
"""How a correct call looks; quoted in every problem message."""


def problem_message(reason: str) -> str:
    """Feedback for the model: what was wrong, and the format to use instead."""
    return (
        f"Your tool call could not be used: {reason}. Nothing was executed. Write each call as one JSON "
        f'object with a "name" string and an "arguments" object, inside tags:\n{EXAMPLE}'
    )


class CallError(ValueError):
    """A JSON value that is not a usable call (the message says why)."""


def call_from_object(obj: Any) -> tuple[str, dict[str, Any]]:
    """Turn one decoded JSON value into ``(name, arguments)``, applying the leniency rules."""
    if not isinstance(obj, dict):
        raise CallError(f"expected a JSON object, got {_kind(obj)}")
    fn = obj.get("function")
    if isinstance(fn, dict) and "name" not in obj:  # OpenAI {"type": "function", "function": {...}}
        obj = fn
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CallError('the object has no "name" string')
    if "arguments" in obj:
        args = obj["arguments"]
    else:
        args = obj.get("parameters")
    if args is None:
        args = {}
    if isinstance(args, str):
        args = _decode_string_arguments(args)
    if not isinstance(args, dict):
        raise CallError(f'"arguments" of {name.strip()!r} must be a JSON object, got {_kind(args)}')
    return name.strip(), args


def _decode_string_arguments(text: str) -> Any:
    """``"arguments": "{\\"city\\": \\"Paris\\"}"`` is decoded once; a plain string is returned as is
    (and then rejected by the caller as a non-object)."""
    if not text.strip():
        return {}
    try:
        value, end = scan_value(text, 0)
    except (JsonIncomplete, JsonSyntaxError):
        return text
    return value if skip_ws(text, end) == len(text) else text


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value[:60]!r}"
    if isinstance(value, bool) or value is None:
        return repr(value).lower() if value is not None else "null"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def parse_block(ix: TextIndex, start: int, final: bool) -> Outcome:
    """Parse the hermes block whose ``<tool_call>`` tag starts at ``start`` (see :mod:`.blocks`)."""
    text = ix.text
    body = start + len(TOOL_CALL_OPEN)
    i = skip_ws(text, body)
    if i >= len(text):
        # "<tool_call>" at the very end: nothing was attempted (yet)
        return BlockResult(end=body) if final else NEED_MORE
    if text[i] not in "{[":
        wrong = starts(text, i, FUNCTION_OPEN, final)
        if wrong is None:
            return NEED_MORE
        if wrong:
            return _failed(ix, start, body, final, "it uses the XML <function=…> format, this model's tools take JSON")
        # only a mention of the tag ("wrap the JSON in a <tool_call> tag"): the tag is plain text
        return BlockResult(end=body)

    calls: list[tuple[str, dict[str, Any]]] = []
    try:
        value, j = scan_value(text, i)
    except JsonIncomplete:
        if not final:
            return NEED_MORE
        return _failed(ix, start, body, final, "the call was cut off before its JSON was complete")
    except JsonSyntaxError as e:
        return _failed(ix, start, body, final, f"invalid JSON: {e.msg}")
    values = [value]
    cut_off = False
    # several objects in one block are several calls; anything else after the first value is ignored prose
    while True:
        k = skip_ws(text, j)
        if k >= len(text):
            if not final:
                return NEED_MORE
            break
        if text[k] not in "{[":
            break
        try:
            value, j2 = scan_value(text, k)
        except JsonIncomplete:
            if not final:
                return NEED_MORE
            cut_off = True
            break
        except JsonSyntaxError:
            break
        values.append(value)
        j = j2
    try:
        for v in values:
            for obj in v if isinstance(v, list) else [v]:
                calls.append(call_from_object(obj))
    except CallError as e:
        return _failed(ix, start, body, final, str(e))
    if not calls:
        return _failed(ix, start, body, final, "the block holds an empty array, no call")
    end = naive_end(ix, j, final)
    if end is NEED_MORE:
        return NEED_MORE
    problem = problem_message("the last call in the block was cut off") if cut_off else None
    return BlockResult(end=end, calls=calls, problem=problem)


def _failed(ix: TextIndex, start: int, body: int, final: bool, reason: str) -> Outcome:
    end = naive_end(ix, body, final)
    if end is NEED_MORE:
        return NEED_MORE
    return BlockResult(end=end, problem=problem_message(reason))
