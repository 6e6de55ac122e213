"""The backend protocol: a request in, raw completion text (with usage) out.

Backends know nothing of tools' Python code and the loop knows nothing of tokens: a backend gets a
:class:`GenerationRequest` (messages, the rendered prompt, tool schemas, sampling, thinking settings) and
returns a :class:`Completion` whose ``text`` is the model's raw output, which the loop parses.

``stream`` yields ``str`` pieces of that text as they are generated and, last, the :class:`Completion`.
Subclass :class:`Backend` and implement ``generate`` (and ``stream`` for real streaming); the async
variants default to running the sync ones in a worker thread so they never block the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentcore.messages import Message

FinishReason = Literal["stop", "length", "tool_call", "error"]


class SamplingParams(BaseModel):
    """Sampling settings; ``None`` means the backend's (or the specialist's) default."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    max_new_tokens: int | None = None
    seed: int | None = None
    greedy: bool = False

    def merged(self, override: SamplingParams | None) -> SamplingParams:
        """These settings with every field that ``override`` sets replacing ours."""
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_unset=True))


class GenerationRequest(BaseModel):
    """Everything a backend needs for one model call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    messages: list[Message]
    prompt: str | None = None  # rendered with agentcore's template; raw-text backends use it as is
    family: str = "chatml"
    tools: list[dict[str, Any]] = Field(default_factory=list)  # OpenAI function schemas
    tool_format: str = "hermes"
    tool_choice: str | dict[str, Any] = "auto"  # "auto" | "none" | "required" | {"name": ...}
    enable_thinking: bool | None = None
    thinking_budget: int | None = None
    sampling: SamplingParams = Field(default_factory=SamplingParams)
    stop: list[str] = Field(default_factory=list)
    model: str | None = None  # which model, for backends that serve several


class Usage(BaseModel):
    """Token counts and timings of one call, or summed over a run."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_prompt_tokens: int = 0
    time_to_first_token_s: float | None = None
    total_s: float = 0.0
    tokens_per_s: float | None = None
    peak_rss_mb: float | None = None
    peak_gpu_mb: float | None = None
    calls: int = 1

    def __add__(self, other: Usage) -> Usage:
        def peak(a: float | None, b: float | None) -> float | None:
            return max(x for x in (a, b) if x is not None) if a is not None or b is not None else None

        total_s = self.total_s + other.total_s
        completion = self.completion_tokens + other.completion_tokens
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=completion,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens + other.cached_prompt_tokens,
            time_to_first_token_s=self.time_to_first_token_s
            if self.time_to_first_token_s is not None
            else other.time_to_first_token_s,
            total_s=total_s,
            tokens_per_s=(completion / total_s) if total_s > 0 and completion else None,
            peak_rss_mb=peak(self.peak_rss_mb, other.peak_rss_mb),
            peak_gpu_mb=peak(self.peak_gpu_mb, other.peak_gpu_mb),
            calls=self.calls + other.calls,
        )


class Completion(BaseModel):
    """A model's answer to one request.

    ``text`` is the raw output (with ``<think>``/``<tool_call>`` markup) that agentcore parses. A server
    that parses tool calls itself (OpenAI ``chat`` mode) may instead fill ``tool_calls`` and
    ``reasoning``; the loop then uses those and parses ``text`` as content only.
    """

    text: str
    finish_reason: FinishReason = "stop"
    usage: Usage = Field(default_factory=lambda: Usage(calls=1))
    model: str | None = None
    tool_calls: list[Any] | None = None  # list[ToolCall] when the server parsed them
    reasoning: str | None = None


class BackendError(RuntimeError):
    """A backend could not produce a completion; the message says what went wrong and what to do."""


class Backend:
    """Base class of backends. Implement :meth:`generate`; override :meth:`stream` for real streaming."""

    name: str = "backend"
    #: the chat family this backend's model speaks, when it knows it (the loop uses it as the default)
    family: str | None = None

    def generate(self, request: GenerationRequest) -> Completion:  # pragma: no cover - abstract
        raise NotImplementedError

    def stream(self, request: GenerationRequest) -> Iterator[str | Completion]:
        """Yield text pieces, then the :class:`Completion`. Default: one piece, the whole text."""
        completion = self.generate(request)
        if completion.text:
            yield completion.text
        yield completion

    async def agenerate(self, request: GenerationRequest) -> Completion:
        return await asyncio.to_thread(self.generate, request)

    async def astream(self, request: GenerationRequest) -> AsyncIterator[str | Completion]:
        """Async :meth:`stream`: the sync generator runs in a worker thread, pieces arrive as made."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        done = object()

        def pump() -> None:
            try:
                for item in self.stream(request):
                    loop.call_soon_threadsafe(queue.put_nowait, item)
            except BaseException as exc:  # handed to the consumer, re-raised there
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, done)

        task = loop.run_in_executor(None, pump)
        try:
            while True:
                item = await queue.get()
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            await task
