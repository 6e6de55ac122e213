"""``agentcore batch``: concurrency, resumability (crash, torn line, Ctrl-C), errors, and load spread over servers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agentcore.backends.base import BackendError, GenerationRequest
from agentcore.batch import BatchTask, arun_batch, finished_ids, read_tasks, run_batch
from agentcore.errors import ConfigurationError
from agentcore.testing import FunctionBackend


@pytest.fixture(autouse=True)
def hermetic(agentcore_plugins: Any) -> None:
    """No entry-point plugins: the agents see only what a test gives them."""


def write_tasks(path: Path, n: int, **extra: Any) -> Path:
    path.write_text("".join(json.dumps({"id": f"t{i}", "task": f"question {i}", **extra}) + "\n" for i in range(n)))
    return path


def answer_by_question(request: GenerationRequest) -> str:
    question = request.messages[-1].text()
    if question == "question 3":
        raise BackendError("model crashed on this one")
    return f"Answer to {question}."


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_runs_every_task_and_records_status_answer_usage_and_trace(tmp_path: Path) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 6)
    out = tmp_path / "results.jsonl"
    backend = FunctionBackend(answer_by_question)
    summary = run_batch(tasks, out, concurrency=3, backend=backend, progress=False)
    assert (summary.total, summary.done, summary.skipped, summary.errors) == (6, 6, 0, 1)
    results = {r["id"]: r for r in lines(out)}
    assert set(results) == {f"t{i}" for i in range(6)}
    good = results["t0"]
    assert good["status"] == "final" and good["answer"] == "Answer to question 0."
    assert good["usage"]["completion_tokens"] == 4 and good["steps"] == 1
    assert Path(good["trace"]).is_file() and Path(good["trace"]).parent == tmp_path / "results.traces"
    bad = results["t3"]
    assert bad["status"] == "error" and "model crashed on this one" in bad["error"]


def test_resume_skips_finished_tasks_and_drops_a_torn_line(tmp_path: Path) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 5)
    out = tmp_path / "results.jsonl"
    out.write_text(
        json.dumps({"id": "t0", "status": "final", "answer": "old"}) + "\n"
        + json.dumps({"id": "t1", "status": "error", "error": "x"}) + "\n"
        + '{"id": "t2", "status": "fin'  # the process died mid-write
    )
    backend = FunctionBackend(lambda r: "ok")
    summary = run_batch(tasks, out, concurrency=2, backend=backend, trace_dir=None, progress=False)
    assert (summary.skipped, summary.done) == (2, 3)
    assert len(backend.requests) == 3
    records = lines(out)  # every line parses: the torn one is gone
    assert [r["id"] for r in records][:2] == ["t0", "t1"]
    assert sorted(r["id"] for r in records[2:]) == ["t2", "t3", "t4"]
    assert records[0]["answer"] == "old"

    again = run_batch(tasks, out, concurrency=2, backend=backend, trace_dir=None, progress=False, retry_errors=True)
    assert (again.skipped, again.done) == (4, 1)
    assert lines(out)[-1]["id"] == "t1" and lines(out)[-1]["status"] == "final"
    assert finished_ids(out) == {f"t{i}" for i in range(5)}


def test_an_interrupted_batch_loses_nothing_finished_and_resumes(tmp_path: Path) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 12)
    out = tmp_path / "results.jsonl"

    def slow(request: GenerationRequest) -> str:
        time.sleep(0.05)
        return "done"

    async def interrupted() -> None:
        run = asyncio.ensure_future(arun_batch(tasks, out, concurrency=2, backend=FunctionBackend(slow), progress=False))
        while not out.exists() or len(out.read_text().splitlines()) < 3:
            await asyncio.sleep(0.01)
        run.cancel()  # what Ctrl-C does to the running batch
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(interrupted())
    first = lines(out)
    assert 3 <= len(first) < 12 and all(r["status"] == "final" for r in first)
    backend = FunctionBackend(slow)
    summary = run_batch(tasks, out, concurrency=4, backend=backend, progress=False)
    assert summary.skipped == len(first) and summary.done == 12 - len(first)
    assert sorted(r["id"] for r in lines(out)) == sorted(f"t{i}" for i in range(12))


def test_concurrency_is_respected(tmp_path: Path) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 12)
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def tracked(request: GenerationRequest) -> str:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.03)
        with lock:
            state["now"] -= 1
        return "ok"

    run_batch(tasks, tmp_path / "out.jsonl", concurrency=4, backend=FunctionBackend(tracked), trace_dir=None,
              progress=False)
    assert state["peak"] == 4


def test_agent_factory_and_task_fields(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"task": "hello", "reference": "42", "difficulty": "easy"}) + "\n\n")
    seen: list[BatchTask] = []

    def factory(task: BatchTask, trace: Path | None) -> Any:
        from agentcore.agent import Agent

        seen.append(task)
        return Agent(backend=FunctionBackend(lambda r: "42"), trace=trace)

    run_batch(tasks, tmp_path / "out.jsonl", agent_factory=factory, trace_dir=tmp_path / "tr", progress=False)
    assert seen[0].id == "1" and seen[0].reference == "42" and seen[0].model_extra == {"difficulty": "easy"}
    assert lines(tmp_path / "out.jsonl")[0]["trace"] == str(tmp_path / "tr" / "1.jsonl")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"id": 1}\n', ":1: not a task"),
        ("[1, 2]\n", "JSON object"),
        ('{"id": "a", "task": "x"}\n{"id": "a", "task": "y"}\n', "appears twice"),
        ("not json\n", ":1: not a task"),
    ],
)
def test_bad_task_files_are_explained(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=words):
        read_tasks(path)


def test_missing_tasks_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_tasks(tmp_path / "nope.jsonl")


def test_cli_spreads_the_load_over_several_servers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agentcore.cli import main
    from agentcore.server import ServerThread

    a = FunctionBackend(lambda r: "from a", family="qwen2.5")
    b = FunctionBackend(lambda r: "from b", family="qwen2.5")
    tasks = write_tasks(tmp_path / "tasks.jsonl", 10)
    out = tmp_path / "results.jsonl"
    with ServerThread({"qwen2.5-test": a}) as first, ServerThread({"qwen2.5-test": b}) as second:
        code = main(["batch", str(tasks), "--out", str(out), "--concurrency", "4", "--base-url", first.url,
                     "--base-url", second.url, "--model", "qwen2.5-test", "--no-progress", "--max-steps", "2"])
    assert code == 0
    results = lines(out)
    assert len(results) == 10 and all(r["status"] == "final" for r in results)
    assert len(a.requests) == 5 and len(b.requests) == 5
    assert {r["answer"] for r in results} == {"from a", "from b"}
    assert "10 tasks run (0 errors)" in capsys.readouterr().err
