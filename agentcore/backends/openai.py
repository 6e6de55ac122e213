"""A backend over any OpenAI-compatible server: vLLM, SGLang, llama.cpp, ``transformers serve``, ``agentcore serve``.

Two modes:

``chat``
    Messages and tool schemas go to ``/v1/chat/completions``; the server applies its chat template and
    parses tool calls. The :class:`~agentcore.backends.base.Completion` carries the server's ``tool_calls``
    (as :class:`~agentcore.messages.ToolCall`) and ``reasoning_content``, and ``text`` is the content.
``raw``
    agentcore renders the prompt with its own template, calls ``/v1/completions`` and returns the raw
    text, which agentcore's parser reads. Use it where a server's tool parser fails: vLLM's Hermes parser
    returns no calls at all when one ``<tool_call>`` block is malformed; agentcore's keeps the good ones.

Streaming reads server-sent events. The pieces are the text as a local model would write it: reasoning
inside ``<think>…</think>``, then the content; tool calls a server parsed arrive whole in the final
``Completion.tool_calls``. Requests time out (``timeout``), are retried with exponential backoff on 429,
5xx, timeouts and connection errors (``max_retries``; ``Retry-After`` honoured), are limited to
``max_concurrency`` in flight, and reuse pooled connections (httpx). The async methods are native
(``httpx.AsyncClient``, one per event loop); the sync ones use an ``httpx.Client``.

Several base URLs spread requests over several servers (round robin); an endpoint that fails is taken out
of rotation for ``cooldown_s`` seconds and the request goes to the next one.

Errors the server answers become :class:`OpenAIServerError`, whose message says which URL answered
what, and what to check.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, Literal

import httpx

from agentcore.backends.base import Backend, BackendError, Completion, FinishReason, GenerationRequest, Usage
from agentcore.backends.http_pool import RETRYABLE_STATUSES, EndpointPool, RetryPolicy
from agentcore.errors import AgentcoreError, ConfigurationError
from agentcore.messages import ImagePart, Message, TextPart, ToolCall

__all__ = ["OpenAIBackend", "OpenAIServerError"]

Mode = Literal["chat", "raw"]


class OpenAIServerError(BackendError, AgentcoreError):
    """An OpenAI-compatible server refused a request, failed, or could not be reached.

    ``status_code`` is the HTTP status (``None`` when no answer came), ``url`` the endpoint called and
    ``body`` what the server answered.
    """

    def __init__(self, message: str, *, url: str, status_code: int | None = None, body: str = ""):
        super().__init__(message)
        self.url = url
        self.status_code = status_code
        self.body = body


class _Retryable(Exception):
    """Internal: a failure worth another try (on this or another endpoint)."""

    def __init__(self, error: OpenAIServerError, retry_after: str | None = None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class OpenAIBackend(Backend):
    """Generate with a model behind one or more OpenAI-compatible servers.

    ``base_url`` is one URL or a list (``http://host:8000`` or ``http://host:8000/v1``); ``model`` the
    model id the server knows. ``family`` is the chat family (``qwen2.5``, ``qwen3``, …), guessed from the
    model id when not given; ``raw`` mode needs it to render prompts. ``extra_body`` is merged into every
    request (server-specific options such as vLLM's ``skip_special_tokens``).
    """

    name = "openai"

    def __init__(
        self,
        base_url: str | Sequence[str],
        model: str,
        *,
        api_key: str | None = None,
        mode: Mode = "chat",
        family: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_concurrency: int = 16,
        cooldown_s: float = 30.0,
        stream_usage: bool = True,
        extra_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    ):
        if mode not in ("chat", "raw"):
            raise ConfigurationError(f"mode must be 'chat' or 'raw', got {mode!r}")
        if max_concurrency < 1:
            raise ConfigurationError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if not model:
            raise ConfigurationError("give the model id the server serves (GET <base_url>/models lists them)")
        self.model = model
        self.mode: Mode = mode
        self.family = family or _guess_family(model)
        if mode == "raw" and self.family is None:
            raise ConfigurationError(
                f"raw mode renders prompts with agentcore's templates, and the chat family of {model!r} is "
                "unknown: pass family=... (e.g. 'qwen2.5', 'qwen3', 'chatml')"
            )
        self.endpoints = EndpointPool(base_url, cooldown_s=cooldown_s)
        self.retry = RetryPolicy(max_retries=max_retries, backoff_s=backoff_s)
        self.max_concurrency = max_concurrency
        self.stream_usage = stream_usage
        self.extra_body = dict(extra_body or {})
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._headers = {"Accept": "application/json", **(headers or {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._transport = transport
        self._limits = httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency)
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self._sync_slots = threading.BoundedSemaphore(max_concurrency)
        # An asyncio client and semaphore belong to the loop that made them: keep one per loop.
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, asyncio.Semaphore]]
        self._async = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.endpoints.urls!r}, model={self.model!r}, mode={self.mode!r})"

    # ------------------------------------------------------------------------------------------------
    # Clients.

    def _sync_client(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                transport = self._transport if isinstance(self._transport, httpx.BaseTransport) else None
                self._client = httpx.Client(
                    timeout=self._timeout, headers=self._headers, limits=self._limits, transport=transport
                )
            return self._client

    def _async_client(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        pair = self._async.get(loop)
        if pair is None:
            transport = self._transport if isinstance(self._transport, httpx.AsyncBaseTransport) else None
            client = httpx.AsyncClient(
                timeout=self._timeout, headers=self._headers, limits=self._limits, transport=transport
            )
            pair = (client, asyncio.Semaphore(self.max_concurrency))
            self._async[loop] = pair
        return pair

    def close(self) -> None:
        """Close the pooled sync connections (async ones: :meth:`aclose`)."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def aclose(self) -> None:
        """Close this event loop's pooled connections."""
        pair = self._async.pop(asyncio.get_running_loop(), None)
        if pair is not None:
            await pair[0].aclose()

    # ------------------------------------------------------------------------------------------------
    # Requests.

    def build_payload(self, request: GenerationRequest, *, stream: bool) -> tuple[str, dict[str, Any]]:
        """The path (``/chat/completions`` or ``/completions``) and JSON body for ``request``."""
        payload: dict[str, Any] = {"model": request.model or self.model}
        payload.update(_sampling_fields(request))
        if self.mode == "chat":
            path = "/chat/completions"
            payload["messages"] = [_openai_message(m) for m in request.messages]
            if request.tools and request.tool_choice != "none":
                payload["tools"] = request.tools
                payload["tool_choice"] = _openai_tool_choice(request.tool_choice)
            if request.enable_thinking is not None:
                payload["chat_template_kwargs"] = {"enable_thinking": request.enable_thinking}
            if request.stop:
                payload["stop"] = list(request.stop)
        else:
            from agentcore.images import images_in

            if images_in(request.messages):
                # /v1/completions carries text only: never drop the pixels silently.
                raise ConfigurationError(
                    "raw mode sends text to /v1/completions and cannot carry images; use mode='chat' "
                    "with a vision model served by the server"
                )
            path = "/completions"
            payload["prompt"] = request.prompt if request.prompt is not None else self._render(request)
            payload["stop"] = list(dict.fromkeys([*self._family_stops(request), *request.stop]))
        if stream:
            payload["stream"] = True
            if self.stream_usage:
                payload["stream_options"] = {"include_usage": True}
        payload.update(self.extra_body)
        return path, payload

    def _render(self, request: GenerationRequest) -> str:
        from agentcore.prompting import render_prompt

        kwargs: dict[str, Any] = {}
        if request.enable_thinking is not None:
            kwargs["enable_thinking"] = request.enable_thinking
        tools = request.tools if request.tool_choice != "none" else None
        return render_prompt(
            request.messages, family=self._family_of(request), tools=tools, add_generation_prompt=True, **kwargs
        )

    def _family_of(self, request: GenerationRequest) -> str:
        # The request's family is the loop's choice; it defaults to "chatml", so ours wins over that default.
        if request.family != "chatml" or self.family is None:
            return request.family
        return self.family

    def _family_stops(self, request: GenerationRequest) -> tuple[str, ...]:
        from agentcore.families import get_family

        return get_family(self._family_of(request)).stop

    # ------------------------------------------------------------------------------------------------
    # Sync.

    def generate(self, request: GenerationRequest) -> Completion:
        path, payload = self.build_payload(request, stream=False)
        client = self._sync_client()
        with self._sync_slots:
            for attempt, url in self._attempts():
                start = time.perf_counter()
                try:
                    response = client.post(url + path, json=payload)
                    data = self._check(url, response.status_code, response.text, response.headers)
                except _Retryable as exc:
                    self._failed(url, exc, attempt)
                    time.sleep(self.retry.delay(attempt + 1, exc.retry_after))
                    continue
                except httpx.HTTPError as exc:
                    retryable = _transport_error(url, exc, self._timeout)
                    self._failed(url, retryable, attempt)
                    time.sleep(self.retry.delay(attempt + 1))
                    continue
                self.endpoints.mark_ok(url)
                return _completion_from_json(data, self.mode, time.perf_counter() - start)
        raise AssertionError("unreachable")  # pragma: no cover - _failed raises on the last attempt

    def stream(self, request: GenerationRequest) -> Iterator[str | Completion]:
        path, payload = self.build_payload(request, stream=True)
        client = self._sync_client()
        with self._sync_slots:
            for attempt, url in self._attempts():
                start = time.perf_counter()
                accumulator = _StreamAccumulator(self.mode, start)
                try:
                    with client.stream("POST", url + path, json=payload) as response:
                        if response.status_code >= 400:
                            response.read()
                            self._check(url, response.status_code, response.text, response.headers)
                        self.endpoints.mark_ok(url)
                        for data in _sse_data(response.iter_lines()):
                            yield from accumulator.feed(url, data)
                except _Retryable as exc:
                    self._failed(url, exc, attempt, started=accumulator.started)
                    time.sleep(self.retry.delay(attempt + 1, exc.retry_after))
                    continue
                except httpx.HTTPError as exc:
                    self._failed(url, _transport_error(url, exc, self._timeout), attempt, started=accumulator.started)
                    time.sleep(self.retry.delay(attempt + 1))
                    continue
                yield from accumulator.finish()
                return

    # ------------------------------------------------------------------------------------------------
    # Async.

    async def agenerate(self, request: GenerationRequest) -> Completion:
        path, payload = self.build_payload(request, stream=False)
        client, slots = self._async_client()
        async with slots:
            for attempt, url in self._attempts():
                start = time.perf_counter()
                try:
                    response = await client.post(url + path, json=payload)
                    data = self._check(url, response.status_code, response.text, response.headers)
                except _Retryable as exc:
                    self._failed(url, exc, attempt)
                    await asyncio.sleep(self.retry.delay(attempt + 1, exc.retry_after))
                    continue
                except httpx.HTTPError as exc:
                    self._failed(url, _transport_error(url, exc, self._timeout), attempt)
                    await asyncio.sleep(self.retry.delay(attempt + 1))
                    continue
                self.endpoints.mark_ok(url)
                return _completion_from_json(data, self.mode, time.perf_counter() - start)
        raise AssertionError("unreachable")  # pragma: no cover

    async def astream(self, request: GenerationRequest) -> AsyncIterator[str | Completion]:
        path, payload = self.build_payload(request, stream=True)
        client, slots = self._async_client()
        async with slots:
            for attempt, url in self._attempts():
                start = time.perf_counter()
                accumulator = _StreamAccumulator(self.mode, start)
                try:
                    async with client.stream("POST", url + path, json=payload) as response:
                        if response.status_code >= 400:
                            await response.aread()
                            self._check(url, response.status_code, response.text, response.headers)
                        self.endpoints.mark_ok(url)
                        async for data in _asse_data(response.aiter_lines()):
                            for piece in accumulator.feed(url, data):
                                yield piece
                except _Retryable as exc:
                    self._failed(url, exc, attempt, started=accumulator.started)
                    await asyncio.sleep(self.retry.delay(attempt + 1, exc.retry_after))
                    continue
                except httpx.HTTPError as exc:
                    self._failed(url, _transport_error(url, exc, self._timeout), attempt, started=accumulator.started)
                    await asyncio.sleep(self.retry.delay(attempt + 1))
                    continue
                for piece in accumulator.finish():
                    yield piece
                return

    # ------------------------------------------------------------------------------------------------
    # Helpers shared by both paths.

    def _attempts(self) -> Iterator[tuple[int, str]]:
        tried: list[str] = []
        for attempt in range(self.retry.max_retries + 1):
            url = self.endpoints.pick(exclude=tried[-1:])
            tried.append(url)
            yield attempt, url

    def _failed(self, url: str, exc: _Retryable, attempt: int, *, started: bool = False) -> None:
        """Record a failure; raise the error when it is the last try or the stream was already under way."""
        self.endpoints.mark_failed(url)
        if started:  # the caller has seen part of the answer: a retry would repeat it
            raise OpenAIServerError(
                f"the stream from {url} broke off mid-answer: {exc.error}", url=url, status_code=exc.error.status_code
            ) from exc
        if attempt >= self.retry.max_retries:
            tries = self.retry.max_retries + 1
            raise OpenAIServerError(
                f"{exc.error} (gave up after {tries} tr{'y' if tries == 1 else 'ies'})",
                url=exc.error.url,
                status_code=exc.error.status_code,
                body=exc.error.body,
            ) from None

    def _check(self, url: str, status: int, text: str, headers: httpx.Headers) -> dict[str, Any]:
        """The JSON body of a good answer; raise the right error for a bad one."""
        if status >= 400:
            error = _server_error(url, status, text, self.model)
            if status in RETRYABLE_STATUSES:
                raise _Retryable(error, headers.get("retry-after"))
            raise error
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise OpenAIServerError(
                f"{url} answered {status} with a body that is not JSON ({text[:200]!r}): is it an OpenAI-compatible "
                "server, and does the base URL end in /v1?",
                url=url,
                status_code=status,
                body=text,
            ) from None
        if isinstance(data, dict) and "error" in data and "choices" not in data:
            raise OpenAIServerError(f"{url} answered an error: {_error_text(data)}", url=url, status_code=status, body=text)
        return data

    # ------------------------------------------------------------------------------------------------
    # Discovery.

    def list_models(self) -> list[str]:
        """The model ids the first healthy endpoint serves (``GET /v1/models``)."""
        url = self.endpoints.pick()
        try:
            response = self._sync_client().get(url + "/models")
        except httpx.HTTPError as exc:
            raise _transport_error(url, exc, self._timeout).error from None
        data = self._check(url, response.status_code, response.text, response.headers)
        return [m["id"] for m in data.get("data", [])]


# ----------------------------------------------------------------------------------------------------
# Request shaping.


def _guess_family(model: str) -> str | None:
    from agentcore.families import UnknownFamilyError, family_for_model

    try:
        return family_for_model(model)
    except UnknownFamilyError:
        return None


def _sampling_fields(request: GenerationRequest) -> dict[str, Any]:
    s = request.sampling
    out: dict[str, Any] = {}
    if s.greedy:
        out["temperature"] = 0.0
    elif s.temperature is not None:
        out["temperature"] = s.temperature
    if s.top_p is not None and not s.greedy:
        out["top_p"] = s.top_p
    if s.max_new_tokens is not None:
        out["max_tokens"] = s.max_new_tokens
    if s.seed is not None:
        out["seed"] = s.seed
    # Not in OpenAI's API, understood by vLLM, SGLang and llama.cpp: sent only when asked for.
    if s.top_k is not None and not s.greedy:
        out["top_k"] = s.top_k
    if s.repetition_penalty is not None:
        out["repetition_penalty"] = s.repetition_penalty
    return out


def _openai_message(message: Message) -> dict[str, Any]:
    """A :class:`Message` in the shape OpenAI's chat API takes (arguments as JSON text, images as URLs)."""
    out: dict[str, Any] = {"role": message.role}
    if isinstance(message.content, list):
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, ImagePart):
                parts.append({"type": "image_url", "image_url": {"url": _image_url(part.image)}})
        out["content"] = parts
    else:
        out["content"] = message.content if message.content is not None else ("" if not message.tool_calls else None)
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        out["name"] = message.name
    return out


def _image_url(image: Any) -> str:
    """An image as a URL a server accepts: http(s) and data URLs pass through; files, bytes and PIL
    images become ``data:`` URLs after the same checks as local images (size, format, pixel bomb)."""
    if isinstance(image, str) and image.startswith(("http://", "https://", "data:")):
        return image
    from agentcore.images import to_data_url

    return to_data_url(image)


def _openai_tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    if isinstance(choice, dict):
        if choice.get("type") == "function":
            return choice
        name = choice.get("name") or choice.get("function", {}).get("name")
        return {"type": "function", "function": {"name": name}}
    return choice


# ----------------------------------------------------------------------------------------------------
# Responses.

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "eos": "stop",
    "abort": "error",
    "error": "error",
}


