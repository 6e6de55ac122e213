"""Prompt rendering: the Jinja environment of transformers' ``apply_chat_template`` and ``render_prompt``.

Every chat family has one template in ``prompts/chat/`` (the official Qwen template where there is one);
:func:`render_prompt` renders it exactly as transformers 5 would, byte for byte: same sandboxed
environment, same ``tojson``, same pre-processing of the messages. :func:`render_template` renders any
other template under ``prompts/`` (system prompts) with the same environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

from agentcore.errors import AgentcoreError
from agentcore.families import Family, get_family
from agentcore.messages import Message

__all__ = ["TemplateError", "prompts_dir", "render_prompt", "render_template"]

_PACKAGE_DIR = Path(__file__).resolve().parent


class TemplateError(AgentcoreError, ValueError):
    """A chat template refused the input (or failed on it); the message says what to change."""


def prompts_dir() -> Path:
    """The folder holding agentcore's templates (``chat/*.jinja``, ``system/*.jinja``).

    Installed from a wheel, ``prompts/`` is packaged inside ``agentcore/``; in a source or editable
    checkout it is the repository's ``prompts/`` folder next to the package.
    """
    packaged = _PACKAGE_DIR / "prompts"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "prompts"


# ---------------------------------------------------------------------------------------------------------
# The environment: what transformers 5 builds in ``_compile_jinja_template``.


def _tojson(
    x: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None, sort_keys: bool = False
) -> str:
    """transformers' ``tojson``: insertion order kept, raw non-ASCII, no HTML escaping (unlike Jinja's)."""
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _raise_exception(message: str) -> NoReturn:
    """``raise_exception(msg)`` as templates call it: stop rendering with the template's own message."""
    raise TemplateError(f"the chat template refused the input: {message}")


def _strftime_now(format: str) -> str:
    """``strftime_now(fmt)``: the current local time, for templates that print today's date."""
    return datetime.now().strftime(format)


