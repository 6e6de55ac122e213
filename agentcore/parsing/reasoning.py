"""Splitting the reasoning (``<think>…</think>``) off the front of model output.

Rules (docs: ``parsing-and-grading.md``):

* An optional leading ``<think>``, then the text up to the first ``</think>``, is reasoning. Output with only
  ``</think>`` (the template put ``<think>`` in the prompt: QwQ, thinking-only Qwen3) is read the same way,
  so without a leading ``<think>`` nothing can be called content until ``</think>`` is ruled out — a
  stream holds that text back until it sees ``</think>`` or the end.
* ``<think>`` without any ``</think>``: all of it is reasoning and there are no calls — except that a
  ``<tool_call>`` immediately followed (whitespace allowed) by ``<function=`` ends the reasoning there.
  Since a later ``</think>`` would make that an example inside the reasoning, the decision waits for
  ``</think>`` or the end.

:class:`ReasoningSplitter` applies these rules incrementally; :func:`split_reasoning` is the one-shot form.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentcore.parsing.blocks import FUNCTION_OPEN, THINK_CLOSE, THINK_OPEN, TOOL_CALL_OPEN, TextIndex, starts
from agentcore.parsing.lenient_json import skip_ws


@dataclass
class ReasoningStep:
    """What one step settled: reasoning text to emit now, and (once known) where the body starts."""

    delta: str = ""
    body_start: int | None = None


class ReasoningSplitter:
    """Incremental reasoning split over a growing text (call :meth:`step` after each append).

    ``thinking`` says what the prompt already decided, so a stream need not hold text back:
    ``"auto"`` (the rules above: without a leading ``<think>``, wait for ``</think>`` or the end),
    ``"open"`` (the prompt opened ``<think>``, as QwQ's does: the output starts inside reasoning) or
    ``"off"`` (the family does not think, or thinking was switched off: only a leading ``<think>`` opens
    reasoning, and a lone ``</think>`` is plain text).
    """

    def __init__(self, thinking: str = "auto") -> None:
        if thinking not in ("auto", "open", "off"):
            raise ValueError(f"thinking must be 'auto', 'open' or 'off', not {thinking!r}")
        self._hint = thinking
        self._mode = "start"  # start | explicit | implicit | done
        self._emitted = 0  # reasoning text before this offset has been handed out
        self._scan = 0  # no "</think>" starts before this offset
        self._tc_scan = 0  # no implicit-end "<tool_call>" starts before this offset
        self._implicit_end: int | None = None

    @property
    def done(self) -> bool:
        return self._mode == "done"

    def step(self, ix: TextIndex, final: bool) -> ReasoningStep:
        """Advance over ``ix.text``; ``final`` means no more text will come."""
        text, n = ix.text, len(ix.text)
        if self._mode == "start":
            i = skip_ws(text, 0)
            opened = starts(text, i, THINK_OPEN, final) if i < n else (False if final else None)
            if opened is None:
                return ReasoningStep()
            if opened:
                self._mode, self._emitted = "explicit", i + len(THINK_OPEN)
            elif self._hint == "open":
                self._mode, self._emitted = "explicit", 0
            elif self._hint == "off":
                self._mode = "done"
                return ReasoningStep("", 0)
            else:
                self._mode, self._emitted = "implicit", 0
            self._scan = self._tc_scan = self._emitted
        if self._mode == "done":
            return ReasoningStep()

        k = ix.find(THINK_CLOSE, self._scan)
        if k != -1:
            delta = text[self._emitted : k]
            self._mode = "done"
            return ReasoningStep(delta, k + len(THINK_CLOSE))
        self._scan = max(self._emitted, n - len(THINK_CLOSE) + 1)

        if self._mode == "implicit":
            if final:  # no "</think>" at all: there is no reasoning
                self._mode = "done"
                return ReasoningStep("", 0)
            return ReasoningStep()

        hold = self._find_implicit_end(ix, final)
        if final:
            end = self._implicit_end if self._implicit_end is not None else n
            delta = text[self._emitted : end]
            self._mode = "done"
            return ReasoningStep(delta, end)
        # emit what can no longer turn out to be markup
        safe = min(hold, _partial_tag_start(text, self._emitted))
        delta = text[self._emitted : safe] if safe > self._emitted else ""
        self._emitted = max(self._emitted, safe)
        return ReasoningStep(delta)

    def _find_implicit_end(self, ix: TextIndex, final: bool) -> int:
        """Look for ``<tool_call>`` + ``<function=``; return the offset text must be held back from."""
        text, n = ix.text, len(ix.text)
        if self._implicit_end is not None:
            return self._implicit_end
        while True:
            j = ix.find(TOOL_CALL_OPEN, self._tc_scan)
            if j == -1:
                self._tc_scan = max(self._tc_scan, n - len(TOOL_CALL_OPEN) + 1)
                return n
            k = skip_ws(text, j + len(TOOL_CALL_OPEN))
            hit = starts(text, k, FUNCTION_OPEN, final) if k < n else (False if final else None)
            if hit is None:
                self._tc_scan = j
                return j
            if hit:
                self._implicit_end = j
                return j
            self._tc_scan = j + len(TOOL_CALL_OPEN)


def _partial_tag_start(text: str, lo: int) -> int:
    """Where a trailing prefix of ``</think>`` or ``<tool_call>`` begins (``len(text)`` if none)."""
    p = text.rfind("<", max(lo, len(text) - len(TOOL_CALL_OPEN)))
    if p != -1:
        tail = text[p:]
        if THINK_CLOSE.startswith(tail) or TOOL_CALL_OPEN.startswith(tail):
            return p
    return len(text)


def split_reasoning(text: str, thinking: str = "auto") -> tuple[str | None, int]:
    """One-shot split: ``(reasoning stripped or None, offset where the rest starts)``. With ``<think>`` and
    neither ``</think>`` nor an implicit end, the rest is empty (offset ``len(text)``)."""
    step = ReasoningSplitter(thinking).step(TextIndex(text), final=True)
    return (step.delta.strip() or None), (step.body_start or 0)
