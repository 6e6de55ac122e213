"""Tools: Python functions the model can call, typed from their signatures.

``@tool`` reads a function's signature and docstring and builds a :class:`Tool`: its name, a description,
a pydantic model of the arguments (nested models, ``Literal``/enums, optionals, defaults all work) and the
OpenAI-style function schema the chat templates show the model. Arguments are validated before the call;
a validation error becomes :class:`ToolArgumentsError`, whose ``feedback`` names each bad field, what was
expected and what came, for the model to fix.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import typing
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

Isolation = Literal["auto", "process", "thread"]

#: What ``isolation="auto"`` picks: sync tools run in a child process that a timeout can really kill;
#: async tools run on the event loop, where a timeout cancels them.


class ToolArgumentsError(ValueError):
    """The arguments a model gave a tool failed validation; ``feedback`` says exactly what to fix."""

    def __init__(self, tool_name: str, feedback: str):
        super().__init__(feedback)
        self.tool_name = tool_name
        self.feedback = feedback


class Tool:
    """A callable the model can use, with its argument model and schema.

    Build one with :func:`tool`. ``timeout_s`` bounds each call (``None``: the agent's default);
    ``max_retries`` is how many failed calls (bad arguments, exceptions, timeouts) the model gets
    in one run before the tool stops being run; ``isolation`` says where a sync tool runs:
    ``"process"`` (a forked child, killed on timeout: the default for sync tools on POSIX),
    ``"thread"`` (shares the caller's memory; a timeout stops waiting but cannot stop the thread).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = None,
        max_retries: int = 3,
        isolation: Isolation = "auto",
    ):
        if not callable(fn):
            raise TypeError(f"@tool needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or fn.__name__
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}", self.name):
            raise ValueError(
                f"tool name {self.name!r} is not usable: use letters, digits, '_', '-' or '.', "
                "starting with a letter or '_', at most 64 characters"
            )
        doc = inspect.getdoc(fn) or ""
        summary, param_docs = _parse_docstring(doc)
        self.description = (description if description is not None else summary).strip()
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.is_async = inspect.iscoroutinefunction(fn)
        if isolation == "auto":
            isolation = "thread" if self.is_async or not _can_fork() else "process"
        self.isolation: Isolation = isolation
        self.args_model = _arguments_model(fn, self.name, param_docs)
        self._parameters_schema: dict[str, Any] | None = None
        #: the plugin (or "user") that registered this tool; set by the plugin registry
        self.source: str = "user"

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly (no validation), so decorated functions stay usable."""
        return self.fn(*args, **kwargs)

    def parameters_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments, compact (no pydantic titles) for a small prompt.

        Computed once: building a pydantic JSON schema costs about a millisecond, and the loop shows
        the schema to the model at every step.
        """
        if self._parameters_schema is None:
            self._parameters_schema = _strip_titles(self.args_model.model_json_schema())
        return copy.deepcopy(self._parameters_schema)

    def openai_schema(self) -> dict[str, Any]:
        """The OpenAI function schema: ``{"type": "function", "function": {name, description, parameters}}``."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters_schema(),
            },
        }

    def validate(self, arguments: Any) -> dict[str, Any]:
        """Validate ``arguments`` (a dict from the model) and return the keyword arguments to call with.

        Raises :class:`ToolArgumentsError` whose feedback lists every problem, field by field.
        """
        if not isinstance(arguments, dict):
            raise ToolArgumentsError(
                self.name,
                f"Tool '{self.name}' takes a JSON object of arguments, got {type(arguments).__name__}: "
                f"{_short(arguments)}. Expected parameters: {_describe_parameters(self)}.",
            )
        try:
            model = self.args_model.model_validate(arguments)
        except ValidationError as exc:
            raise ToolArgumentsError(self.name, format_validation_error(self, exc, arguments)) from None
        # Only fields that exist on the model, as the function expects them (nested models stay models).
        return {field: getattr(model, field) for field in type(model).model_fields}


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_s: float | None = None,
    max_retries: int = 3,
    isolation: Isolation = "auto",
) -> Any:
    """Make a function a :class:`Tool`; usable bare (``@tool``) or with options (``@tool(timeout_s=5)``).

    The description is the docstring's first part; parameter descriptions come from its ``Args:``
    section (Google style) or ``:param x:`` lines.
    """

    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool(
            f, name=name, description=description, timeout_s=timeout_s, max_retries=max_retries, isolation=isolation
        )

    return wrap(fn) if fn is not None else wrap


def as_tool(obj: Tool | Callable[..., Any]) -> Tool:
    """A :class:`Tool` for ``obj``: tools pass through, plain functions are wrapped with defaults."""
    return obj if isinstance(obj, Tool) else Tool(obj)


def stringify_result(value: Any) -> str:
    """The text a tool result is shown to the model as: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError):
        return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


