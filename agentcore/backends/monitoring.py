"""Per-call measurements: time to first token, tokens per second, peak memory (RSS, and GPU on CUDA)."""

from __future__ import annotations

import resource
import sys
import time
from typing import Any


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """The current resident set size in MiB, from /proc (Linux) or psutil when installed; else None."""
    try:
        with open("/proc/self/statm") as fh:
            import os

            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return psutil.Process().memory_info().rss / (1024 * 1024)
    except ImportError:
        return None


class CallMonitor:
    """Times one model call: ``start()``, ``first_token()`` on the first new token, ``finish(n_tokens)``."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.started = 0.0
        self.first: float | None = None
        self.ended = 0.0

    def start(self) -> None:
        self.started = time.perf_counter()
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.reset_peak_memory_stats()

    def first_token(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()

    def finish(self) -> None:
        self.ended = time.perf_counter()

    @property
    def ttft_s(self) -> float | None:
        return None if self.first is None else self.first - self.started

    @property
    def total_s(self) -> float:
        return self.ended - self.started

    def decode_tokens_per_s(self, completion_tokens: int) -> float | None:
        """Tokens per second over the whole call (prefill included), as the run's usage sums it."""
        if completion_tokens <= 0 or self.total_s <= 0:
            return None
        return completion_tokens / self.total_s

    def usage_fields(self, completion_tokens: int) -> dict[str, Any]:
        gpu = None
        if self.device.startswith("cuda"):
            import torch

            gpu = torch.cuda.max_memory_allocated() / (1024 * 1024)
        return {
            "time_to_first_token_s": self.ttft_s,
            "total_s": self.total_s,
            "tokens_per_s": self.decode_tokens_per_s(completion_tokens),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "peak_gpu_mb": None if gpu is None else round(gpu, 1),
        }