def _finish_reason(value: Any) -> FinishReason:
    return _FINISH.get(str(value), "stop") if value else "stop"


def _usage_from_json(data: dict[str, Any] | None, elapsed: float, ttft: float | None = None) -> Usage:
    data = data or {}
    completion_tokens = int(data.get("completion_tokens") or 0)
    details = data.get("completion_tokens_details") or {}
    prompt_details = data.get("prompt_tokens_details") or {}
    return Usage(
        prompt_tokens=int(data.get("prompt_tokens") or 0),
        completion_tokens=completion_tokens,
        reasoning_tokens=int(details.get("reasoning_tokens") or 0),
        cached_prompt_tokens=int(prompt_details.get("cached_tokens") or 0),
        time_to_first_token_s=ttft,
        total_s=elapsed,
        tokens_per_s=(completion_tokens / elapsed) if elapsed > 0 and completion_tokens else None,
        calls=1,
    )


def _tool_calls_from_json(calls: Iterable[dict[str, Any]]) -> tuple[list[ToolCall], list[str]]:
    """Server-parsed calls as :class:`ToolCall`; calls whose arguments are not JSON come back as markup."""
    parsed: list[ToolCall] = []
    unparsed: list[str] = []
    for call in calls:
        fn = call.get("function") or {}
        name = fn.get("name") or ""
        raw = fn.get("arguments")
        try:
            arguments = raw if isinstance(raw, dict) else (json.loads(raw) if raw and raw.strip() else {})
            if not isinstance(arguments, dict):
                raise ValueError("arguments are not an object")
        except ValueError:
            # Leave it in the text as a hermes block: agentcore's parser then recovers it or explains the problem.
            unparsed.append(f'<tool_call>\n{{"name": {json.dumps(name)}, "arguments": {raw}}}\n</tool_call>')
            continue
        kwargs: dict[str, Any] = {"name": name, "arguments": arguments}
        if call.get("id"):
            kwargs["id"] = call["id"]
        parsed.append(ToolCall(**kwargs))
    return parsed, unparsed


