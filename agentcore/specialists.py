"""Specialists: who takes a task: its models, chat format, sampling, thinking policy, system prompt and tools.

A :class:`Specialist` is plain configuration (a pydantic model), so plugins can build, copy and replace
them. Four are built in:

``general``  Qwen3, every registered tool, thinking when the task needs it.
``coder``    Qwen2.5-Coder (Qwen3-Coder at the largest tier), the sandbox and code-analysis tools.
``math``     Qwen3 (its thinking mode beats Qwen2.5-Math, and it calls tools), the sympy tools, and the
             final answer is verified.
``vl``       Qwen2.5-VL for tasks with images; no tools (the VL chat format has no tool calls).

Plugins add specialists, or replace a built-in one by reusing its name, through the
``agentcore_register_specialists`` hook; :func:`all_specialists` merges them.

Sampling defaults are Qwen's recommendations: Qwen3 thinking 0.6 / 0.95 / top-k 20, Qwen3 non-thinking
0.7 / 0.8 / 20, Qwen2.5 (and Qwen2.5-Coder/-VL, Qwen3-Coder) 0.7 / 0.8 / 20 with repetition penalty 1.05.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agentcore.backends.base import SamplingParams
from agentcore.errors import ConfigurationError
from agentcore.families import FAMILIES, family_for_model, get_family

ThinkingMode = Literal["off", "on", "auto"]

#: Qwen3's recommended sampling in thinking mode.
QWEN3_THINKING = SamplingParams(temperature=0.6, top_p=0.95, top_k=20)
#: Qwen3's recommended sampling without thinking.
QWEN3_NON_THINKING = SamplingParams(temperature=0.7, top_p=0.8, top_k=20)
#: Qwen2.5's generation_config (also Qwen2.5-Coder, Qwen2.5-VL and Qwen3-Coder).
QWEN25 = SamplingParams(temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05)


class ThinkingPolicy(BaseModel):
    """When the model thinks before answering.

    ``off``: never; ``on``: always; ``auto``: when the router says the task needs it (multi-step
    reasoning, analysis, proofs). ``budget`` caps the thinking tokens (``None``: no cap).
    """

    model_config = ConfigDict(frozen=True)

    mode: ThinkingMode = "auto"
    budget: int | None = Field(default=None, gt=0)

    def decide(self, routed: bool | None) -> bool:
        """Whether to think, given the router's opinion (``None`` when no router ran: auto means off)."""
        if self.mode == "on":
            return True
        if self.mode == "off":
            return False
        return bool(routed)


