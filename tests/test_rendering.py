"""render_prompt: byte-exact ChatML prompts for every chat family, and the ways its input may come in."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentcore.families import FAMILIES, UnknownFamilyError, get_family
from agentcore.messages import ImagePart, Message, TextPart, ToolCall
from agentcore.prompting import TemplateError, prompts_dir, render_prompt, render_template

GOLDEN = Path(__file__).parent / "data" / "chatml_golden.jsonl"
ROWS = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.strip()]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather for a location.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City and country."}},
            "required": ["location"],
        },
    },
}


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['template_family']}-{r['case']}" for r in ROWS])
def test_golden_rendering_is_byte_exact(row: dict[str, Any]) -> None:
    out = render_prompt(row["messages"], family=row["template_family"], tools=row["tools"], **row["kwargs"])
    assert out == row["expected"]


# --- input shapes ---------------------------------------------------------------------------------------


def test_message_models_render_like_dicts() -> None:
    dicts = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "I should call the tool.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_current_weather", "arguments": {"location": "Paris"}},
                }
            ],
        },
        {"role": "tool", "content": '{"temperature": 18}', "tool_call_id": "call_1"},
    ]
    models = [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Weather in Paris?"),
        Message(
            role="assistant",
            content="",
            reasoning_content="I should call the tool.",
            tool_calls=[ToolCall(id="call_1", name="get_current_weather", arguments={"location": "Paris"})],
        ),
        Message(role="tool", content='{"temperature": 18}', tool_call_id="call_1"),
    ]
    for family in ("qwen2.5", "qwen2.5-math", "qwq", "qwen3", "qwen3-coder", "chatml"):
        expected = render_prompt(dicts, family=family, tools=[WEATHER_TOOL], add_generation_prompt=True)
        assert render_prompt(models, family=family, tools=[WEATHER_TOOL], add_generation_prompt=True) == expected
        mixed = [models[0], dicts[1], models[2], dicts[3]]
        assert render_prompt(mixed, family=family, tools=[WEATHER_TOOL], add_generation_prompt=True) == expected


def test_vl_message_models_render_like_dicts() -> None:
    dicts = [{"role": "user", "content": [{"type": "image", "image": "cat.png"}, {"type": "text", "text": "What?"}]}]
    models = [Message(role="user", content=[ImagePart(image="cat.png"), TextPart(text="What?")])]
    expected = (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert render_prompt(dicts, family="qwen2.5-vl", add_generation_prompt=True) == expected
    assert render_prompt(models, family="qwen2.5-vl", add_generation_prompt=True) == expected


def test_family_object_is_accepted() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert render_prompt(messages, family=get_family("qwen3")) == render_prompt(messages, family="qwen3")


def test_bare_function_tool_is_wrapped_as_openai_schema() -> None:
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    for family in ("qwen2.5", "qwen3", "qwen3-coder"):
        wrapped = render_prompt(messages, family=family, tools=[WEATHER_TOOL])
        assert render_prompt(messages, family=family, tools=[WEATHER_TOOL["function"]]) == wrapped
    assert '{"type": "function", "function": {"name": "get_current_weather"' in render_prompt(
        messages, family="qwen2.5", tools=[WEATHER_TOOL["function"]]
    )


def test_objects_with_openai_schema_are_tools() -> None:
    class WeatherTool:
        def openai_schema(self) -> dict[str, Any]:
            return WEATHER_TOOL

    class BareSchemaTool:
        def schema(self) -> dict[str, Any]:
            return WEATHER_TOOL["function"]

    messages = [{"role": "user", "content": "Weather in Paris?"}]
    expected = render_prompt(messages, family="qwen3", tools=[WEATHER_TOOL])
    assert render_prompt(messages, family="qwen3", tools=[WeatherTool()]) == expected
    assert render_prompt(messages, family="qwen3", tools=[BareSchemaTool()]) == expected


def test_unusable_tool_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="openai_schema"):
        render_prompt([{"role": "user", "content": "hi"}], family="qwen3", tools=[42])


def test_empty_tool_list_means_no_tools() -> None:
    messages = [{"role": "user", "content": "hi"}]
    for family in FAMILIES:
        assert render_prompt(messages, family=family, tools=[]) == render_prompt(messages, family=family)


def test_caller_messages_and_tools_are_not_mutated() -> None:
    messages = [
        {"role": "user", "content": "hi", "name": None},
        {"role": "assistant", "content": "hello", "reasoning": "greet back", "tool_calls": None},
    ]
    tools = [WEATHER_TOOL["function"]]
    before_messages, before_tools = copy.deepcopy(messages), copy.deepcopy(tools)
    for family in FAMILIES:
        render_prompt(messages, family=family, tools=tools, add_generation_prompt=True)
    assert messages == before_messages
    assert tools == before_tools


def test_none_valued_keys_are_dropped() -> None:
    # transformers 5 drops them: `content: None` is then *undefined*, which the templates test for.
    call = {"type": "function", "function": {"name": "get_current_weather", "arguments": {"location": "Paris"}}}
    with_none = [{"role": "user", "content": "w?"}, {"role": "assistant", "content": None, "tool_calls": [call]}]
    without = [{"role": "user", "content": "w?"}, {"role": "assistant", "tool_calls": [call]}]
    for family in ("qwen2.5", "qwq", "qwen3", "qwen3-coder", "chatml"):
        assert render_prompt(with_none, family=family, tools=[WEATHER_TOOL]) == render_prompt(
            without, family=family, tools=[WEATHER_TOOL]
        )
    assert "None" not in render_prompt(with_none, family="qwen2.5", tools=[WEATHER_TOOL])


@pytest.mark.parametrize("alias", ["reasoning", "thinking", "reasoning_content"])
def test_reasoning_aliases_reach_qwen3(alias: str) -> None:
    messages = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", alias: "Add them."}]
    assert render_prompt(messages, family="qwen3") == (
        "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nAdd them.\n</think>\n\n4<|im_end|>\n"
    )


# --- default system prompt --------------------------------------------------------------------------------


def test_coder_default_system_is_overridable() -> None:
    messages = [{"role": "user", "content": "Write hello world."}]
    default = render_prompt(messages, family="qwen2.5", add_generation_prompt=True)
    assert default.startswith(
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
    )
    assert render_prompt(messages, family="qwen2.5", default_system=None, add_generation_prompt=True) == default
    coder_2409 = render_prompt(
        messages, family="qwen2.5", default_system="You are a helpful assistant.", add_generation_prompt=True
    )
    assert coder_2409 == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nWrite hello world.<|im_end|>\n<|im_start|>assistant\n"
    )
    with_tools = render_prompt(messages, family="qwen2.5", tools=[WEATHER_TOOL], default_system="Custom.")
    assert with_tools.startswith("<|im_start|>system\nCustom.\n\n# Tools\n\n")
    # A system message still wins over the override.
    system_first = [{"role": "system", "content": "Mine."}, *messages]
    assert render_prompt(system_first, family="qwen2.5", default_system="Custom.").startswith(
        "<|im_start|>system\nMine.<|im_end|>\n"
    )


@pytest.mark.parametrize(
    ("family", "tools"), [("qwen2.5-math", None), ("qwen2.5-vl", None), ("qwen3-coder", [WEATHER_TOOL])]
)
def test_other_default_systems_are_overridable(family: str, tools: list[dict[str, Any]] | None) -> None:
    out = render_prompt([{"role": "user", "content": "hi"}], family=family, tools=tools, default_system="Custom.")
    assert out.startswith("<|im_start|>system\nCustom.")


# --- generic ChatML -----------------------------------------------------------------------------------------


def test_chatml_without_tools_has_no_default_system() -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert render_prompt(messages, family="chatml", add_generation_prompt=True) == (
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n<|im_start|>assistant\n"
    )
    with_system = [{"role": "system", "content": "Be brief."}, *messages]
    assert render_prompt(with_system, family="chatml") == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
        "<|im_start|>assistant\nhello<|im_end|>\n"
    )


def test_chatml_with_tools_uses_hermes_tool_calls() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"function": {"name": "get_current_weather", "arguments": {"location": "Paris"}}}],
        },
        {"role": "tool", "content": "18C"},
        {"role": "tool", "content": "sunny"},
    ]
    tool_json = json.dumps(WEATHER_TOOL, ensure_ascii=False)
    assert render_prompt(messages, family="chatml", tools=[WEATHER_TOOL], add_generation_prompt=True) == (
        "<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user "
        "query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
        f"{tool_json}\n</tools>\n\nFor each function call, return a json object with function name and arguments "
        "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
        '<|im_start|>assistant\n<tool_call>\n{"name": "get_current_weather", "arguments": {"location": "Paris"}}'
        "\n</tool_call><|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n18C\n</tool_response>\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    # No system message: the tool block opens the system turn, with no blank lines before it.
    no_system = render_prompt(messages[1:2], family="chatml", tools=[WEATHER_TOOL])
    assert no_system.startswith("<|im_start|>system\n# Tools\n\n")


def test_chatml_reduces_list_content_to_text() -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image"}, "b"]}]
    assert render_prompt(messages, family="chatml") == "<|im_start|>user\nab<|im_end|>\n"


# --- errors ---------------------------------------------------------------------------------------------------


def test_unknown_family_names_the_choices() -> None:
    with pytest.raises(UnknownFamilyError, match="unknown chat family 'llama9'.*qwen2.5.*chatml"):
        render_prompt([{"role": "user", "content": "hi"}], family="llama9")


def test_qwen3_coder_string_arguments_say_what_to_fix() -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "get_current_weather", "arguments": '{"location": "Paris"}'}}],
        },
    ]
    with pytest.raises(TemplateError, match=r"message 1.*must be a dict.*json\.loads"):
        render_prompt(messages, family="qwen3-coder", tools=[WEATHER_TOOL])
    # The Hermes families take the string (Qwen2.5 double-encodes it, Qwen3 prints it raw).
    assert '"arguments": "{\\"location\\": \\"Paris\\"}"' in render_prompt(messages, family="qwen2.5")
    assert '"arguments": {"location": "Paris"}}' in render_prompt(messages, family="qwen3")


def test_qwq_missing_content_on_earlier_tool_call_says_what_to_fix() -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [{"function": {"name": "get_current_weather", "arguments": {}}}]},
        {"role": "tool", "content": "18C"},
    ]
    with pytest.raises(TemplateError, match=r"message 1 \(assistant\) has no content.*content=''") as info:
        render_prompt(messages, family="qwq", tools=[WEATHER_TOOL])
    assert isinstance(info.value, ValueError)
    # As the final message it renders (the template strips only earlier assistant messages).
    assert render_prompt(messages[:2], family="qwq", tools=[WEATHER_TOOL]).endswith("</tool_call><|im_end|>\n")


def test_string_only_templates_reject_list_content_clearly() -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    with pytest.raises(TemplateError, match=r"message 0 \(user\) has list content.*qwen2.5-vl"):
        render_prompt(messages, family="qwen2.5")


def test_raise_exception_in_a_template_is_a_template_error() -> None:
    from agentcore.prompting import _environment

    with pytest.raises(TemplateError, match="boom"):
        _environment().from_string("{{ raise_exception('boom') }}").render()


# --- environment ------------------------------------------------------------------------------------------


def test_tojson_is_transformers_tojson() -> None:
    from agentcore.prompting import _environment

    env = _environment()
    value = {"b": "早上好 <tag> & 'q'", "a": [1, 2]}
    assert env.from_string("{{ x | tojson }}").render(x=value) == '{"b": "早上好 <tag> & \'q\'", "a": [1, 2]}'
    assert env.from_string("{{ x | tojson(indent=2) }}").render(x={"a": 1}) == '{\n  "a": 1\n}'


def test_generation_tag_is_a_no_op() -> None:
    from agentcore.prompting import _environment

    template = _environment().from_string("{%- generation %}{{ 'x' }}{%- endgeneration %}y")
    assert template.render() == "xy"


def test_namespace_refuses_underscore_attributes() -> None:
    import jinja2

    from agentcore.prompting import _environment

    with pytest.raises(jinja2.exceptions.SecurityError):
        _environment().from_string("{% set ns = namespace(_x=1) %}").render()


def test_prompts_dir_holds_the_chat_templates() -> None:
    folder = prompts_dir()
    assert folder.is_dir()
    for family in FAMILIES.values():
        assert (folder / "chat" / family.template).is_file()


def test_render_template_uses_the_same_environment() -> None:
    out = render_template("chat/chatml.jinja", messages=[{"role": "user", "content": "hi"}], tools=None)
    assert out == "<|im_start|>user\nhi<|im_end|>\n"
    with pytest.raises(TemplateError, match="no template"):
        render_template("system/does-not-exist.jinja")


# --- property: every family renders any text conversation, and ends with its generation prompt ---------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@st.composite
def _conversations(draw: st.DrawFn) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(_text)})
    for i in range(draw(st.integers(min_value=1, max_value=6))):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": draw(_text)})
    return messages


def _generation_prefix(family: str, enable_thinking: bool | None) -> str:
    if family == "qwq":
        return "<|im_start|>assistant\n<think>\n"
    if family == "qwen3" and enable_thinking is False:
        return "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    return "<|im_start|>assistant\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=_conversations(),
    family=st.sampled_from(sorted(FAMILIES)),
    enable_thinking=st.sampled_from([None, True, False]),
)
def test_any_text_conversation_renders_and_ends_with_the_generation_prompt(
    messages: list[dict[str, str]], family: str, enable_thinking: bool | None
) -> None:
    kwargs = {} if enable_thinking is None else {"enable_thinking": enable_thinking}
    out = render_prompt(messages, family=family, add_generation_prompt=True, **kwargs)
    assert out.endswith(_generation_prefix(family, enable_thinking))
    assert out.count("<|im_start|>") >= len(messages) + 1
    # The generation prompt is a pure suffix: it never changes how the conversation itself renders.
    assert out == render_prompt(messages, family=family, **kwargs) + _generation_prefix(family, enable_thinking)
