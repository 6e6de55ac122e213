"""@tool: names, descriptions, argument models, schemas and validation feedback."""

from __future__ import annotations

import enum
from typing import Literal, Optional

import pytest
from pydantic import BaseModel

from agentcore.tools import Tool, ToolArgumentsError, stringify_result, tool


class Unit(enum.Enum):
    celsius = "celsius"
    fahrenheit = "fahrenheit"


class Location(BaseModel):
    city: str
    country: str = "FR"


@tool
def get_weather(location: Location, unit: Unit = Unit.celsius, days: Optional[int] = None) -> str:
    """Get the weather forecast.

    Args:
        location: where to look.
        unit: temperature unit.
        days: how many days ahead,
            counting today.
    """
    return f"{location.city}:{unit.value}:{days}"


def test_name_description_and_param_docs():
    assert get_weather.name == "get_weather"
    assert get_weather.description == "Get the weather forecast."
    props = get_weather.parameters_schema()["properties"]
    assert props["location"]["description"] == "where to look."
    assert props["days"]["description"] == "how many days ahead, counting today."
    assert get_weather.parameters_schema()["required"] == ["location"]


def test_openai_schema_shape_and_no_titles():
    schema = get_weather.openai_schema()
    assert schema["type"] == "function"
    assert set(schema["function"]) == {"name", "description", "parameters"}
    assert "title" not in str(schema["function"]["parameters"].get("properties"))


def test_nested_model_enum_and_optional_validate():
    kwargs = get_weather.validate({"location": {"city": "Paris"}, "unit": "fahrenheit"})
    assert isinstance(kwargs["location"], Location)
    assert kwargs["unit"] is Unit.fahrenheit
    assert kwargs["days"] is None
    assert get_weather(**kwargs) == "Paris:fahrenheit:None"


def test_validation_feedback_names_each_field_expected_and_got():
    with pytest.raises(ToolArgumentsError) as info:
        get_weather.validate({"location": {"country": "FR"}, "unit": "kelvin", "color": "red"})
    text = info.value.feedback
    assert "location.city" in text and "missing" in text
    assert "unit" in text and '"kelvin"' in text and "celsius" in text
    assert "color" in text and "not a parameter" in text
    assert "Parameters:" in text and "location (" in text


def test_non_object_arguments_are_feedback():
    with pytest.raises(ToolArgumentsError) as info:
        get_weather.validate("Paris")
    assert "JSON object" in info.value.feedback


def test_literal_and_options():
    @tool(name="pick", timeout_s=2.5, max_retries=1)
    def choose(kind: Literal["a", "b"]) -> str:
        """Pick one.

        :param kind: which one
        """
        return kind

    assert choose.name == "pick" and choose.timeout_s == 2.5 and choose.max_retries == 1
    assert choose.parameters_schema()["properties"]["kind"]["enum"] == ["a", "b"]
    assert choose.parameters_schema()["properties"]["kind"]["description"] == "which one"
    with pytest.raises(ToolArgumentsError):
        choose.validate({"kind": "c"})


def test_async_tools_are_detected_and_run_on_the_loop():
    @tool
    async def fetch(url: str) -> str:
        """Fetch."""
        return url

    assert fetch.is_async and fetch.isolation == "thread"


def test_sync_tools_default_to_process_isolation():
    assert get_weather.isolation == "process"


def test_bad_definitions_fail_loudly():
    def variadic(*args: int) -> None:
        """Takes anything."""

    with pytest.raises(TypeError, match=r"\*args"):
        tool(variadic)
    with pytest.raises(ValueError, match="not usable"):
        Tool(lambda: None, name="has space")


def test_stringify_result():
    assert stringify_result("x") == "x"
    assert stringify_result({"a": 1, "b": "é"}) == '{"a": 1, "b": "é"}'
    assert stringify_result(Location(city="Rome")) == '{"city":"Rome","country":"FR"}'