class Specialist(BaseModel):
    """A specialist's configuration.

    ``models`` maps a size tier (``"0.6b"``, ``"7b"``, … or any label) to a Hugging Face id; model
    selection (:func:`agentcore.select_model`) picks the largest that fits the machine. ``family`` and
    ``tool_format`` describe the default tier's chat format; a model from another family (e.g. the
    Qwen3-Coder tier of ``coder``) is handled by :meth:`family_for` / :meth:`tool_format_for`.
    ``tools`` is ``"all"`` or a list of tool names and glob patterns (``"math_*"``). ``verify`` says the
    final answer goes through the ``agentcore_verify_answer`` hooks (a rejection is feedback to the model).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    description: str = ""
    models: dict[str, str] = Field(default_factory=dict)
    family: str | None = None
    tool_format: str | None = None
    sampling: SamplingParams = Field(default_factory=lambda: QWEN3_NON_THINKING.model_copy())
    sampling_thinking: SamplingParams = Field(default_factory=lambda: QWEN3_THINKING.model_copy())
    thinking: ThinkingPolicy = Field(default_factory=ThinkingPolicy)
    system_prompt: str | None = None
    tools: list[str] | Literal["all"] = "all"
    verify: bool = False
    vision: bool = False
    #: Extra regular expressions the rule router counts as cues for this specialist (lower-cased text).
    route_cues: list[str] = Field(default_factory=list)

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str | None) -> str | None:
        if value is not None:
            get_family(value)  # raises UnknownFamilyError (a ValueError) listing the families
        return value

    @field_validator("tool_format")
    @classmethod
    def _known_tool_format(cls, value: str | None) -> str | None:
        allowed = {f.tool_format for f in FAMILIES.values()}
        if value is not None and value not in allowed:
            raise ValueError(f"unknown tool_format {value!r}; choose one of: {', '.join(sorted(allowed))}")
        return value

    @field_validator("route_cues")
    @classmethod
    def _valid_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"route_cues: {pattern!r} is not a valid regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _fill_from_models(self) -> Specialist:
        # The family (and tool format) default to those of the first model listed, so a plugin can
        # give just `models` and get the right chat format.
        if self.family is None and self.models:
            first = next(iter(self.models.values()))
            try:
                self.family = family_for_model(first)
            except ValueError:
                self.family = None
        if self.tool_format is None and self.family is not None:
            self.tool_format = get_family(self.family).tool_format
        if self.family is not None and get_family(self.family).supports_images:
            self.vision = True
        return self

    # -- what the agent loop asks ------------------------------------------------------------------------

    def family_for(self, model_id: str | None) -> str | None:
        """The chat family to use with ``model_id``: the model's own when agentcore knows it, else ours."""
        if model_id:
            try:
                return family_for_model(model_id)
            except ValueError:
                pass
        return self.family

    def tool_format_for(self, model_id: str | None) -> str | None:
        """The tool-call format to use with ``model_id`` (follows :meth:`family_for`)."""
        family = self.family_for(model_id)
        if family is not None and family != self.family:
            return get_family(family).tool_format
        return self.tool_format

    def sampling_for(self, thinking: bool) -> SamplingParams:
        """The sampling defaults for a turn with or without thinking."""
        return (self.sampling_thinking if thinking else self.sampling).model_copy()

    def resolve_thinking(self, routed: bool | None, model_id: str | None = None) -> bool:
        """Whether this turn thinks: our policy applied to the router's opinion, within what the model can do.

        A family without thinking (Qwen2.5, Qwen3-Coder) never thinks; one that always thinks (QwQ)
        always does; a hybrid one (Qwen3) follows the policy.
        """
        family = self.family_for(model_id)
        style = get_family(family).thinking if family else "hybrid"
        if style == "none":
            return False
        if style == "always":
            return True
        return self.thinking.decide(routed)

    def selects_tool(self, name: str) -> bool:
        """Whether the tool called ``name`` belongs to this specialist (``"all"``, a name or a glob)."""
        if self.tools == "all":
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.tools)

    def render_system_prompt(self, **variables: Any) -> str | None:
        """The system prompt rendered from ``prompts/<system_prompt>`` with ``variables``; ``None`` if none.

        Templates understand ``languages`` (a list of language names to answer in; default: the user's)
        and ``tools`` (the names of the tools on offer).
        """
        if self.system_prompt is None:
            return None
        from agentcore.prompting import render_template

        return render_template(self.system_prompt, **variables).strip()

    def default_model(self) -> str | None:
        """The smallest listed model (the first tier), or ``None`` when no models are listed."""
        return next(iter(self.models.values()), None)


def _qwen3_tiers() -> dict[str, str]:
    return {size: f"Qwen/Qwen3-{size.upper()}" for size in ("0.6b", "1.7b", "4b", "8b", "14b", "32b")}


