"""The agent loop end to end on scripted raw model output: the real parser, dispatch and feedback."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time

import pytest

from agentcore import events as ev
from agentcore.agent import FINALIZE_PROMPT, Agent
from agentcore.hookspecs import hookimpl
from agentcore.plugins import register_plugin
from agentcore.testing import FunctionBackend, ScriptedBackend
from agentcore.tools import tool
from agentcore.verification import Verdict


def call(name: str, **arguments) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_tool_call_then_answer():
    backend = ScriptedBackend([call("add", a=2, b=3), "The sum is 5."])
    result = Agent(backend=backend, tools=[add]).run("What is 2 + 3?")
    assert result.status == "final" and result.answer == "The sum is 5."
    assert [s.tool_calls[0].name for s in result.steps[:1]] == ["add"]
    assert result.steps[0].tool_results[0].content == "5" and result.steps[0].tool_results[0].ok
    # The second prompt shows the model its call and the tool's result, in the family's format.
    second = backend.prompts[1]
    assert '"name": "add"' in second and "<tool_response>\n5\n</tool_response>" in second
    assert '"name": "add", "description": "Add two integers."' in backend.prompts[0]
    assert result.usage.calls == 2
    json.loads(result.model_dump_json())  # JSON-serializable


def test_parallel_calls_run_concurrently():
    barrier = threading.Barrier(2, timeout=10)

    @tool(isolation="thread")
    def wait_for_peer(tag: str) -> str:
        """Waits until the other call is running too."""
        barrier.wait()  # raises BrokenBarrierError unless both calls run at the same time
        return tag

    backend = ScriptedBackend([call("wait_for_peer", tag="x") + "\n" + call("wait_for_peer", tag="y"), "done"])
    result = Agent(backend=backend, tools=[wait_for_peer]).run("go")
    assert [r.content for r in result.steps[0].tool_results] == ["x", "y"]
    assert all(r.ok for r in result.steps[0].tool_results)


def test_errors_become_feedback_and_the_run_goes_on():
    @tool
    def boom(x: int) -> int:
        """Always fails."""
        raise RuntimeError("disk on fire")

    output = " ".join([
        call("nope"),
        call("add", a="two", b=3),
        call("boom", x=1),
        '<tool_call>{"name": "add", "arguments": {"a": 1,</tool_call>',  # malformed: a problem
        call("add", a=1, b=1),
    ])
    backend = ScriptedBackend([output, "ok"])
    result = Agent(backend=backend, tools=[add, boom]).run("go")
    results = result.steps[0].tool_results
    by_kind = {r.error_kind: r for r in results}
    assert "there is no tool named 'nope'" in by_kind["unknown_tool"].content
    assert "Available tools: add, boom" in by_kind["unknown_tool"].content
    assert "a:" in by_kind["invalid_arguments"].content and '"two"' in by_kind["invalid_arguments"].content
    assert "RuntimeError: disk on fire" in by_kind["exception"].content
    assert "Traceback" not in by_kind["exception"].content
    assert any(r.ok and r.content == "2" for r in results)  # the good call still ran
    assert result.steps[0].problems, "the malformed block is reported"
    assert result.steps[0].problems[0] in backend.prompts[1]  # ...and fed back to the model
    assert result.status == "final"


def test_retry_budget_stops_a_looping_model():
    @tool(max_retries=2)
    def strict(n: int) -> int:
        """Needs an int."""
        return n

    bad = call("strict", n="x")
    backend = ScriptedBackend([bad, bad, bad, "gave up"])
    result = Agent(backend=backend, tools=[strict]).run("go")
    kinds = [s.tool_results[0].error_kind for s in result.steps[:3]]
    assert kinds == ["invalid_arguments", "invalid_arguments", "retry_budget"]


def test_timeout_really_stops_the_tool_and_its_children(tmp_path):
    pid_file = tmp_path / "pids"

    @tool(timeout_s=1.0)
    def hang() -> str:
        """Starts a child and hangs."""
        import subprocess

        child = subprocess.Popen(["sleep", "60"])
        pid_file.write_text(f"{os.getpid()} {child.pid}")
        time.sleep(60)
        return "never"

    backend = ScriptedBackend([call("hang"), "stopped"])
    result = Agent(backend=backend, tools=[hang]).run("go")
    assert result.steps[0].tool_results[0].error_kind == "timeout"
    assert "did not finish within 1 s" in result.steps[0].tool_results[0].content
    for pid in map(int, pid_file.read_text().split()):
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.05)
        assert not _alive(pid), f"process {pid} outlived the timeout"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_async_tool_timeout_cancels():
    @tool(timeout_s=0.2)
    async def slow() -> str:
        """Sleeps."""
        await asyncio.sleep(30)
        return "late"

    result = Agent(backend=ScriptedBackend([call("slow"), "ok"]), tools=[slow]).run("go")
    assert result.steps[0].tool_results[0].error_kind == "timeout"


def test_max_steps_finalize_disables_tools():
    backend = ScriptedBackend([call("add", a=1, b=1), call("add", a=2, b=2), "Final: 4"])
    result = Agent(backend=backend, tools=[add], max_steps=2).run("go")
    assert result.status == "max_steps" and result.answer == "Final: 4"
    last = backend.requests[-1]
    assert last.tools == [] and last.tool_choice == "none"
    assert FINALIZE_PROMPT in last.prompt and "# Tools" not in last.prompt


def test_max_steps_error_policy():
    backend = ScriptedBackend([call("add", a=1, b=1)])
    result = Agent(backend=backend, tools=[add], max_steps=1, on_max_steps="error").run("go")
    assert result.status == "max_steps" and result.answer is None and "max_steps=1" in result.error


def test_backend_failure_is_an_error_result_not_a_crash():
    result = Agent(backend=ScriptedBackend([]), tools=[add]).run("go")
    assert result.status == "error" and "ScriptedBackend has 0 completions" in result.error


def test_required_tool_choice_applies_until_a_tool_ran():
    backend = ScriptedBackend([call("add", a=1, b=2), "3"])
    Agent(backend=backend, tools=[add], tool_choice="required").run("go")
    assert [r.tool_choice for r in backend.requests] == ["required", "auto"]


def test_verifier_rejection_is_feedback_then_accepted():
    class Checker:
        @hookimpl
        def agentcore_verify_answer(self, task, answer, context):
            if "42" in answer:
                return Verdict(ok=True)
            return Verdict(ok=False, feedback="the product of 6 and 7 is not " + answer)

    register_plugin(Checker(), name="checker")
    backend = ScriptedBackend(["41", "42"])
    result = Agent(backend=backend, tools=[]).run("6*7?")
    assert result.answer == "42" and result.verified is True
    assert "the product of 6 and 7 is not 41" in backend.prompts[1]
    assert result.steps[0].verdicts[0].verifier == "checker"


def test_verifier_bound_ends_unverified():
    class No:
        @hookimpl
        def agentcore_verify_answer(self, task, answer, context):
            return Verdict(ok=False, feedback="no")

    register_plugin(No(), name="no")
    result = Agent(backend=ScriptedBackend(["a", "b", "c"]), tools=[], max_verifications=2).run("?")
    assert result.answer == "c" and result.verified is False and result.status == "final"


def test_observation_hooks_see_steps_tools_and_the_end():
    seen: list[str] = []

    class Observer:
        @hookimpl
        def agentcore_step_finished(self, step, run):
            seen.append(f"step{step.index}")

        @hookimpl
        def agentcore_tool_finished(self, call, result):
            seen.append(f"tool:{call.name}:{result.ok}")

        @hookimpl
        def agentcore_run_finished(self, result):
            seen.append(f"end:{result.status}")

    register_plugin(Observer(), name="observer")
    Agent(backend=ScriptedBackend([call("add", a=1, b=2), "3"]), tools=[add]).run("go")
    assert seen == ["tool:add:True", "step1", "step2", "end:final"]


def test_stream_events_in_order():
    backend = ScriptedBackend(["<think>\nadd them\n</think>\n" + call("add", a=2, b=2), "It is 4."], chunk_size=2)
    events = list(Agent(backend=backend, tools=[add]).stream("2+2?"))
    types = [e.type for e in events]
    assert types[0] == "run_started" and types[-1] == "final_answer"
    assert types.index("reasoning_delta") < types.index("tool_call") < types.index("tool_result")
    reasoning = "".join(e.text for e in events if isinstance(e, ev.ReasoningDelta))
    assert reasoning.strip() == "add them"
    content = "".join(e.text for e in events if isinstance(e, ev.ContentDelta))
    assert content.strip() == "It is 4."
    assert not any("<tool_call" in e.text for e in events if isinstance(e, ev.ContentDelta))


def test_arun_and_run_inside_an_event_loop():
    agent = Agent(backend=FunctionBackend(lambda req: "hi"), tools=[])

    async def main():
        a = await agent.arun("x")
        b = agent.run("y")  # sync call from inside a running loop works too
        return a, b

    a, b = asyncio.run(main())
    assert a.answer == b.answer == "hi"


def test_qwen3_coder_xml_calls():
    xml = "<tool_call>\n<function=add>\n<parameter=a>\n2\n</parameter>\n<parameter=b>\n5\n</parameter>\n</function>\n</tool_call>"
    backend = ScriptedBackend([xml, "7"], family="qwen3-coder")
    result = Agent(backend=backend, tools=[add]).run("2+5")
    assert result.steps[0].tool_calls[0].arguments == {"a": 2, "b": 5}  # typed from the schema
    assert result.steps[0].tool_results[0].content == "7"
    assert "<function=add>" in backend.prompts[1]


def test_trace_is_jsonl_and_resume_skips_finished_calls(tmp_path):
    runs: list[str] = []

    @tool(isolation="thread")
    def record(tag: str) -> str:
        """Records that it ran."""
        runs.append(tag)
        return tag

    trace = tmp_path / "run.jsonl"
    first = call("record", tag="a") + call("record", tag="b")
    Agent(backend=ScriptedBackend([first, "done"]), tools=[record], trace=trace).run("go")
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert lines[0]["type"] == "run_started" and lines[-1]["type"] == "final_answer"
    # Simulate a crash after the first tool result: cut the trace there.
    cut = next(i for i, line in enumerate(lines) if line["type"] == "tool_result")
    killed = tmp_path / "killed.jsonl"
    killed.write_text("".join(json.dumps(line) + "\n" for line in lines[: cut + 1]) + '{"type": "tool_res')
    runs.clear()
    backend = ScriptedBackend(["done again"])
    result = Agent(backend=backend, tools=[record]).run("", resume=killed)
    assert runs == [lines[cut]["name"] and ("b" if lines[cut]["content"] == "a" else "a")]
    assert result.answer == "done again" and result.task == "go"
    assert "<tool_response>\na\n</tool_response>" in backend.prompts[0]


def test_resume_of_a_finished_run_returns_its_answer(tmp_path):
    trace = tmp_path / "t.jsonl"
    Agent(backend=ScriptedBackend(["fine"]), tools=[], trace=trace).run("q")
    again = Agent(backend=ScriptedBackend([]), tools=[]).run("", resume=trace)
    assert again.answer == "fine" and again.status == "final"


def test_plugin_tools_are_used_by_default():
    class P:
        @hookimpl
        def agentcore_register_tools(self, register):
            register(add)

    register_plugin(P(), name="p")
    agent = Agent(backend=ScriptedBackend(["x"]))
    assert list(agent.tools) == ["add"]
    with pytest.raises(ValueError, match="no registered tool named 'zzz'"):
        _ = Agent(backend=ScriptedBackend(["x"]), tools=["zzz"]).tools


def test_content_streams_before_the_output_ends_for_non_thinking_families():
    seen: list[str] = []

    class Watching(ScriptedBackend):
        def stream(self, request):
            for piece in super().stream(request):
                seen.append("piece")
                yield piece

    backend = Watching(["Hello world, this is a long answer."], family="qwen2.5", chunk_size=4)
    order = []

    async def consume():  # astream is one generator chain: the backend waits while we look
        async for event in Agent(backend=backend, tools=[]).astream("hi"):
            if isinstance(event, ev.ContentDelta):
                order.append(len(seen))

    asyncio.run(consume())
    assert order and order[0] < len(seen), "the first content delta came only after the whole output"


def test_qwq_output_starts_in_reasoning():
    backend = ScriptedBackend(["I should add.\n</think>\n\nIt is 4."], family="qwq")
    result = Agent(backend=backend, tools=[]).run("2+2")
    assert result.answer == "It is 4." and result.reasoning == "I should add."
    assert backend.prompts[0].endswith("<|im_start|>assistant\n<think>\n")


def test_specialist_sets_system_prompt_thinking_budget_and_sampling():
    from agentcore.specialists import get_specialist

    backend = ScriptedBackend(["<think>\nok\n</think>\n\nfine"], family="qwen3")
    agent = Agent(backend=backend, tools=[add], specialist="general", enable_thinking=True)
    agent.run("Prove that there are infinitely many primes.")
    request = backend.requests[0]
    general = get_specialist("general")
    assert request.enable_thinking is True
    assert request.thinking_budget == general.thinking.budget
    assert request.sampling.temperature == general.sampling_thinking.temperature
    assert request.messages[0].role == "system" and "add" in request.messages[0].text()


def test_specialist_without_verify_skips_verifiers_unless_a_reference_is_given():
    calls: list[str] = []

    class Recorder:
        @hookimpl
        def agentcore_verify_answer(self, task, answer, context):
            calls.append(answer)

    register_plugin(Recorder(), name="rec")
    Agent(backend=ScriptedBackend(["a"]), tools=[], specialist="general").run("q")
    assert calls == []
    Agent(backend=ScriptedBackend(["b"]), tools=[], specialist="general").run("q", reference="b")
    assert calls == ["b"]


def test_non_thinking_family_never_sends_enable_thinking():
    backend = ScriptedBackend(["x"], family="qwen2.5")
    Agent(backend=backend, tools=[], specialist="general", enable_thinking=True).run("q")
    assert backend.requests[0].enable_thinking is None and backend.requests[0].thinking_budget is None


def test_streamed_call_ids_match_their_results():
    backend = ScriptedBackend([call("add", a=1, b=2), "3"])
    events = list(Agent(backend=backend, tools=[add]).stream("go"))
    streamed = next(e for e in events if isinstance(e, ev.ToolCallParsed)).call.id
    result = next(e for e in events if isinstance(e, ev.ToolResult))
    turn = next(e for e in events if isinstance(e, ev.AssistantTurn))
    assert streamed == result.call_id == turn.message["tool_calls"][0]["id"]


def test_a_stuck_thread_tool_does_not_hold_the_run_after_its_timeout():
    release = threading.Event()

    @tool(isolation="thread", timeout_s=0.3)
    def stuck() -> str:
        """Blocks until released."""
        release.wait(60)
        return "late"

    try:
        done = threading.Event()
        box = {}

        def go():
            box["r"] = Agent(backend=ScriptedBackend([call("stuck"), "ok"]), tools=[stuck]).run("x")
            done.set()

        threading.Thread(target=go, daemon=True).start()
        assert done.wait(30), "the run hung on a tool whose timeout had passed"
        assert box["r"].steps[0].tool_results[0].error_kind == "timeout" and box["r"].answer == "ok"
    finally:
        release.set()


def test_auto_specialist_routes_each_task():
    backend = ScriptedBackend(["x = 2", "Paris.", "<think>\nhm\n</think>\n\nBecause..."], family="qwen3")
    agent = Agent(backend=backend, tools=[], specialist="auto")
    math = agent.run("Solve 3x + 1 = 7 for x.")
    fact = agent.run("What is the capital of France?")
    analysis = agent.run("Analyze the trade-offs of remote work for a small startup, step by step.")
    assert (math.specialist, fact.specialist, analysis.specialist) == ("math", "general", "general")
    assert backend.requests[1].enable_thinking is False  # a quick factual turn: thinking off
    assert backend.requests[2].enable_thinking is True  # an analysis: thinking on
    assert "boxed" in backend.requests[0].messages[0].text()  # the math specialist's system prompt


def test_auto_specialist_records_the_route_in_the_trace(tmp_path):
    trace = tmp_path / "t.jsonl"
    Agent(backend=ScriptedBackend(["4"]), tools=[], specialist="auto", trace=trace).run("What is 2 + 2?")
    started = json.loads(trace.read_text().splitlines()[0])
    assert started["config"]["specialist"] == "math" and started["config"]["route"]


def test_sync_runs_share_one_event_loop_per_agent():
    loops = []

    class LoopRecorder(ScriptedBackend):
        async def astream(self, request):
            loops.append(asyncio.get_running_loop())
            async for item in super().astream(request):
                yield item

    agent = Agent(backend=LoopRecorder(["a", "b"]), tools=[])
    agent.run("one")
    agent.run("two")
    assert len(loops) == 2 and loops[0] is loops[1]  # so per-loop HTTP connection pools are reused


def test_a_sync_run_inside_an_async_tool_does_not_deadlock():
    inner = Agent(backend=ScriptedBackend(["inner answer"]), tools=[])

    @tool
    async def ask_inner(question: str) -> str:
        """Ask another agent."""
        return inner.run(question).answer

    outer = Agent(backend=ScriptedBackend([call("ask_inner", question="q"), "done"]), tools=[ask_inner])
    # the inner agent is distinct; run the nested case on the *same* agent's loop too
    same = Agent(backend=ScriptedBackend([call("ask_same", question="q"), "nested", "done"]), tools=[])

    @tool
    async def ask_same(question: str) -> str:
        """Ask the same agent (a nested sync run on its own loop thread)."""
        return same.run(question).answer

    same._tools_arg = [ask_same]
    assert outer.run("go").steps[0].tool_results[0].content == "inner answer"
    result = same.run("go")
    assert result.steps[0].tool_results[0].content == "nested" and result.answer == "done"


def test_errors_of_a_sync_run_reach_the_caller():
    class Broken(ScriptedBackend):
        async def astream(self, request):
            raise ZeroDivisionError("backend bug")
            yield  # pragma: no cover

    with pytest.raises(ZeroDivisionError, match="backend bug"):
        Agent(backend=Broken([]), tools=[]).run("x")


def test_history_comes_between_the_system_prompt_and_the_task():
    backend = ScriptedBackend(["Your name is Ada."], family="qwen2.5")
    history = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Nice to meet you, Ada."},
    ]
    Agent(backend=backend, tools=[]).run("What is my name?", history=history)
    roles = [(m.role, m.text()) for m in backend.requests[0].messages]
    assert roles == [("system", "You are terse."), ("user", "My name is Ada."),
                     ("assistant", "Nice to meet you, Ada."), ("user", "What is my name?")]


def test_the_process_exits_cleanly_after_sync_runs():
    import subprocess
    import sys

    code = (
        "from agentcore import Agent\n"
        "from agentcore.testing import ScriptedBackend\n"
        "agent = Agent(backend=ScriptedBackend(['a', 'b']), tools=[])\n"
        "agent.run('x'); list(agent.stream('y'))\n"
        "import agentcore.agent as m\n"
        "assert len(m._LOOP_THREADS) == 1\n"
        "m._close_loops()\n"
        "assert agent._loop_thread.loop.is_closed() and not agent._loop_thread.thread.is_alive()\n"
        "print('clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "AGENTCORE_PLUGINS": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


def test_a_discarded_agent_does_not_leave_its_thread_behind():
    import gc

    def loop_threads() -> int:
        return sum(t.name == "agentcore-agent-loop" and t.is_alive() for t in threading.enumerate())

    before = loop_threads()
    agent = Agent(backend=ScriptedBackend(["a"]), tools=[])
    agent.run("x")
    assert loop_threads() == before + 1
    del agent
    gc.collect()
    for _ in range(100):
        if loop_threads() <= before:
            break
        time.sleep(0.02)
    assert loop_threads() <= before  # (gc may also end threads of agents earlier tests dropped)
