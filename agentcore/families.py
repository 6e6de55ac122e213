"""Per-family facts: template, tool-call format, stop strings, thinking style; Hugging Face id → family.

A *family* is a chat format: one Jinja template in ``prompts/chat/`` plus the way the model writes tool
calls and reasoning. Several models share a family (Qwen2.5-Coder renders like Qwen2.5).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

ToolFormat = Literal["hermes", "qwen3_coder", "none"]
ThinkingStyle = Literal["none", "hybrid", "always"]


class Family(BaseModel):
    """What agentcore needs to know to talk to one chat format."""

    name: str
    template: str  # file name under prompts/chat/
    tool_format: ToolFormat
    thinking: ThinkingStyle  # hybrid: enable_thinking switches it; always: the prompt opens <think>
    stop: tuple[str, ...] = ("<|im_end|>", "<|endoftext|>")
    supports_images: bool = False


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(name="qwen2.5", template="qwen2.5.jinja", tool_format="hermes", thinking="none"),
        Family(name="qwen2.5-math", template="qwen2.5-math.jinja", tool_format="hermes", thinking="none"),
        Family(
            name="qwen2.5-vl", template="qwen2.5-vl.jinja", tool_format="none", thinking="none", supports_images=True
        ),
        Family(name="qwq", template="qwq.jinja", tool_format="hermes", thinking="always"),
        Family(name="qwen3", template="qwen3.jinja", tool_format="hermes", thinking="hybrid"),
        Family(name="qwen3-coder", template="qwen3-coder.jinja", tool_format="qwen3_coder", thinking="none"),
        # Generic ChatML (SmolLM2 and other ChatML chat models): hermes-style tool calls.
        Family(name="chatml", template="chatml.jinja", tool_format="hermes", thinking="none"),
    )
}


def reasoning_hint(family: Family, enable_thinking: bool | None) -> str:
    """What a prompt in ``family`` decided about reasoning, for the parser (``thinking=``).

    ``"open"``: the generation prompt opened ``<think>`` (QwQ), so output starts inside reasoning;
    ``"off"``: the family does not think, or thinking was switched off, so only an explicit leading
    ``<think>`` opens reasoning; ``"auto"``: the model decides. With ``open`` or ``off`` a stream can
    show text at once instead of holding it until a ``</think>`` is ruled out.
    """
    if family.thinking == "always":
        return "open"
    if family.thinking == "none" or enable_thinking is False:
        return "off"
    return "auto"


class UnknownFamilyError(ValueError):
    """Raised for a family name or model id agentcore cannot place."""


def get_family(name: str) -> Family:
    """The :class:`Family` called ``name`` (``qwen2.5``, ``qwen3``, …); a clear error lists the choices."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownFamilyError(
            f"unknown chat family {name!r}; choose one of: {', '.join(FAMILIES)}"
        ) from None


# Ordered: the first pattern that matches the model id decides. More specific names come first.
_ID_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"qwen3[\w.-]*coder", "qwen3-coder"),
    (r"qwen2(\.5)?-vl|qwen-vl|qvq", "qwen2.5-vl"),
    (r"qwen2(\.5)?-math", "qwen2.5-math"),
    (r"qwq", "qwq"),
    (r"qwen3", "qwen3"),
    (r"qwen2(\.5)?", "qwen2.5"),
    (r"smollm|chatml", "chatml"),
)


def family_for_model(model_id: str) -> str:
    """The chat family of a Hugging Face model id or local path.

    ``Qwen/Qwen2.5-7B-Instruct`` → ``qwen2.5``, ``Qwen/Qwen3-8B`` → ``qwen3``, ``Qwen/QwQ-32B`` → ``qwq``,
    ``Qwen/Qwen3-Coder-30B-A3B-Instruct`` → ``qwen3-coder``, ``…-Math-…`` → ``qwen2.5-math``,
    ``…-VL-…`` → ``qwen2.5-vl``. An id it does not know raises :class:`UnknownFamilyError`, which says
    how to choose a family by hand.
    """
    lowered = model_id.lower()
    for pattern, family in _ID_PATTERNS:
        if re.search(pattern, lowered):
            return family
    raise UnknownFamilyError(
        f"cannot tell the chat family of model {model_id!r}; pass family=... (one of: {', '.join(FAMILIES)}), "
        "or 'chatml' for any other ChatML chat model"
    )
