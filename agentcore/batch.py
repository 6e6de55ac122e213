"""Batch runs: many tasks from a JSONL file, run concurrently, results appended to a JSONL file as they finish.

Each line of the tasks file is an object with ``task`` (the text) and optionally ``id`` (default: the line
number), ``images``, ``reference`` and ``specialist``. Each line of the output is a :class:`BatchResult`:
id, status (``final``, ``max_steps``, ``error``), answer, error, usage, steps, trace path and timing.

A batch is resumable: results are appended and flushed one by one, so after a crash or Ctrl-C nothing that
finished is lost, and running the same command again skips every id already in the output (a torn last line
is dropped first). A task that was under way resumes from its trace. Load is spread over several servers by
giving the agents an :class:`~agentcore.backends.openai.OpenAIBackend` with several base URLs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentcore.backends.base import Backend, Usage
from agentcore.errors import ConfigurationError

__all__ = ["BatchResult", "BatchSummary", "BatchTask", "arun_batch", "read_tasks", "run_batch"]


class BatchTask(BaseModel):
    """One line of the tasks file."""

    model_config = ConfigDict(extra="allow")

    id: str
    task: str = Field(min_length=1)
    images: list[str] | None = None
    reference: str | None = None
    specialist: str | None = None


class BatchResult(BaseModel):
    """One line of the results file."""

    id: str
    status: str
    answer: str | None = None
    error: str | None = None
    usage: Usage = Field(default_factory=lambda: Usage(calls=0))
    steps: int = 0
    verified: bool | None = None
    trace: str | None = None
    duration_s: float = 0.0


class BatchSummary(BaseModel):
    """What a batch run did."""

    total: int
    skipped: int
    done: int
    errors: int
    elapsed_s: float

    @property
    def tasks_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


AgentFactory = Callable[[BatchTask, "Path | None"], Any]


def read_tasks(path: str | os.PathLike[str]) -> list[BatchTask]:
    """The tasks of a JSONL file; a bad line raises an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"tasks file {str(path)!r} does not exist")
    tasks: list[BatchTask] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("each line must be a JSON object")
                data.setdefault("id", str(number))
                data["id"] = str(data["id"])
                task = BatchTask.model_validate(data)
            except (ValueError, ValidationError) as exc:
                raise ConfigurationError(
                    f"{path}:{number}: not a task ({str(exc).splitlines()[0]}); "
                    'expected {"id": "...", "task": "..."}') from None
            if task.id in seen:
                raise ConfigurationError(f"{path}:{number}: id {task.id!r} appears twice; ids must be unique")
            seen.add(task.id)
            tasks.append(task)
    return tasks


def finished_ids(out_path: str | os.PathLike[str], *, retry_errors: bool = False) -> set[str]:
    """Ids already in the results file; drops a torn last line (a crash mid-write) so appending stays valid."""
    path = Path(out_path)
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with path.open("r+b") as f:
            f.truncate(cut)
        data = data[:cut]
    done: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
            done[str(record["id"])] = str(record.get("status"))
        except (ValueError, KeyError, TypeError):
            continue
    return {i for i, status in done.items() if not (retry_errors and status == "error")}


