"""What stands between the network and the models: body size, API keys, rate and concurrency limits, log hashing.

* :class:`BodySizeLimit` (ASGI middleware) answers 413 before reading a body whose ``Content-Length`` is too
  large, and stops reading a chunked body the moment it passes the limit: no oversize body is ever held
  in memory.
* :class:`TokenBucket` is the per-key rate limiter; :class:`ConcurrencyGate` counts requests in flight.
* :func:`fingerprint` is how prompts and keys appear in logs: a short SHA-256, never the text.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def fingerprint(value: Any, length: int = 12) -> str:
    """A short SHA-256 of ``value`` (text, or anything JSON can write): what the logs show instead of it."""
    data = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:length]


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """An error in OpenAI's shape, which the ``openai`` client turns into its exceptions."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def too_large_message(limit: int) -> str:
    return f"request body is larger than this server's limit of {limit} bytes: shorten the conversation or raise --max-body-bytes"


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes``, decided without buffering it."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await _send_json(send, 413, error_body(too_large_message(self.max_bytes), "invalid_request_error",
                                                           "request_too_large"))
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the handler's body read; the app's HTTPException handler answers 413.
                    raise HTTPException(413, too_large_message(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": payload})


class TokenBucket:
    """Per-key token buckets: ``rate_per_minute`` requests a minute on average, bursts up to ``burst``.

    Keeps at most ``max_keys`` buckets (least recently used dropped), so unknown clients cannot grow it
    without bound.
    """

    def __init__(self, rate_per_minute: float, burst: int | None = None, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = rate_per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(1, math.ceil(rate_per_minute)))
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until a token is free."""
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class ConcurrencyGate:
    """Counts requests in flight; :meth:`try_enter` says no at once when ``limit`` are running.

    Used from the event loop thread only, so a plain counter is enough.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.in_flight = 0

    def try_enter(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
