"""Constrained tool calls: even a random-weight model emits a valid, schema-conforming call."""

from __future__ import annotations

from typing import Any

import pytest

from agentcore.backends.base import GenerationRequest, SamplingParams
from agentcore.backends.constrained import cap_strings, normalize_choice, wants_grammar
from agentcore.errors import ConfigurationError
from agentcore.messages import Message
from agentcore.parsing import parse_output
from helpers.tiny_qwen import tiny_qwen_model

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather forecast for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "unit": {"type": "string", "enum": ["C", "F"]},
            },
            "required": ["city", "days"],
        },
    },
}
CLOCK = {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}


def conforms(args: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Enough JSON Schema for these tools: required keys, types, enums, bounds, maxLength."""
    props = schema.get("properties", {})
    if any(k not in args for k in schema.get("required", [])) or any(k not in props for k in args):
        return False
    for key, value in args.items():
        p = props[key]
        if p.get("type") == "string" and (not isinstance(value, str) or len(value) > p.get("maxLength", 10**9)):
            return False
        if p.get("type") == "integer" and (not isinstance(value, int) or not p.get("minimum", -10**9) <= value <= p.get("maximum", 10**9)):
            return False
        if "enum" in p and value not in p["enum"]:
            return False
    return True


@pytest.fixture(scope="module")
def qwen3():
    from agentcore.backends.transformers import TransformersBackend

    return TransformersBackend(str(tiny_qwen_model("qwen3")), max_string_length=12)


@pytest.mark.parametrize(("choice", "thinking"), [("required", False), ("get_weather", False), ("required", True)])
def test_constrained_call_parses_and_validates(qwen3, choice, thinking):
    request = GenerationRequest(
        messages=[Message(role="user", content="What's the weather in Paris?")], family="qwen3",
        tools=[WEATHER, CLOCK] if choice == "required" else [CLOCK, WEATHER], tool_choice=choice,
        enable_thinking=thinking, thinking_budget=4 if thinking else None,
        sampling=SamplingParams(temperature=0.8, seed=11, max_new_tokens=90), stop=["</tool_call>"],
    )
    completion = qwen3.generate(request)
    parsed = parse_output(completion.text, format="hermes", tools=request.tools)
    assert not parsed.problems, (completion.text, parsed.problems)
    assert len(parsed.tool_calls) >= 1, completion.text
    call = parsed.tool_calls[0]
    if choice == "get_weather":
        assert call.name == "get_weather"
    schema = {"get_weather": cap_strings(WEATHER["function"]["parameters"], 12), "now": {"properties": {}}}[call.name]
    assert conforms(call.arguments, schema), call.arguments
    assert completion.text.rstrip().endswith("</tool_call>")


def test_auto_stays_unconstrained(qwen3):
    request = GenerationRequest(
        messages=[Message(role="user", content="hi")], family="qwen3", tools=[WEATHER], tool_choice="auto",
        enable_thinking=False, sampling=SamplingParams(greedy=True, max_new_tokens=8),
    )
    assert qwen3._prepare(request).grammar is None
    assert "<tool_call>" not in qwen3.generate(request).text  # a random model does not call on its own


def test_choice_helpers():
    assert not wants_grammar("auto", [WEATHER]) and not wants_grammar("required", [])
    assert wants_grammar({"name": "get_weather"}, [WEATHER])
    assert normalize_choice({"type": "function", "function": {"name": "now"}}, [CLOCK])[0] == {
        "type": "function", "function": {"name": "now"},
    }
    with pytest.raises(ConfigurationError, match="not offered"):
        normalize_choice("nope", [WEATHER])
    capped = cap_strings({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string", "maxLength": 3}}}, 9)
    assert capped["properties"]["a"]["maxLength"] == 9 and capped["properties"]["b"]["maxLength"] == 3


def test_missing_xgrammar_is_a_clear_error(monkeypatch):
    import sys

    from agentcore.backends.constrained import GrammarFactory
    from agentcore.errors import ConfigurationError

    monkeypatch.setitem(sys.modules, "xgrammar", None)
    with pytest.raises(ConfigurationError, match=r"needs xgrammar.*--no-deps xgrammar apache-tvm-ffi"):
        GrammarFactory(object(), vocab_size=10, stop_token_ids=[0])