def _reasoning_of(message: dict[str, Any]) -> str | None:
    # vLLM and SGLang say reasoning_content; newer vLLM and llama.cpp may say reasoning.
    value = message.get("reasoning_content")
    if value is None:
        value = message.get("reasoning")
    return value or None


def _completion_from_json(data: dict[str, Any], mode: Mode, elapsed: float) -> Completion:
    choices = data.get("choices") or []
    if not choices:
        raise OpenAIServerError(f"the server answered without choices: {json.dumps(data)[:300]}", url="", body=str(data))
    choice = choices[0]
    usage = _usage_from_json(data.get("usage"), elapsed)
    if mode == "raw":
        return Completion(
            text=choice.get("text") or "",
            finish_reason=_finish_reason(choice.get("finish_reason")),
            usage=usage,
            model=data.get("model"),
        )
    message = choice.get("message") or {}
    calls, unparsed = _tool_calls_from_json(message.get("tool_calls") or [])
    text = "\n".join([message.get("content") or "", *unparsed]).strip("\n") if unparsed else message.get("content") or ""
    return Completion(
        text=text,
        finish_reason=_finish_reason(choice.get("finish_reason")),
        usage=usage,
        model=data.get("model"),
        tool_calls=calls,
        reasoning=_reasoning_of(message),
    )


