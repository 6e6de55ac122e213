"""Each example in examples/ runs offline as a script, and does what its docstring says it shows.

The examples run as subprocesses, exactly as a user runs them (``python examples/<name>.py``), with
``AGENTCORE_PLUGINS`` naming the plugins each one needs. The assertions are on what the run printed:
the tool results, the verifier's rejections and the corrected answers, not just the exit code.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run_example(name: str, plugins: str, *args: str, timeout: float = 120) -> str:
    env = {**os.environ, "AGENTCORE_PLUGINS": plugins, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, f"{name} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def test_task_agent_streams_tools_feedback_and_trace() -> None:
    out = run_example("task_agent.py", "")
    # The bad unit goes back to the model as a tool error, and the corrected calls succeed.
    assert "[tool result, failed: exception] convert_units" in out
    assert "unknown unit 'kilometres'" in out
    assert "10 km = 6.2137 mi" in out
    assert "8.449072" in out  # calculate ran: 52.5 / 6.2137
    assert "[thinking] I need the distance in miles first" in out  # reasoning streamed apart from content
    assert "8:27 per mile" in out
    # The trace was written event by event, read back, and resuming it needs no model call.
    assert "tool results in the trace: convert_units failed, convert_units ok, calculate ok, calculate ok" in out
    assert "resumed from the trace: status final, no model call needed: True" in out


def test_math_example_catches_a_wrong_answer_and_retries() -> None:
    out = run_example("math_verified.py", "sympy")
    problems = out.split("=== problem ")[1:]
    assert len(problems) == 3
    derivative, equation, graded = problems
    assert "x**2*(x*cos(x) + 3*sin(x))" in derivative  # the sympy tool's result
    assert "REJECTED" not in derivative and "status=final" in derivative
    # The wrong root is proven wrong by substitution, then the tool solves it and the answer is fixed.
    assert "REJECTED: x = 4 does not satisfy x^2 - 5x + 6 = 0" in equation
    assert "-> x = 2; x = 3" in equation
    assert equation.rstrip().endswith("steps=3") and "\\boxed{2, 3}" in equation
    # Evaluation mode: graded against the reference without revealing it, then accepted.
    assert "REJECTED: Your final answer 2780 is wrong" in graded
    rejection = next(line for line in graded.splitlines() if "REJECTED" in line)
    assert "2870" not in rejection
    assert "[sympy verifier] accepted" in graded and "verified=True" in graded


def test_math_example_says_what_to_do_without_the_plugin() -> None:
    env = {**os.environ, "AGENTCORE_PLUGINS": ""}
    proc = subprocess.run([sys.executable, str(EXAMPLES / "math_verified.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "AGENTCORE_PLUGINS=sympy" in proc.stdout


def test_code_assistant_fixes_syntax_then_failing_tests() -> None:
    out = run_example("code_assistant.py", "code,sandbox")
    steps = out.split("--- step ")[1:]
    assert len(steps) == 4
    # Step 1: tree-sitter finds the missing colon; the verifier rejects the answer.
    assert "[verifier rejected the answer]" in steps[0] and "expected ':'" in steps[0]
    # Step 2: the sandbox runs the tests; one fails.
    assert "exit code: 1" in steps[1] and "AssertionError" in steps[1]
    # Step 3: fixed; the tests pass in the sandbox.
    assert "exit code: 0" in steps[2] and "all 5 tests passed" in steps[2]
    # Step 4: the final answer parses, so the run ends.
    assert "[verifier rejected" not in steps[3]
    assert "--- final answer (final)" in steps[3]
    assert "c.isalnum()" in steps[3]


def test_routing_example_explains_each_decision() -> None:
    out = run_example("routing.py", "sympy,code,sandbox")
    decisions, runs = out.split("=== each task on its specialist")
    assert decisions.count("→ coder") == 2 and decisions.count("→ math") == 2
    assert "→ vl (thinking off)" in decisions and "1 image attached" in decisions
    # The plugin's specialist wins translation by its route cues.
    assert "→ translator (thinking off)" in decisions and "into french" in decisions
    assert "pros and cons" in decisions  # reasons name the cues that fired
    # What each specialist changed in the model's request.
    assert "coder: (request: family qwen2.5, thinking n/a" in runs and "run_python" in runs
    assert "math: (request: family qwen3, thinking on, temperature 0.6, tools: math_check_equal" in runs
    assert "translator: (request: family qwen3, thinking off, temperature 0.7, tools: none)" in runs


def test_serving_example_over_the_openai_client() -> None:
    pytest.importorskip("openai")
    pytest.importorskip("uvicorn")
    out = run_example("serving.py", "sympy")
    assert "models: qwen3-stand-in, agent:math" in out
    assert "finish_reason: tool_calls" in out
    assert 'tool_call: get_weather({"city": "Lisbon"})' in out
    assert "reasoning_content: I should use the tool." in out
    assert "answer: It is 18 °C in Lisbon with light rain" in out
    chunks = int(out.split(" content chunks")[0].rsplit("\n", 1)[-1])
    assert chunks > 1  # streamed in pieces
    assert "\\boxed{(x - 1)e^x + C}" in out  # the agent's final answer


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_every_example_says_what_it_shows_and_how_to_run_it(path: Path) -> None:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc, f"{path.name} has no module docstring"
    if path.name.startswith("_"):
        return
    assert "What it shows" in doc
    assert f"examples/{path.name}" in doc  # how to run it
    assert "Qwen/Qwen" in doc  # how to run it on a real Qwen model
    assert "--base-url" in doc or "--url" in doc  # and behind a server such as vLLM


def test_every_example_is_tested() -> None:
    tested = {"task_agent.py", "math_verified.py", "code_assistant.py", "routing.py", "serving.py"}
    assert {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")} == tested


@pytest.mark.slow
def test_task_agent_runs_on_the_embedded_model() -> None:
    out = run_example("task_agent.py", "", "--embedded", "--max-new-tokens", "16", timeout=600)
    assert "--- final answer" in out
    assert "--- the trace: run.jsonl" in out
