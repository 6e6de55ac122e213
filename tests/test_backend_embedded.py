"""The embedded default model (SmolLM2-135M, GGUF): cached conversion, real chat, constrained calls."""

from __future__ import annotations

import pytest

from agentcore.backends.base import GenerationRequest, SamplingParams
from agentcore.messages import Message
from agentcore.parsing import parse_output
from helpers.embedded import embedded_backend, embedded_cache_dir  # noqa: F401 - fixture

pytestmark = pytest.mark.slow

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather forecast for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}


def test_embedded_model_is_cached_as_safetensors(embedded_backend):  # noqa: F811
    b = embedded_backend
    assert b.model_id == "SmolLM2-135M-Instruct" and b.family == "chatml"
    folder = b.loaded.folder
    assert folder is not None and folder.startswith(str(embedded_cache_dir()))
    assert any(p.endswith(".safetensors") for p in __import__("os").listdir(folder))


def test_embedded_model_answers_and_stops_at_end_of_turn(embedded_backend):  # noqa: F811
    c = embedded_backend.generate(GenerationRequest(
        messages=[Message(role="user", content="What is the capital of France?")], family="chatml",
        sampling=SamplingParams(greedy=True, max_new_tokens=40),
    ))
    assert "Paris" in c.text
    assert "<|im_end|>" not in c.text and c.finish_reason in ("stop", "length")


@pytest.mark.parametrize("question", ["What's the weather in Paris for the next 3 days?", "Will it rain in Tokyo tomorrow?"])
def test_required_tool_call_is_valid_even_for_135m(embedded_backend, question):  # noqa: F811
    request = GenerationRequest(
        messages=[Message(role="user", content=question)], family="chatml", tools=[WEATHER],
        tool_choice="required", sampling=SamplingParams(greedy=True, max_new_tokens=80), stop=["</tool_call>"],
    )
    completion = embedded_backend.generate(request)
    parsed = parse_output(completion.text, format="hermes", tools=[WEATHER])
    assert not parsed.problems and len(parsed.tool_calls) == 1, completion.text
    call = parsed.tool_calls[0]
    assert call.name == "get_weather"
    assert isinstance(call.arguments["city"], str) and isinstance(call.arguments["days"], int)
