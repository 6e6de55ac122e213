"""Tests of the example plugin, written with agentcore's testing helpers.

agentcore installs a pytest plugin (entry point ``pytest11``) with two fixtures:

- ``agentcore_plugins``: hermetic plugin loading. ``agentcore_plugins(["example"])`` loads only the
  installed entry point named ``example``; ``agentcore_plugins.register(module)`` adds a plugin in-process
  (no installation needed). Everything is undone after the test.
- ``scripted_agent``: ``scripted_agent([raw model outputs...], **Agent options)`` builds an Agent on a
  ``ScriptedBackend``, which replays the raw text you give it through the real parser and loop.
"""

from __future__ import annotations

import importlib.metadata
import json

import pytest

from agentcore.plugins import registered_tools
from agentcore.router import route
from agentcore.specialists import all_specialists
from agentcore_plugin_example import plugin
from agentcore_plugin_example.numerals import from_roman, to_roman


def call(name: str, **arguments: object) -> str:
    """A tool call as Qwen writes it (hermes format)."""
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


@pytest.mark.parametrize("number, numeral", [(1, "I"), (4, "IV"), (14, "XIV"), (1994, "MCMXCIV"), (3999, "MMMCMXCIX")])
def test_numerals_both_ways(number: int, numeral: str) -> None:
    assert to_roman(number) == numeral
    assert from_roman(numeral.lower()) == number


@pytest.mark.parametrize("bad", ["IIII", "VX", "ABC", ""])
def test_non_numerals_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match="not a standard Roman numeral"):
        from_roman(bad)


def test_the_plugin_registers_its_tool_and_specialist(agentcore_plugins) -> None:
    agentcore_plugins.register(plugin, name="example")
    tools = registered_tools()
    assert tools["roman_numerals"].source == "example"
    assert all_specialists()["numerals"].tools == ["roman_numerals"]


def test_the_router_sends_roman_numeral_tasks_to_the_specialist(agentcore_plugins) -> None:
    agentcore_plugins.register(plugin, name="example")
    assert route("Write 1994 in Roman numerals.").specialist == "numerals"
    assert route("Tell me about civic duty.").specialist == "general"


def test_an_agent_uses_the_tool(agentcore_plugins, scripted_agent) -> None:
    agentcore_plugins.register(plugin, name="example")
    agent = scripted_agent(
        [call("roman_numerals", value="1994"), "1994 is MCMXCIV."],
        specialist="numerals",
    )
    result = agent.run("Write 1994 in Roman numerals.")
    assert result.status == "final" and result.answer == "1994 is MCMXCIV."
    tool_result = result.steps[0].tool_results[0]
    assert tool_result.ok and tool_result.content == "1994 = MCMXCIV"


def test_a_bad_value_goes_back_to_the_model_as_feedback(agentcore_plugins, scripted_agent) -> None:
    agentcore_plugins.register(plugin, name="example")
    agent = scripted_agent(
        [call("roman_numerals", value="IIII"), call("roman_numerals", value="IV"), "IIII is written IV: 4."],
        tools=["roman_numerals"],
    )
    result = agent.run("What number is IIII?")
    first, second = (step.tool_results[0] for step in result.steps[:2])
    assert not first.ok and "not a standard Roman numeral" in first.content
    assert second.ok and second.content == "IV = 4"
    assert result.answer == "IIII is written IV: 4."


def test_the_entry_point_loads_when_installed(agentcore_plugins) -> None:
    """Once the package is installed (pip install .), agentcore finds it by its entry point."""
    names = {ep.name for ep in importlib.metadata.entry_points(group="agentcore")}
    if "example" not in names:
        pytest.skip("the package is not installed: pip install ./examples/plugin-template")
    agentcore_plugins(["example"])
    assert registered_tools()["roman_numerals"].source == "example"