class _StreamAccumulator:
    """Turns streamed chunks into text pieces and, at the end, one :class:`Completion`."""

    def __init__(self, mode: Mode, start: float):
        self.mode = mode
        self.start = start
        self.started = False  # a piece went out: no silent retry from here
        self.ttft: float | None = None
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.in_reasoning = False
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: FinishReason = "stop"
        self.usage: dict[str, Any] | None = None
        self.model: str | None = None

    def feed(self, url: str, data: dict[str, Any]) -> Iterator[str]:
        if "error" in data and not data.get("choices"):
            raise OpenAIServerError(f"{url} sent an error mid-stream: {_error_text(data)}", url=url, body=str(data))
        self.model = data.get("model") or self.model
        if data.get("usage"):
            self.usage = data["usage"]
        for choice in data.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason"):
                self.finish_reason = _finish_reason(choice["finish_reason"])
            if self.mode == "raw":
                yield from self._emit(choice.get("text") or "")
                continue
            delta = choice.get("delta") or {}
            reasoning = _reasoning_of(delta)
            if reasoning:
                self.reasoning.append(reasoning)
                if not self.in_reasoning:
                    self.in_reasoning = True
                    yield from self._emit("<think>\n", record=False)
                yield from self._emit(reasoning, record=False)
            content = delta.get("content")
            if content or delta.get("tool_calls"):
                yield from self._close_reasoning()
            if content:
                yield from self._emit(content)
            for call in delta.get("tool_calls") or []:
                self.started = True
                slot = self.calls.setdefault(int(call.get("index", len(self.calls))), {"arguments": ""})
                if call.get("id"):
                    slot["id"] = call["id"]
                fn = call.get("function") or {}
                if fn.get("name"):
                    slot["name"] = fn["name"]
                if fn.get("arguments"):
                    args = fn["arguments"]
                    slot["arguments"] += args if isinstance(args, str) else json.dumps(args)

    def _close_reasoning(self) -> Iterator[str]:
        if self.in_reasoning:
            self.in_reasoning = False
            yield from self._emit("\n</think>\n\n", record=False)

    def _emit(self, piece: str, *, record: bool = True) -> Iterator[str]:
        if not piece:
            return
        if self.ttft is None:
            self.ttft = time.perf_counter() - self.start
        self.started = True
        if record:
            self.text.append(piece)
        yield piece

    def finish(self) -> Iterator[str | Completion]:
        yield from self._close_reasoning()
        elapsed = time.perf_counter() - self.start
        usage = _usage_from_json(self.usage, elapsed, self.ttft)
        text = "".join(self.text)
        if self.mode == "raw":
            yield Completion(text=text, finish_reason=self.finish_reason, usage=usage, model=self.model)
            return
        calls, unparsed = _tool_calls_from_json(
            {"id": slot.get("id"), "function": {"name": slot.get("name", ""), "arguments": slot["arguments"]}}
            for _, slot in sorted(self.calls.items())
        )
        if unparsed:
            text = "\n".join([text, *unparsed]).strip("\n")
        yield Completion(
            text=text,
            finish_reason=self.finish_reason,
            usage=usage,
            model=self.model,
            tool_calls=calls,
            reasoning="".join(self.reasoning).strip() or None,
        )


