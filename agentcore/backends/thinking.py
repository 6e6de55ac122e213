"""Thinking budget: after N reasoning tokens, force the model to close its ``<think>`` block and answer.

Implemented as a ``transformers`` logits processor: once a sequence has produced ``budget`` tokens inside
``<think>``, every following step allows exactly one token, spelling out a short transition sentence and
``</think>``, after which the model is free again (and writes its answer). The same tracker counts the
reasoning tokens of a finished output for :class:`~agentcore.backends.base.Usage`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
#: what the forced end of reasoning says (Qwen's own wording for budgeted thinking)
TRANSITION = "\n\nConsidering the limited time, I have to give the solution based on the thinking directly now.\n"


def prompt_opens_thinking(prompt: str) -> bool:
    """True when the prompt's last turn leaves a ``<think>`` block open (QwQ, or a prefilled ``<think>``)."""
    tail = prompt[prompt.rfind("<|im_start|>") :] if "<|im_start|>" in prompt else prompt
    return tail.rfind(THINK_OPEN) > tail.rfind(THINK_CLOSE)


@dataclass
class _Row:
    thinking: bool
    done: bool = False
    count: int = 0  # reasoning tokens so far
    forced: list[int] = field(default_factory=list)  # the transition tokens still to force


class ThinkingTracker:
    """Follows generated tokens of each sequence: inside ``<think>`` or not, and how many reasoning tokens.

    Markers are matched on token ids when they are single tokens (Qwen3/QwQ vocabularies) and on decoded
    text otherwise (a ChatML model without ``<think>`` tokens).
    """

    def __init__(self, tokenizer: Any, *, batch: int, started_thinking: bool | list[bool]) -> None:
        self.tokenizer = tokenizer
        starts = started_thinking if isinstance(started_thinking, list) else [started_thinking] * batch
        self.rows = [_Row(thinking=s) for s in starts]
        self.open_ids = tokenizer.encode(THINK_OPEN, add_special_tokens=False)
        self.close_ids = tokenizer.encode(THINK_CLOSE, add_special_tokens=False)

    def _ends_with(self, generated: list[int], marker_ids: list[int], marker: str) -> bool:
        if len(marker_ids) == 1:
            return bool(generated) and generated[-1] == marker_ids[0]
        window = generated[-(len(marker_ids) + 2) :]
        return marker in self.tokenizer.decode(window, skip_special_tokens=False)[-(len(marker) + 8) :]

    def step(self, row: int, generated: list[int]) -> None:
        """Account for the last token of ``generated`` (the row's tokens so far)."""
        state = self.rows[row]
        if state.done or not generated:
            return
        if not state.thinking:
            if self._ends_with(generated, self.open_ids, THINK_OPEN):
                state.thinking = True
            return
        if self._ends_with(generated, self.close_ids, THINK_CLOSE):
            state.thinking, state.done = False, True
            return
        state.count += 1

    def reasoning_tokens(self) -> list[int]:
        return [r.count for r in self.rows]


def count_reasoning_tokens(tokenizer: Any, generated: list[int], *, started_thinking: bool) -> int:
    """How many of ``generated`` are reasoning (inside ``<think>``, markers excluded)."""
    tracker = ThinkingTracker(tokenizer, batch=1, started_thinking=started_thinking)
    for i in range(1, len(generated) + 1):
        tracker.step(0, generated[:i])
    count = tracker.rows[0].count
    if tracker.rows[0].done and len(tracker.close_ids) > 1:
        count -= len(tracker.close_ids) - 1  # the first tokens of a multi-token </think> were counted
    return max(count, 0)


class ThinkingBudgetProcessor:
    """A ``LogitsProcessor`` that ends reasoning after ``budget`` tokens with the transition and ``</think>``."""

    def __init__(
        self, tokenizer: Any, budget: int, *, prompt_length: int, batch: int, started_thinking: bool | list[bool]
    ) -> None:
        if budget < 0:
            raise ValueError("thinking_budget must be 0 or more tokens")
        self.budget = budget
        self.prompt_length = prompt_length
        self.tracker = ThinkingTracker(tokenizer, batch=batch, started_thinking=started_thinking)
        self.transition = tokenizer.encode(TRANSITION + THINK_CLOSE + "\n\n", add_special_tokens=False)
        self.forced_rows = 0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        generated_all = input_ids[:, self.prompt_length :].tolist()
        for b, generated in enumerate(generated_all):
            state = self.tracker.rows[b]
            if state.forced:  # the last token was the forced one: move on to the next
                state.forced.pop(0)
                if state.forced:
                    self._force(scores, b, state.forced[0])
                    continue
                state.thinking, state.done = False, True
                continue
            self.tracker.step(b, generated)
            if state.thinking and not state.done and state.count >= self.budget:
                state.forced = list(self.transition)
                self.forced_rows += 1
                self._force(scores, b, state.forced[0])
        return scores

    @staticmethod
    def _force(scores: Any, row: int, token: int) -> None:
        keep = scores[row, token].clone()
        scores[row, :] = float("-inf")
        scores[row, token] = keep if keep.isfinite() else 0.0