# --- building the argument model -----------------------------------------------------------------


def _arguments_model(fn: Callable[..., Any], tool_name: str, param_docs: dict[str, str]) -> type[BaseModel]:
    from pydantic import Field

    signature = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # unresolved forward reference: say which tool
        raise TypeError(f"cannot read the type hints of tool {tool_name!r}: {exc}") from exc
    fields: dict[str, Any] = {}
    for pname, param in signature.parameters.items():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(
                f"tool {tool_name!r} has *{pname}: tools need named parameters so the model knows what to send"
            )
        annotation = hints.get(pname, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (annotation, Field(default, description=param_docs.get(pname)))
    model_name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", tool_name) if part) + "Arguments"
    # extra="forbid": an argument the tool does not take is a mistake the model should hear about.
    return create_model(model_name, __config__=ConfigDict(extra="forbid"), **fields)


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a docstring into its description and ``{param: description}`` (Google or reST style)."""
    params: dict[str, str] = {}
    summary_lines: list[str] = []
    lines = doc.splitlines()
    i = 0
    section: str | None = None
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        header = stripped.rstrip(":").lower()
        if stripped.endswith(":") and header in {"args", "arguments", "parameters", "params"}:
            section, current = "args", None
        elif stripped.endswith(":") and header in {"returns", "return", "raises", "yields", "examples", "example", "note", "notes"}:
            section, current = "other", None
        elif m := re.match(r":param\s+(?:[\w\[\], ]+\s+)?(\w+):\s*(.*)", stripped):
            current = m.group(1)
            params[current] = m.group(2).strip()
            section = "rest"
        elif stripped.startswith(":"):
            section, current = "other", None
        elif section == "args":
            m = re.match(r"(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)", stripped)
            if m and line[: len(line) - len(line.lstrip())] != "" and (current is None or _indent(line) <= _indent_of(lines, current)):
                current = m.group(1)
                params[current] = m.group(2).strip()
            elif current and stripped:
                params[current] = (params[current] + " " + stripped).strip()
        elif section == "rest" and current and stripped:
            params[current] = (params[current] + " " + stripped).strip()
        elif section is None:
            summary_lines.append(line)
        i += 1
    return "\n".join(summary_lines).strip(), params


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _indent_of(lines: list[str], name: str) -> int:
    for line in lines:
        if re.match(rf"\s*{re.escape(name)}\s*(\([^)]*\))?\s*:", line):
            return _indent(line)
    return 10**6


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: _strip_titles(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def _can_fork() -> bool:
    import multiprocessing
    import sys

    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()


# --- validation feedback ------------------------------------------------------------------------


def format_validation_error(tool_: Tool, exc: ValidationError, arguments: dict[str, Any]) -> str:
    """Feedback for the model: one line per bad field, naming what was expected and what came."""
    lines = [f"Invalid arguments for tool '{tool_.name}':"]
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        kind = err["type"]
        if kind == "missing":
            lines.append(f"- {loc}: required, but missing{_expected_suffix(tool_, err['loc'])}.")
        elif kind == "extra_forbidden":
            lines.append(f"- {loc}: not a parameter of this tool (got {_short(err.get('input'))}).")
        else:
            lines.append(f"- {loc}: {err['msg']} (got {_short(err.get('input'))}).")
    lines.append(f"Parameters: {_describe_parameters(tool_)}.")
    lines.append("Call the tool again with corrected arguments.")
    return "\n".join(lines)


def _expected_suffix(tool_: Tool, loc: tuple[Any, ...]) -> str:
    if len(loc) != 1:
        return ""
    prop = tool_.parameters_schema().get("properties", {}).get(str(loc[0]))
    return f" (expected {_type_of(prop)})" if prop else ""


def _describe_parameters(tool_: Tool) -> str:
    schema = tool_.parameters_schema()
    required = set(schema.get("required", []))
    parts = []
    for pname, prop in schema.get("properties", {}).items():
        flag = "required" if pname in required else "optional"
        parts.append(f"{pname} ({_type_of(prop)}, {flag})")
    return ", ".join(parts) or "none"


def _type_of(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "one of " + ", ".join(json.dumps(v) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"])
    if "anyOf" in prop:
        return " or ".join(_type_of(p) for p in prop["anyOf"])
    if "$ref" in prop:
        return "object " + prop["$ref"].rsplit("/", 1)[-1]
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        return f"array of {_type_of(prop['items'])}"
    return str(prop.get("type", "any"))


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."
