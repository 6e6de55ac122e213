"""A task agent: the general Qwen3 specialist with a few tools, its streamed events, and its trace.

What it shows
- Plain Python functions become tools with ``@tool`` (schema from the signature and docstring).
- ``Agent.stream`` yields every event as it happens: reasoning and content deltas, each parsed tool call,
  each tool result; here the model calls two tools at once (they run concurrently).
- A bad tool call is not fatal: the model asks for a unit the tool does not know, the tool's error goes
  back to the model as feedback, and the model corrects its call.
- ``trace=`` appends every event to a JSONL file as it happens; the script reads it back, and resuming
  the finished trace returns the answer without another model call.

Run it (offline, a second or two; the model's text is scripted, everything else is real):

    .venv/bin/python examples/task_agent.py

Against a real Qwen model (its own words, so its own path through the loop):

    .venv/bin/python examples/task_agent.py --model Qwen/Qwen3-8B             # in-process, network once
    .venv/bin/python examples/task_agent.py --base-url http://localhost:8000/v1 --model Qwen/Qwen3-8B   # vLLM
    .venv/bin/python examples/task_agent.py --embedded                         # embedded SmolLM2-135M, offline
"""

from __future__ import annotations

import ast
import json
import operator
import sys
import tempfile
from collections import Counter
from pathlib import Path

from _common import make_backend, parse_args, sampling, show

from agentcore import Agent, tool
from agentcore.trace import read_trace

# --- the tools ------------------------------------------------------------------------------------

_FACTORS = {"km": 1000.0, "m": 1.0, "mi": 1609.344, "ft": 0.3048, "min": 60.0, "s": 1.0, "h": 3600.0}
_DIMENSION = {"km": "length", "m": "length", "mi": "length", "ft": "length", "min": "time", "s": "time", "h": "time"}


@tool
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a length or a duration from one unit to another.

    Args:
        value: the amount to convert.
        from_unit: one of km, m, mi, ft (lengths) or h, min, s (durations).
        to_unit: the unit to convert to, of the same kind.
    """
    for unit in (from_unit, to_unit):
        if unit not in _FACTORS:
            raise ValueError(f"unknown unit {unit!r}; use one of: {', '.join(_FACTORS)}")
    if _DIMENSION[from_unit] != _DIMENSION[to_unit]:
        raise ValueError(f"cannot convert {_DIMENSION[from_unit]} ({from_unit}) to {_DIMENSION[to_unit]} ({to_unit})")
    return f"{value:g} {from_unit} = {value * _FACTORS[from_unit] / _FACTORS[to_unit]:.4f} {to_unit}"


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.USub: operator.neg}


@tool
def calculate(expression: str) -> float:
    """Evaluate an arithmetic expression: numbers, + - * / // % ** and parentheses.

    Args:
        expression: e.g. "52.5 / 6.2137".
    """

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.operand))
        raise ValueError(f"only numbers and + - * / // % ** are allowed, not {ast.unparse(node)!r}")

    return round(value(ast.parse(expression, mode="eval").body), 6)


# --- what the scripted model says (raw Qwen3 output, thinking on) ----------------------------------

TASK = "I ran a 10 km race in 52 minutes 30 seconds. How many miles is that, and what was my pace per mile?"


def _call(name: str, **arguments: object) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


SCRIPT = [
    # Step 1: an unknown unit name; the tool's error goes back to the model.
    "<think>\nI need the distance in miles first. Let me convert 10 kilometres to miles.\n</think>\n\n"
    + _call("convert_units", value=10, from_unit="kilometres", to_unit="mi"),
    # Step 2: the corrected call, and the time in minutes, in one turn (two calls, run concurrently).
    "<think>\nThe tool wants 'km'. I also need the time in minutes: 52 minutes plus 30 seconds.\n</think>\n\n"
    + _call("convert_units", value=10, from_unit="km", to_unit="mi") + "\n"
    + _call("calculate", expression="52 + 30 / 60"),
    # Step 3: the pace.
    "<think>\n10 km = 6.2137 mi and the time is 52.5 min. Pace = 52.5 / 6.2137 minutes per mile.\n</think>\n\n"
    + _call("calculate", expression="52.5 / 6.2137"),
    # Step 4: the answer. 8.449 min = 8 min 27 s.
    "<think>\n8.4491 minutes is 8 minutes and 0.4491*60 = 26.9 seconds, so about 8:27 per mile.\n</think>\n\n"
    "10 km is **6.21 miles**. At 52:30 that is a pace of about **8:27 per mile** (8.45 minutes per mile).",
]


def main() -> int:
    args = parse_args(__doc__)
    backend = make_backend(args, SCRIPT, family="qwen3")
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "run.jsonl"
        agent = Agent(
            backend=backend,
            specialist="general",          # Qwen3's system prompt and sampling; thinking per the flag below
            tools=[convert_units, calculate],
            enable_thinking=True,
            max_steps=8,
            trace=trace,
            sampling=sampling(args),     # None unless a flag asks (see examples/_common.py)
        )
        print(f"task: {TASK}\n")
        final = show(agent.stream(TASK))   # every event, printed as it arrives

        events = read_trace(trace)
        counts = Counter(e.type for e in events)
        print(f"\n--- the trace: {trace.name}, {len(events)} events, one JSON line each")
        for kind, n in counts.most_common():
            print(f"  {kind:20} {n}")
        calls = [e for e in events if e.type == "tool_result"]
        print("  tool results in the trace: " + ", ".join(f"{e.name} {'ok' if e.ok else 'failed'}" for e in calls))

        resumed = agent.run(TASK, resume=trace)
        print(f"\n--- resumed from the trace: status {resumed.status}, no model call needed: {resumed.answer == final.answer}")
    return 0 if final is not None and final.status == "final" else 1


if __name__ == "__main__":
    sys.exit(main())
