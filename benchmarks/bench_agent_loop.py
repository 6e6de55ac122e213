"""The framework's own cost per agent step, against smolagents' ToolCallingAgent on the same task.

Both agents are driven by a fake model that answers instantly with a tool call for N steps and then a
final answer, so what is measured is the framework: for agentcore, rendering the prompt with the Qwen
template, streaming the raw text through the parser, validating and dispatching the call, and writing
the JSONL trace; for smolagents, its prompt building, tool-call handling and memory. agentcore is shown
with thread-run tools (like smolagents, in-process) and with its default process isolation (each sync
call in a forked child that a timeout can kill).

Run: .venv/bin/python benchmarks/bench_agent_loop.py [steps] [repeats]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentcore import Agent, tool  # noqa: E402
from agentcore.dispatch import execute_call  # noqa: E402
from agentcore.messages import ToolCall  # noqa: E402
from agentcore.parsing import parse_output  # noqa: E402
from agentcore.prompting import render_prompt  # noqa: E402
from agentcore.testing import ScriptedBackend  # noqa: E402
from agentcore.trace import TraceWriter  # noqa: E402
from agentcore.events import ToolResult  # noqa: E402

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 8
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def lookup_impl(city: str) -> str:
    return f"{city}: 21 C, sunny"


def raw_call(i: int) -> str:
    return "<tool_call>\n" + json.dumps({"name": "lookup", "arguments": {"city": f"city{i}"}}) + "\n</tool_call>"


def bench_agentcore(isolation: str) -> float:
    lookup = tool(lookup_impl, name="lookup", isolation=isolation)
    lookup.description = "Look up the weather of a city."
    times = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as tmp:
            backend = ScriptedBackend([raw_call(i) for i in range(STEPS)] + ["Done."], family="qwen3", chunk_size=16)
            agent = Agent(backend=backend, tools=[lookup], max_steps=STEPS + 1, trace=Path(tmp) / "t.jsonl")
            start = time.perf_counter()
            result = agent.run("Weather in several cities?")
            times.append((time.perf_counter() - start) / (STEPS + 1))
            assert result.status == "final", result
    return statistics.median(times)


def breakdown() -> dict[str, float]:
    """Median cost of each part of one step, measured on the same inputs the loop sees."""
    import asyncio

    lookup = tool(lookup_impl, name="lookup", isolation="thread")
    messages = [{"role": "user", "content": "Weather?"}]
    for i in range(4):
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "lookup", "arguments": {"city": f"c{i}"}}}]})
        messages.append({"role": "tool", "content": lookup_impl(f"c{i}")})
    tools = [lookup.openai_schema()]
    text = raw_call(0)

    def timeit(fn, n=300) -> float:
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return statistics.median(samples)

    call = ToolCall(name="lookup", arguments={"city": "x"})
    with tempfile.TemporaryDirectory() as tmp:
        writer = TraceWriter(Path(tmp) / "t.jsonl")
        event = ToolResult(call_id="c", name="lookup", ok=True, content="x")
        out = {
            "render": timeit(lambda: render_prompt(messages, family="qwen3", tools=tools, add_generation_prompt=True)),
            "parse": timeit(lambda: parse_output(text, format="hermes")),
            "dispatch (thread)": timeit(lambda: asyncio.run(execute_call(call, {"lookup": lookup})), 100),
            "trace write": timeit(lambda: writer.write(event)),
        }
        writer.close()
    return out


def bench_smolagents() -> float | None:
    try:
        from smolagents import ToolCallingAgent, tool as smol_tool
        from smolagents.models import ChatMessage, ChatMessageToolCall, ChatMessageToolCallFunction, Model
    except ImportError:
        return None

    @smol_tool
    def lookup(city: str) -> str:
        """Look up the weather of a city.

        Args:
            city: the city.
        """
        return lookup_impl(city)

    class FakeModel(Model):
        def __init__(self) -> None:
            super().__init__(model_id="fake")
            self.calls = 0

        def generate(self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kw):
            i = self.calls
            self.calls += 1
            if i < STEPS:
                fn = ChatMessageToolCallFunction(name="lookup", arguments={"city": f"city{i}"})
            else:
                fn = ChatMessageToolCallFunction(name="final_answer", arguments={"answer": "Done."})
            return ChatMessage(role="assistant", content="", tool_calls=[
                ChatMessageToolCall(function=fn, id=f"call_{i}", type="function")])

    times = []
    for _ in range(REPEATS):
        agent = ToolCallingAgent(tools=[lookup], model=FakeModel(), max_steps=STEPS + 2, verbosity_level=0)
        start = time.perf_counter()
        agent.run("Weather in several cities?")
        times.append((time.perf_counter() - start) / (STEPS + 1))
    return statistics.median(times)


def main() -> None:
    ours_thread = bench_agentcore("thread")
    ours_process = bench_agentcore("process")
    smol = bench_smolagents()
    print(f"Framework cost per step ({STEPS} tool steps + 1 answer, median of {REPEATS} runs, instant fake model)\n")
    print(f"{'framework':<44}{'ms/step':>10}{'vs smolagents':>16}")
    rows = [("agentcore (thread tools)", ours_thread), ("agentcore (process tools, killable)", ours_process)]
    for name, value in rows:
        ratio = f"{value / smol:.2f}x" if smol else "n/a"
        print(f"{name:<44}{value * 1e3:>10.2f}{ratio:>16}")
    print(f"{'smolagents ToolCallingAgent':<44}{smol * 1e3:>10.2f}{'1.00x':>16}" if smol else
          "smolagents: not installed (pip install smolagents)")
    print("\nagentcore, one step's parts (median):")
    for part, seconds in breakdown().items():
        print(f"  {part:<20}{seconds * 1e6:>10.1f} µs")


if __name__ == "__main__":
    main()
