"""The hook implementations agentcore loads through the ``agentcore`` entry point.

Keep this module cheap to import: agentcore imports every enabled plugin at start-up (``agentcore --help``,
``agentcore plugins``), so anything heavy (a big library, a model, a network client) is imported inside the
function that needs it, not here. This one needs nothing heavy; ``numerals`` is imported lazily anyway, to
show the pattern.
"""

from __future__ import annotations

from typing import Any

from agentcore import Specialist, hookimpl, tool


@tool(name="roman_numerals", timeout_s=5)
def roman_numerals(value: str) -> str:
    """Convert between Roman numerals and whole numbers, in whichever direction the value needs.

    Args:
        value: a whole number from 1 to 3999 (e.g. "1994") or a Roman numeral (e.g. "MCMXCIV").
    """
    from agentcore_plugin_example.numerals import from_roman, to_roman  # lazy: the pattern for heavy imports

    text = value.strip()
    if text.lstrip("+-").isdigit():
        return f"{int(text)} = {to_roman(int(text))}"
    return f"{text.upper()} = {from_roman(text)}"  # a ValueError goes back to the model as feedback


#: The specialist. Names are lower-case; a plugin specialist named like a built-in one (general, coder,
#: math, vl) replaces it, so pick a name of your own unless that is what you want.
NUMERALS = Specialist(
    name="numerals",
    description="Roman numerals: reading, writing and converting them, dates on buildings and clocks.",
    models={"4b": "Qwen/Qwen3-4B", "8b": "Qwen/Qwen3-8B"},   # family qwen3 follows from the model ids
    tools=["roman_numerals"],
    # The rule router scores these regular expressions (over the lower-cased task) for this specialist.
    # Make them specific: each match adds 2 points, and 2 beats the general specialist's default of 1.
    route_cues=[r"\broman numerals?\b", r"\bin roman\b", r"\bnumeros romanos\b", "罗马数字"],
)


@hookimpl
def agentcore_register_tools(register: Any) -> None:
    register(roman_numerals)


@hookimpl
def agentcore_register_specialists(register: Any) -> None:
    register(NUMERALS)
