"""Endpoint rotation and retry timing for HTTP backends.

An :class:`EndpointPool` spreads requests over several base URLs (round robin) and takes an endpoint that
failed out of rotation for ``cooldown_s`` seconds, so a batch keeps running on the healthy machines when one
of them goes down. :class:`RetryPolicy` decides which failures are worth another try (429, 5xx, connection
errors, timeouts) and how long to wait before it (exponential backoff with jitter, ``Retry-After`` honoured).

Both are plain thread-safe objects, shared by the sync and the async paths of a backend.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agentcore.errors import ConfigurationError

#: HTTP statuses that say "try again later" rather than "your request is wrong"
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def normalize_base_url(url: str) -> str:
    """``http://host:8000`` and ``http://host:8000/v1/`` both become ``http://host:8000/v1``."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base URL {url!r} must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)")
    if not url.endswith("/v1"):
        url += "/v1"
    return url


class EndpointPool:
    """Several base URLs used in turn; one that fails sits out for ``cooldown_s`` seconds.

    When every endpoint is cooling down, the one whose cooldown ends first is used anyway: a request is
    never refused just because all machines failed once.
    """

    def __init__(
        self,
        base_urls: str | Sequence[str],
        *,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not urls:
            raise ConfigurationError("give at least one base URL of an OpenAI-compatible server")
        self.urls: list[str] = list(dict.fromkeys(normalize_base_url(u) for u in urls))
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._down_until: dict[str, float] = {}
        self._next = 0
        self._lock = threading.Lock()

    def pick(self, exclude: Sequence[str] = ()) -> str:
        """The next healthy endpoint (round robin), avoiding ``exclude`` when another one is available."""
        with self._lock:
            now = self._clock()
            n = len(self.urls)
            order = [self.urls[(self._next + i) % n] for i in range(n)]
            healthy = [u for u in order if self._down_until.get(u, 0.0) <= now]
            preferred = [u for u in healthy if u not in exclude] or healthy
            if preferred:
                chosen = preferred[0]
            else:  # everything is cooling down: take the one that comes back first
                chosen = min(order, key=lambda u: self._down_until.get(u, 0.0))
            self._next = (self.urls.index(chosen) + 1) % n
            return chosen

    def mark_failed(self, url: str) -> None:
        """Take ``url`` out of rotation for ``cooldown_s`` seconds (only when there is another one to use)."""
        if len(self.urls) < 2:
            return
        with self._lock:
            self._down_until[url] = self._clock() + self.cooldown_s

    def mark_ok(self, url: str) -> None:
        with self._lock:
            self._down_until.pop(url, None)

    def healthy(self) -> list[str]:
        """The endpoints in rotation right now."""
        now = self._clock()
        return [u for u in self.urls if self._down_until.get(u, 0.0) <= now]


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry a failed call and how long to wait before each retry."""

    max_retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 20.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based); a server's ``Retry-After`` wins."""
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.max_backoff_s)
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        base = self.backoff_s * (2 ** (attempt - 1))
        return min(base * (0.5 + random.random()), self.max_backoff_s)
