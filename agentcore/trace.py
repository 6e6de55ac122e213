"""JSONL traces: every event of a run appended and flushed as it happens, and read back to resume.

A run killed half-way loses nothing it finished: each line is written and flushed (and fsynced at step
boundaries) before the run moves on. :func:`read_trace` parses a trace back into events, and
:func:`replay` rebuilds the conversation so far, with the results of tool calls that already ran.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, TypeAdapter

from agentcore.events import AssistantTurn, Event, FinalAnswer, RunStarted, StepFinished, ToolResult
from agentcore.messages import Message

_EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


class TraceWriter:
    """Appends events to a JSONL file, one line each, flushed immediately.

    ``durable=True`` also fsyncs at the end of each step, so a finished step survives a power cut.
    """

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = False):
        self.path = Path(path)
        self.durable = durable
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, event: BaseModel) -> None:
        with self._lock:
            if self._file is None:
                return
            self._file.write(event.model_dump_json() + "\n")
            # flush() hands the line to the OS: a killed process loses nothing it wrote. fsync (which
            # also survives power loss, at several ms a call) only where a caller asks for durability.
            self._file.flush()
            if self.durable and isinstance(event, (StepFinished, FinalAnswer)):
                os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def read_trace(path: str | os.PathLike[str]) -> list[Any]:
    """The events of a trace file. A torn last line (the process died mid-write) is ignored."""
    events = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                events.append(_EVENT_ADAPTER.validate_python(json.loads(line)))
            except (ValueError, json.JSONDecodeError):
                continue
    return events


class Replay(BaseModel):
    """The state of a traced run: enough to go on from where it stopped."""

    task: str
    messages: list[Message]  # the conversation so far, excluding unanswered calls of the last turn
    completed_steps: int
    pending_turn: AssistantTurn | None = None  # last model output whose tool calls did not all finish
    finished_results: dict[str, ToolResult] = {}  # results of the pending turn's calls that did finish
    final: FinalAnswer | None = None


def replay(events: list[Any]) -> Replay:
    """Rebuild a run's state from its events (the trace of one run)."""
    started = next((e for e in events if isinstance(e, RunStarted)), None)
    if started is None:
        raise ValueError("this trace has no run_started event: it is not an agentcore run trace")
    messages = [Message.model_validate(m) for m in started.config.get("messages", [])]
    completed = 0
    pending: AssistantTurn | None = None
    results: dict[str, ToolResult] = {}
    final: FinalAnswer | None = None
    for event in events:
        if isinstance(event, AssistantTurn):
            pending, results = event, {}
        elif isinstance(event, ToolResult) and pending is not None:
            results[event.call_id] = event
        elif isinstance(event, StepFinished):
            messages.extend(Message.model_validate(m) for m in event.record.get("messages_added", []))
            completed = event.step
            pending, results = None, {}
        elif isinstance(event, FinalAnswer):
            final = event
    return Replay(
        task=started.task,
        messages=messages,
        completed_steps=completed,
        pending_turn=pending,
        finished_results=results,
        final=final,
    )
