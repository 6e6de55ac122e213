"""Token ids → text, incrementally, with stop strings: the glue between ``model.generate`` and ``stream()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def earliest_stop(text: str, stops: list[str], start: int = 0) -> tuple[int, str] | None:
    """``(end, stop)`` of the stop string that ends first in ``text[start:]``, or None. The stop is kept."""
    best: tuple[int, str] | None = None
    for stop in stops:
        i = text.find(stop, start)
        if i != -1 and (best is None or i + len(stop) < best[0]):
            best = (i + len(stop), stop)
    return best


class IncrementalDecoder:
    """Decodes a growing list of ids into text deltas without re-decoding everything each step.

    The usual two-offset scheme: decode a short window before and after the new token and emit the
    difference, holding back while the text ends in an incomplete UTF-8 sequence (``\\ufffd``).
    """

    def __init__(self, tokenizer: Any, skip_ids: set[int]) -> None:
        self.tokenizer = tokenizer
        self.skip_ids = skip_ids
        self.ids: list[int] = []
        self.prefix_offset = 0
        self.read_offset = 0

    def add(self, token: int) -> str:
        if token in self.skip_ids:
            return ""
        self.ids.append(token)
        decode = self.tokenizer.decode
        before = decode(self.ids[self.prefix_offset : self.read_offset], skip_special_tokens=False)
        after = decode(self.ids[self.prefix_offset :], skip_special_tokens=False)
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self.prefix_offset, self.read_offset = self.read_offset, len(self.ids)
            return after[len(before) :]
        return ""


class TokenStreamer:
    """A ``transformers`` streamer for one sequence: text deltas (cut at stop strings), first-token time.

    ``generate`` calls ``put`` with the prompt first, then each new token, and ``end`` when done. Deltas go
    to ``on_text``; once a stop string has appeared, ``stopped`` is set (a stopping criterion reads it) and
    nothing after the stop is emitted.
    """

    def __init__(
        self,
        tokenizer: Any,
        *,
        skip_ids: set[int],
        stops: list[str],
        on_text: Callable[[str], None] | None = None,
        on_first_token: Callable[[], None] | None = None,
    ) -> None:
        self.decoder = IncrementalDecoder(tokenizer, skip_ids)
        self.stops = stops
        self.on_text = on_text
        self.on_first_token = on_first_token
        self.text = ""
        self.stopped: str | None = None
        self.cancelled = False
        self._prompt_seen = False
        self._longest_stop = max((len(s) for s in stops), default=0)

    def put(self, value: Any) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        if self.on_first_token is not None:
            self.on_first_token()
            self.on_first_token = None
        for token in value.reshape(-1).tolist():
            if self.stopped is not None:
                return
            delta = self.decoder.add(int(token))
            if not delta:
                continue
            start = max(0, len(self.text) - self._longest_stop)
            self.text += delta
            hit = earliest_stop(self.text, self.stops, start) if self.stops else None
            if hit is not None:
                end, self.stopped = hit
                emitted_before = len(self.text) - len(delta)
                delta = self.text[emitted_before:end]
                self.text = self.text[:end]
            if delta and self.on_text is not None:
                self.on_text(delta)

    def end(self) -> None:
        pass


class StopOnStreamer:
    """Stopping criterion: stop when the streamer saw a stop string, or its consumer went away."""

    def __init__(self, streamer: TokenStreamer) -> None:
        self.streamer = streamer

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = self.streamer.stopped is not None or self.streamer.cancelled
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class StopOnStrings:
    """Stopping criterion for batches: each row stops when a stop string appears in its new tokens."""

    def __init__(self, tokenizer: Any, stops: list[str], prompt_length: int) -> None:
        self.tokenizer = tokenizer
        self.stops = stops
        self.prompt_length = prompt_length
        self.window = max(len(s) for s in stops) + 4

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        flags = []
        for row in input_ids[:, self.prompt_length :][:, -self.window :].tolist():
            text = self.tokenizer.decode(row, skip_special_tokens=False)
            flags.append(any(s in text for s in self.stops))
        return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)
