"""The math tools: right answers for good input, clear errors for bad input and hopeless work."""

from __future__ import annotations

import pytest

from agentcore.tools import ToolArgumentsError
from agentcore_sympy import tools as math_tools
from agentcore_sympy.tools import (
    ALL_TOOLS,
    MathToolError,
    math_check_equal,
    math_differentiate,
    math_evaluate,
    math_factor,
    math_integrate,
    math_simplify,
    math_solve,
)


@pytest.mark.parametrize(
    ("fn", "kwargs", "expected"),
    [
        (math_differentiate, {"expression": "x^3 + 2x"}, "3*x**2 + 2"),
        (math_differentiate, {"expression": r"\frac{1}{x}"}, "-1/x**2"),
        (math_differentiate, {"expression": "x**2*y", "variable": "y"}, "x**2"),
        (math_differentiate, {"expression": "sin(x)", "order": 2}, "-sin(x)"),
        (math_integrate, {"expression": "x^2"}, "x**3/3 + C"),
        (math_integrate, {"expression": "exp(-x^2)", "lower": "-oo", "upper": "oo"}, "sqrt(pi)"),
        (math_solve, {"equations": ["x^2 - 5x + 6 = 0"]}, "x = 2; x = 3"),
        (math_solve, {"equations": ["x + y = 3", "x - y = 1"]}, "x = 2, y = 1"),
        (math_solve, {"equations": "x^2 + 1 = 0"}, "x = -I; x = I"),
        (math_solve, {"equations": ["x = x + 1"]}, "no solution: x = x + 1 is never true"),
        (math_simplify, {"expression": r"\sin^2 x + \cos^2 x"}, "1"),
        (math_factor, {"expression": "x^2 - 1"}, "(x - 1)*(x + 1)"),
        (math_factor, {"expression": "360"}, "2^3 * 3^2 * 5"),
        (math_evaluate, {"expression": "sqrt(2)*pi", "digits": 10}, "4.442882938"),
        (math_evaluate, {"expression": "x^2 + y", "values": {"x": "3", "y": "1/2"}, "digits": 4}, "9.500"),
        (math_check_equal, {"first": "(x+1)^2", "second": "x^2+2x+1"}, "equal"),
    ],
    ids=lambda v: v.name if hasattr(v, "name") else None,
)
def test_tool_good_input(fn, kwargs, expected):
    result = fn(**kwargs)
    assert result == expected or result.startswith(expected + " ("), result


def test_check_equal_says_not_equal_with_a_reason():
    assert math_check_equal(first="2", second="3").startswith("not equal (")


@pytest.mark.parametrize(
    ("fn", "kwargs", "message"),
    [
        (math_differentiate, {"expression": "x^^2"}, "cannot read 'x^^2' as math"),
        (math_differentiate, {"expression": "x*y"}, "several variables (x, y)"),
        (math_differentiate, {"expression": "x", "order": 0}, "order must be 1 or more"),
        (math_integrate, {"expression": "x", "lower": "0"}, "give both `lower` and `upper`"),
        (math_integrate, {"expression": "x^x"}, "no closed form"),
        (math_solve, {"equations": ["x = 1 = 2"]}, "more than one '='"),
        (math_simplify, {"expression": ""}, "empty"),
        (math_simplify, {"expression": "x = 2"}, "is an equation"),
        (math_factor, {"expression": "__import__('os')"}, "not plain math syntax"),
        (math_evaluate, {"expression": "x^2"}, "give numbers for them in `values`"),
        (math_check_equal, {"first": " ", "second": "1"}, "`first` is empty"),
    ],
    ids=lambda v: v.name if hasattr(v, "name") else None,
)
def test_tool_bad_input_raises_a_clear_error(fn, kwargs, message):
    with pytest.raises(MathToolError, match=None) as info:
        fn(**kwargs)
    assert message in str(info.value)


def test_pathological_input_returns_a_timeout_error(monkeypatch):
    # 9^(9^(9^9)) has ~10^(3.7e8) digits: sympy would run for ever; the child is killed at the limit.
    monkeypatch.setattr(math_tools, "TOOL_TIMEOUT_S", 1.0)
    with pytest.raises(MathToolError, match="gave up after 1 s"):
        math_simplify(expression="9^{9^{9^{9}}}")


def test_tools_have_distinct_names_docs_and_schemas():
    names = [t.name for t in ALL_TOOLS]
    assert len(set(names)) == len(names) and all(n.startswith("math_") for n in names)
    for t in ALL_TOOLS:
        assert t.description and t.parameters_schema()["properties"]
        for prop in t.parameters_schema()["properties"].values():
            assert prop.get("description"), t.name
    solve_schema = math_solve.parameters_schema()
    assert solve_schema["required"] == ["equations"]
    with pytest.raises(ToolArgumentsError, match="expression"):
        math_simplify.validate({"expr": "x"})


def test_plugin_registers_the_tools(monkeypatch):
    from agentcore.plugins import registered_tools, reset_plugin_manager

    monkeypatch.setenv("AGENTCORE_PLUGINS", "sympy")
    reset_plugin_manager()
    registry = registered_tools()
    assert {t.name for t in ALL_TOOLS} <= set(registry)
    assert registry["math_solve"].source == "sympy"
