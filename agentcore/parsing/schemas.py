"""Tool schemas as the parsers need them: parameter JSON schemas by function name, and typing of
Qwen3-Coder's untyped XML parameter values from those schemas."""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Iterable

__all__ = ["ToolSchemas", "tool_schemas", "coerce_value", "declared_types"]

ToolSchemas = dict[str, dict[str, Any]]
"""Function name → ``properties`` mapping of its parameters schema."""

_TYPE_ALIASES = {
    "int": "integer", "integer": "integer",
    "number": "number", "float": "number", "double": "number",
    "bool": "boolean", "boolean": "boolean",
    "object": "object", "dict": "object",
    "array": "array", "list": "array",
    "string": "string", "str": "string",
    "null": "null", "none": "null",
}
_INT = re.compile(r"[+-]?\d+")


def tool_schemas(tools: Iterable[Any] | None) -> ToolSchemas:
    """Index ``tools`` (OpenAI function dicts, flat ``{name, parameters}`` dicts, or objects with
    ``openai_schema()``) by function name. Entries that do not look like tools are skipped, never fatal."""
    out: ToolSchemas = {}
    for tool in tools or ():
        try:
            spec = tool.openai_schema() if hasattr(tool, "openai_schema") else tool
            if not isinstance(spec, dict):
                continue
            fn = spec.get("function") if isinstance(spec.get("function"), dict) else spec
            name = fn.get("name")
            params = fn.get("parameters") or {}
            props = params.get("properties") if isinstance(params, dict) else None
            if isinstance(name, str):
                out[name] = props if isinstance(props, dict) else {}
        except Exception:  # a broken tool object must not break parsing
            continue
    return out


def declared_types(schema: Any) -> list[str]:
    """The JSON types a parameter schema allows, in declaration order (``type`` string or list,
    ``anyOf``/``oneOf`` branches, ``nullable``); unknown spellings are ignored."""
    out: list[str] = []

    def add(t: Any) -> None:
        norm = _TYPE_ALIASES.get(str(t).lower()) if isinstance(t, str) else None
        if norm and norm not in out:
            out.append(norm)

    def walk(s: Any, depth: int) -> None:
        if not isinstance(s, dict) or depth > 8:
            return
        t = s.get("type")
        if isinstance(t, list):
            for x in t:
                add(x)
        elif t is not None:
            add(t)
        for key in ("anyOf", "oneOf"):
            branches = s.get(key)
            if isinstance(branches, list):
                for b in branches:
                    walk(b, depth + 1)
        if s.get("nullable") is True:
            add("null")

    walk(schema, 0)
    return out


_FAIL = object()


def _as_type(raw: str, t: str) -> Any:
    s = raw.strip()
    if t == "integer":
        if _INT.fullmatch(s):
            return int(s)
        try:
            f = float(s)
        except ValueError:
            return _FAIL
        return int(f) if f.is_integer() else _FAIL
    if t == "number":
        if _INT.fullmatch(s):
            return int(s)
        try:
            return float(s)
        except ValueError:
            return _FAIL
    if t == "boolean":
        low = s.lower()
        return True if low == "true" else False if low == "false" else _FAIL
    if t in ("object", "array"):
        want = dict if t == "object" else list
        for load in (lambda x: json.loads(x, strict=False), ast.literal_eval):
            try:
                v = load(s)
            except Exception:  # ValueError, SyntaxError, RecursionError, MemoryError-free
                continue
            if isinstance(v, want):
                return v
        return _FAIL
    if t == "null":
        return None if s in ("null", "None") else _FAIL
    return _FAIL


def coerce_value(raw: str, schema: Any) -> Any:
    """Type one XML parameter value from its schema. No schema → the string as written; ``null``/``None``
    → None when nullable; otherwise the first declared type the text fits, else the string unchanged
    (the agent's argument validation then reports the mismatch to the model)."""
    if schema is None:
        return raw
    types = declared_types(schema)
    if "null" in types and raw.strip() in ("null", "None"):
        return None
    for t in types:
        if t == "string":
            return raw
        if t == "null":
            continue
        v = _as_type(raw, t)
        if v is not _FAIL:
            return v
    return raw