BUILTIN_SPECIALISTS: tuple[Specialist, ...] = (
    Specialist(
        name="general",
        description="Everyday questions, writing, explanations, analysis and planning, in any language.",
        models={**_qwen3_tiers(), "30b-a3b": "Qwen/Qwen3-30B-A3B", "235b-a22b": "Qwen/Qwen3-235B-A22B"},
        family="qwen3",
        sampling=QWEN3_NON_THINKING,
        sampling_thinking=QWEN3_THINKING,
        thinking=ThinkingPolicy(mode="auto", budget=4096),
        system_prompt="system/general.jinja",
        tools="all",
    ),
    Specialist(
        name="coder",
        description="Writing, explaining, reviewing, testing and debugging code; shells, SQL, build files.",
        models={
            **{size: f"Qwen/Qwen2.5-Coder-{size.upper()}-Instruct" for size in ("0.5b", "1.5b", "3b", "7b", "14b")},
            # Qwen3-Coder-30B-A3B rather than Qwen2.5-Coder-32B at the top: about the same memory, a newer
            # and stronger coder, and ten times less compute per token (3.3B active parameters).
            "30b-a3b": "Qwen/Qwen3-Coder-30B-A3B-Instruct",
            "480b-a35b": "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        },
        family="qwen2.5",
        sampling=QWEN25,
        sampling_thinking=QWEN3_THINKING,
        thinking=ThinkingPolicy(mode="auto", budget=4096),
        system_prompt="system/coder.jinja",
        # agentcore_sandbox's run_python and agentcore_code's analysis tools (patterns for their kin).
        tools=["run_python", "sandbox_*", "check_syntax", "code_outline", "extract_code_blocks", "code_*"],
        verify=True,  # agentcore_code rejects answers whose code blocks do not parse
    ),
    Specialist(
        name="math",
        description="Calculation, algebra, calculus, geometry, probability, word problems and proofs.",
        models=_qwen3_tiers(),
        family="qwen3",
        sampling=QWEN3_NON_THINKING,
        sampling_thinking=QWEN3_THINKING,
        thinking=ThinkingPolicy(mode="auto", budget=8192),
        system_prompt="system/math.jinja",
        # agentcore_sympy's tools: math_solve, math_simplify, math_differentiate, math_check_equal, ...
        tools=["math_*", "sympy_*"],
        verify=True,
    ),
    Specialist(
        name="vl",
        description="Tasks with images: describe, read text (OCR), charts, documents, visual questions.",
        models={size: f"Qwen/Qwen2.5-VL-{size.upper()}-Instruct" for size in ("3b", "7b", "32b", "72b")},
        family="qwen2.5-vl",
        sampling=QWEN25,
        sampling_thinking=QWEN25,
        thinking=ThinkingPolicy(mode="off"),
        system_prompt="system/vl.jinja",
        tools=[],
        vision=True,
    ),
)


def builtin_specialists() -> dict[str, Specialist]:
    """The built-in specialists by name (fresh copies: changing one changes nothing global)."""
    return {s.name: s.model_copy(deep=True) for s in BUILTIN_SPECIALISTS}


def all_specialists(*, configured: bool = True) -> dict[str, Specialist]:
    """Built-in specialists, then those plugins register (a plugin's replaces a built-in of the same name).

    With ``configured`` (the default) the thinking mode and budget set in the configuration
    (``[specialists.<name>] thinking = "on"``, ``AGENTCORE_<NAME>_THINKING``) are applied.
    """
    from agentcore.plugins import registered_specialist_items

    specialists = builtin_specialists()
    for source, item in registered_specialist_items():
        if isinstance(item, dict):
            try:
                item = Specialist.model_validate(item)
            except ValueError as exc:
                raise ConfigurationError(f"plugin {source!r} registered an invalid specialist: {exc}") from exc
        if not isinstance(item, Specialist):
            raise ConfigurationError(
                f"plugin {source!r}: register() takes an agentcore.Specialist, got {type(item).__name__}"
            )
        specialists[item.name] = item
    if configured:
        from agentcore.config import load_config

        config = load_config()
        specialists = {name: config.apply(spec) for name, spec in specialists.items()}
    return specialists


def get_specialist(name: str | Specialist) -> Specialist:
    """The specialist called ``name`` (a :class:`Specialist` passes through); a clear error lists the names."""
    if isinstance(name, Specialist):
        return name
    specialists = all_specialists()
    try:
        return specialists[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown specialist {name!r}; choose one of: {', '.join(specialists)}"
        ) from None
