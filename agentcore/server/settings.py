"""The settings of ``agentcore serve``: access, limits and timeouts, in one validated model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServerSettings(BaseModel):
    """Limits and access rules of the OpenAI-compatible server.

    ``api_keys`` empty means no authentication (bind to 127.0.0.1 then). ``max_body_bytes`` bounds a
    request body: a larger ``Content-Length`` gets 413 before anything is read, and a chunked body is cut
    off with 413 as soon as it passes the limit. ``rate_limit_per_minute`` is a token bucket per API key
    (per client address without keys); ``None`` turns it off. ``max_concurrency`` requests generate at
    once; one more gets an immediate 429 (clients retry) rather than waiting in an unbounded queue.
    """

    model_config = ConfigDict(frozen=True)

    api_keys: frozenset[str] = frozenset()
    max_body_bytes: int = Field(default=2_000_000, gt=0)
    max_input_chars: int = Field(default=200_000, gt=0)
    max_tokens_limit: int = Field(default=8192, gt=0)
    default_max_tokens: int = Field(default=1024, gt=0)
    rate_limit_per_minute: float | None = Field(default=None, gt=0)
    rate_limit_burst: int | None = Field(default=None, gt=0)
    max_concurrency: int = Field(default=8, gt=0)
    request_timeout_s: float | None = Field(default=600.0, gt=0)