# ----------------------------------------------------------------------------------------------------
# Server-sent events.


def _sse_payload(data_lines: list[str]) -> dict[str, Any] | None:
    text = "\n".join(data_lines)
    if not text or text.strip() == "[DONE]":
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise OpenAIServerError(f"the server streamed an event that is not JSON: {text[:200]!r}", url="") from None
    return value if isinstance(value, dict) else None


class _SSEDecoder:
    """Server-sent events, line by line: each blank line ends an event; ``[DONE]`` ends the stream.

    One decoder for the sync and async readers, so both read the wire the same way."""

    DONE = object()

    def __init__(self) -> None:
        self.buffer: list[str] = []

    def line(self, line: str) -> Any:
        """Take one line: the event's JSON when it ends one, :attr:`DONE` at ``[DONE]``, else ``None``."""
        if line == "":
            buffer, self.buffer = self.buffer, []
            if buffer and buffer[0].strip() == "[DONE]":
                return self.DONE
            return _sse_payload(buffer)
        if line.startswith("data:"):
            self.buffer.append(line[5:].lstrip(" "))
        # "event:", "id:", "retry:" and ":" comments carry nothing we need
        return None


def _sse_data(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The JSON ``data`` of each server-sent event; stops at ``[DONE]``."""
    decoder = _SSEDecoder()
    for line in itertools.chain(lines, [""]):  # a final blank line ends an unterminated last event
        payload = decoder.line(line)
        if payload is _SSEDecoder.DONE:
            return
        if payload is not None:
            yield payload


async def _asse_data(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Async :func:`_sse_data`."""
    decoder = _SSEDecoder()

    async def with_blank() -> AsyncIterator[str]:
        async for line in lines:
            yield line
        yield ""

    async for line in with_blank():
        payload = decoder.line(line)
        if payload is _SSEDecoder.DONE:
            return
        if payload is not None:
            yield payload


# ----------------------------------------------------------------------------------------------------
# Errors.


def _error_text(data: Any) -> str:
    """The message inside an OpenAI-style error body (``{"error": {"message": ...}}`` and variants)."""
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or json.dumps(error))[:1000]
        if "detail" in data:
            return str(data["detail"])[:1000]
        return str(error)[:1000]
    return str(data)[:1000]