class _Namespace(jinja2.utils.Namespace):
    """``namespace()`` that refuses ``_``-prefixed attributes, as transformers' does (no CPython internals)."""

    def __init__(*args: Any, **kwargs: Any) -> None:  # noqa: N805 - Jinja's own signature trick (allows self=)
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name in attrs:
            _Namespace._check_name(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name: str, value: Any) -> None:
        _Namespace._check_name(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check_name(name: Any) -> None:
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(
                f"chat templates cannot store underscore-prefixed attributes on a namespace, got {name!r}"
            )


class _TemplateDict:
    """``dict(...)`` in templates: builds dicts without exposing the ``dict`` type itself."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict.fromkeys(*args, **kwargs)


class _GenerationTag(Extension):
    """``{% generation %}…{% endgeneration %}`` as a no-op.

    transformers uses the tag to find the assistant's tokens for training masks; for rendering text the
    block is just its body.
    """

    tags = {"generation"}

    def parse(self, parser: Any) -> list[nodes.Node]:
        next(parser.stream)  # the `generation` token
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    # Cached: building the environment and compiling templates is the expensive part of rendering.
    # auto_reload=False because templates are package data: no stat() of the file on every render.
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_GenerationTag, "jinja2.ext.loopcontrols"],
        loader=jinja2.FileSystemLoader(str(prompts_dir())),
        auto_reload=False,
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = _TemplateDict()
    env.globals["namespace"] = _Namespace
    return env


@lru_cache(maxsize=64)
def _template(name: str) -> jinja2.Template:
    """The compiled template ``name`` (a path relative to :func:`prompts_dir`), compiled once."""
    try:
        return _environment().get_template(name)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"no template {name!r} under {prompts_dir()}") from None


def render_template(name: str, **variables: Any) -> str:
    """Render ``prompts/{name}`` (e.g. ``system/math.jinja``) with the chat-template environment."""
    return _template(name).render(**variables)


# ---------------------------------------------------------------------------------------------------------
# Input: messages and tools in the shapes the official templates read.

_REASONING_KEYS = ("reasoning_content", "thinking", "reasoning")


def _template_message(message: Message | Mapping[str, Any]) -> dict[str, Any]:
    """One message as transformers 5 hands it to the template (a fresh dict; the caller's is untouched).

    Keys whose value is ``None`` are dropped (so ``content: None`` is *undefined* in the template), and
    ``reasoning_content`` / ``thinking`` / ``reasoning`` are aliased: the first one present becomes
    ``reasoning_content`` (and ``thinking`` where that is missing); that is how ``reasoning=`` reaches
    Qwen3's template.
    """
    if type(message) is dict or isinstance(message, Mapping):  # the plain-dict test first: it is the common case
        out = {key: value for key, value in message.items() if value is not None}
    elif isinstance(message, Message):
        out = message.to_template_dict()
    else:
        raise TypeError(f"a message must be a dict or agentcore.Message, got {type(message).__name__}")
    if "reasoning_content" in out or "thinking" in out or "reasoning" in out:
        reasoning = next(out[key] for key in _REASONING_KEYS if key in out)
        # The same expression as transformers' _alias_reasoning_fields (key order and an existing
        # `thinking` kept as they are there).
        out = {"thinking": reasoning, **out, "reasoning_content": reasoning}
    return out


def _tool_schema(tool: Any) -> dict[str, Any]:
    """One tool as the OpenAI function schema ``{"type": "function", "function": {...}}``."""
    if type(tool) is dict and "function" in tool:
        return tool  # the common case, verbatim: templates print it as is
    if not isinstance(tool, Mapping):
        for method in ("openai_schema", "schema"):
            produce = getattr(tool, method, None)
            if callable(produce):
                tool = produce()
                break
        else:
            if callable(tool):
                # A plain Python function: describe it the way @tool would (imported here: tools is heavier).
                from agentcore.tools import as_tool

                tool = as_tool(tool).openai_schema()
    if isinstance(tool, Mapping):
        if "function" in tool or "type" in tool:
            return tool if isinstance(tool, dict) else dict(tool)  # verbatim: templates print it as is
        if "name" in tool:
            return {"type": "function", "function": tool}
    raise TypeError(
        f"cannot use {tool!r} as a tool: expected an OpenAI schema {{'type': 'function', 'function': {{...}}}}, "
        "a function dict {'name', 'description', 'parameters'}, an object with an openai_schema() method, "
        "or a Python function"
    )


def _tool_schemas(tools: Iterable[Any] | None) -> list[dict[str, Any]] | None:
    if not tools:
        return None
    schemas = [_tool_schema(tool) for tool in tools]
    return schemas or None  # an empty list means no tools, exactly like None


# ---------------------------------------------------------------------------------------------------------
# Rendering.


def render_prompt(
    messages: Sequence[Message | Mapping[str, Any]],
    *,
    family: str | Family,
    tools: Iterable[Any] | None = None,
    add_generation_prompt: bool = False,
    **template_kwargs: Any,
) -> str:
    """The prompt text for ``messages`` in the chat format of ``family``, byte-identical to transformers.

    ``messages`` are OpenAI-style dicts (passed on as given, quirks included) or :class:`Message` models,
    mixed freely. ``tools`` are OpenAI function schemas (passed on verbatim), bare function dicts, objects
    with an ``openai_schema()`` method (agentcore tools), or plain Python functions. Extra keyword arguments reach the template as variables:
    ``enable_thinking`` (Qwen3), ``add_vision_id`` (Qwen2.5-VL), ``default_system`` (replaces the family's
    default system prompt, e.g. for the 2024-09 Qwen2.5-Coder's ``"You are a helpful assistant."``).

    Raises :class:`~agentcore.families.UnknownFamilyError` for an unknown family and :class:`TemplateError`
    where the official template itself cannot render the input (it says what to fix).
    """
    fam = family if isinstance(family, Family) else get_family(family)
    template = _template(f"chat/{fam.template}")
    prepared = [_template_message(m) for m in messages]
    schemas = _tool_schemas(tools)
    try:
        # `documents` is always defined, as in transformers (None unless given).
        template_kwargs.setdefault("documents", None)
        return template.render(
            messages=prepared, tools=schemas, add_generation_prompt=add_generation_prompt, **template_kwargs
        )
    except TemplateError:
        raise
    except (jinja2.TemplateError, TypeError, AttributeError, ValueError) as exc:
        raise TemplateError(_explain(exc, fam, prepared)) from exc


def _explain(exc: Exception, family: Family, messages: list[dict[str, Any]]) -> str:
    """Say what in the input made ``family``'s template fail, and how to fix it."""
    name = family.name
    if not messages:
        return f"nothing to render: the {name} chat template needs at least one message"
    if family.tool_format == "qwen3_coder":
        for i, message in enumerate(messages):
            for call in message.get("tool_calls") or ():
                fn = call.get("function", call) if isinstance(call, Mapping) else call
                args = fn.get("arguments") if isinstance(fn, Mapping) else None
                if args is not None and not isinstance(args, Mapping):
                    return (
                        f"message {i}: the {name} template renders tool-call arguments as <parameter=...> "
                        f"blocks, so they must be a dict, not {type(args).__name__} {args!r}; "
                        "decode a JSON string first (json.loads)"
                    )
    last = len(messages) - 1
    for i, message in enumerate(messages):
        role = message.get("role")
        content = message.get("content")
        if family.name == "qwen2.5-vl":
            break  # VL renders missing and list content; its failures are not about content
        if content is None and role != "tool":
            if family.name == "qwq" and role == "assistant" and i != last:
                return (
                    f"message {i} (assistant) has no content: the {name} template strips earlier reasoning "
                    "from every assistant message but the last, so each needs a content string "
                    "(use content='' for a message that only calls tools)"
                )
            if role != "assistant" or not message.get("tool_calls"):
                return f"message {i} ({role}) has no content: the {name} template needs a string (use '')"
        if content is not None and not isinstance(content, str) and family.name not in ("qwen3", "chatml"):
            return (
                f"message {i} ({role}) has {type(content).__name__} content: the {name} template renders only "
                "string content (image and text parts are for qwen2.5-vl)"
            )
    return f"the {name} chat template cannot render these messages: {type(exc).__name__}: {exc}"