def _trace_name(task_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", task_id)[:80]
    return f"{safe}.jsonl"


class _Progress:
    """tqdm on stderr when wanted (tqdm comes with transformers)."""

    def __init__(self, total: int, initial: int, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="task", file=sys.stderr, dynamic_ncols=True)

    def update(self, errors: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix(errors=errors, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


async def arun_batch(
    tasks_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    concurrency: int = 4,
    backend: Backend | None = None,
    agent_factory: AgentFactory | None = None,
    agent_options: dict[str, Any] | None = None,
    trace_dir: str | os.PathLike[str] | None | bool = True,
    retry_errors: bool = False,
    progress: bool = True,
) -> BatchSummary:
    """Run every task of ``tasks_path`` not yet in ``out_path``, ``concurrency`` at a time.

    Agents come from ``agent_factory(task, trace_path)``, or are ``Agent(backend=backend, **agent_options)``.
    ``trace_dir``: ``True`` (default) puts one trace per task in ``<out>.traces/``; a path puts them there;
    ``None``/``False`` writes none. ``retry_errors`` runs tasks whose last result was an error again.
    """
    if concurrency < 1:
        raise ConfigurationError(f"concurrency must be at least 1, got {concurrency}")
    out = Path(out_path)
    tasks = read_tasks(tasks_path)
    done = finished_ids(out, retry_errors=retry_errors)
    todo = [t for t in tasks if t.id not in done]
    traces: Path | None
    if trace_dir is True:
        traces = out.with_name(out.name.removesuffix(".jsonl") + ".traces")
    elif trace_dir:
        traces = Path(trace_dir)  # type: ignore[arg-type]
    else:
        traces = None
    if traces is not None:
        traces.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    factory = agent_factory or _default_factory(backend, agent_options or {})

    start = time.perf_counter()
    bar = _Progress(len(tasks), len(tasks) - len(todo), progress)
    counts = {"done": 0, "errors": 0}
    queue: asyncio.Queue[BatchTask] = asyncio.Queue()
    for task in todo:
        queue.put_nowait(task)

    with out.open("a", encoding="utf-8") as sink:

        def record(result: BatchResult) -> None:
            # One write, flushed and synced: a finished task survives a crash right after it.
            sink.write(result.model_dump_json() + "\n")
            sink.flush()
            os.fsync(sink.fileno())
            counts["done"] += 1
            counts["errors"] += result.status == "error"
            bar.update(counts["errors"])

        async def worker() -> None:
            while True:
                try:
                    task = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                record(await _run_one(task, factory, traces))

        try:
            await asyncio.gather(*(worker() for _ in range(min(concurrency, max(1, len(todo))))))
        finally:
            bar.close()
    return BatchSummary(total=len(tasks), skipped=len(tasks) - len(todo), done=counts["done"],
                        errors=counts["errors"], elapsed_s=time.perf_counter() - start)


def run_batch(tasks_path: str | os.PathLike[str], out_path: str | os.PathLike[str], **options: Any) -> BatchSummary:
    """Sync :func:`arun_batch` (same options)."""
    return asyncio.run(arun_batch(tasks_path, out_path, **options))


def _default_factory(backend: Backend | None, options: dict[str, Any]) -> AgentFactory:
    def make(task: BatchTask, trace: Path | None) -> Any:
        from agentcore.agent import Agent

        kwargs = dict(options)
        if task.specialist:
            kwargs["specialist"] = task.specialist
        return Agent(backend=backend, trace=trace, **kwargs)

    return make


async def _run_one(task: BatchTask, factory: AgentFactory, traces: Path | None) -> BatchResult:
    started = time.perf_counter()
    trace = traces / _trace_name(task.id) if traces is not None else None
    resume = trace if trace is not None and trace.exists() and trace.stat().st_size > 0 else None
    try:
        agent = factory(task, trace)
        try:
            result = await agent.arun(task.task, images=task.images, reference=task.reference, resume=resume)
        except Exception:
            if resume is None:
                raise
            # The old trace could not be resumed (another agent setup, a torn file): start over.
            trace.unlink()  # type: ignore[union-attr]
            result = await factory(task, trace).arun(task.task, images=task.images, reference=task.reference)
    except Exception as exc:  # one task's failure is its result, never the batch's end
        return BatchResult(id=task.id, status="error", error=f"{type(exc).__name__}: {exc}",
                           trace=str(trace) if trace is not None and trace.exists() else None,
                           duration_s=time.perf_counter() - started)
    return BatchResult(
        id=task.id,
        status=result.status,
        answer=result.answer,
        error=result.error,
        usage=result.usage,
        steps=len(result.steps),
        verified=result.verified,
        trace=result.trace_path or (str(trace) if trace is not None else None),
        duration_s=time.perf_counter() - started,
    )