_HINTS = {
    400: "the server rejected the request as invalid",
    401: "check the API key (api_key=... / --api-key)",
    403: "the API key is not allowed to do this",
    404: "check the model name (GET <base_url>/models lists them) and that the base URL ends in /v1",
    413: "the request is larger than the server accepts: shorten the conversation",
    422: "the server rejected the request's fields",
    429: "the server is rate limiting or full: lower the concurrency",
}


def _server_error(url: str, status: int, text: str, model: str) -> OpenAIServerError:
    try:
        detail = _error_text(json.loads(text))
    except (json.JSONDecodeError, ValueError):
        detail = text.strip()[:500] or "(empty body)"
    reason = httpx.codes.get_reason_phrase(status) or "error"
    hint = _HINTS.get(status, "the server failed" if status >= 500 else "")
    message = f"{url} answered {status} {reason} for model {model!r}: {detail}"
    if hint:
        message += f" ({hint})"
    return OpenAIServerError(message, url=url, status_code=status, body=text)


def _transport_error(url: str, exc: httpx.HTTPError, timeout: httpx.Timeout) -> _Retryable:
    if isinstance(exc, httpx.TimeoutException):
        message = f"no answer from {url} within the timeout ({timeout.read}s read, {timeout.connect}s connect): " \
                  "raise timeout=... or check that the server is not overloaded"
    elif isinstance(exc, httpx.ConnectError):
        message = f"could not connect to {url} ({exc}): is the server running, and is the address right?"
    else:
        message = f"the connection to {url} failed: {type(exc).__name__}: {exc}"
    return _Retryable(OpenAIServerError(message, url=url))
