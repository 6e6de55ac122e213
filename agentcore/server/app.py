"""The OpenAI-compatible HTTP app over agentcore's backends and agents (Starlette).

Routes: ``POST /v1/chat/completions``, ``POST /v1/completions``, ``GET /v1/models``, ``GET /health``.

A *model name* is either a backend (``create_app(backends={"smollm2": backend})``) or an agent, listed as
``agent:<name>``. For a backend, a chat request is rendered with agentcore's template of the backend's
family, generated, and parsed with agentcore's parser, so ``tool_calls`` and ``reasoning_content`` come
back in OpenAI's shape (streamed as chunks when asked). For an agent, the last user message is the task
and the messages before it its history: the whole agent loop runs (tools, verification) and the final
answer is the reply.

Every generation request passes the guards first: API key, per-key rate limit, body size (middleware),
input length, and the concurrency gate (429 at once when full). Logs carry a hash of the prompt and of
the key, never their text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agentcore.backends.base import Backend, BackendError, Completion, GenerationRequest
from agentcore.errors import AgentcoreError
from agentcore.families import Family, get_family, reasoning_hint
from agentcore.messages import Message, ToolCall, to_message
from agentcore.server import protocol as p
from agentcore.server.guards import BodySizeLimit, ConcurrencyGate, TokenBucket, error_body, fingerprint
from agentcore.server.settings import ServerSettings

log = logging.getLogger("agentcore.server")

AGENT_PREFIX = "agent:"
AgentLike = Union[Any, Callable[[], Any]]  # an Agent, or a function making one per request
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """A request that gets an OpenAI-shaped error answer."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 *, param: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.message, self.type, self.code, self.param), self.status, headers=self.headers)


class ModelRegistry:
    """The names a client can ask for: backends by their name, agents as ``agent:<name>``."""

    def __init__(self, backends: Mapping[str, Backend], agents: Mapping[str, AgentLike] | None = None):
        self.backends = dict(backends)
        self.agents = {(k if k.startswith(AGENT_PREFIX) else AGENT_PREFIX + k): v for k, v in (agents or {}).items()}
        if not self.backends and not self.agents:
            raise AgentcoreError("the server needs at least one model or agent to serve")
        self.created = int(time.time())

    def names(self) -> list[str]:
        return [*self.backends, *self.agents]

    def backend(self, name: str) -> Backend:
        if name in self.backends:
            return self.backends[name]
        if name in self.agents:
            raise ApiError(400, f"{name!r} is an agent: call it through /v1/chat/completions", code="model_is_agent",
                           param="model")
        raise self._unknown(name)

    def _unknown(self, name: str) -> ApiError:
        return ApiError(404, f"the model {name!r} does not exist on this server; it serves: {', '.join(self.names())}",
                        code="model_not_found", param="model")

    def lookup(self, name: str) -> tuple[str, Backend | AgentLike]:
        if name in self.backends:
            return "backend", self.backends[name]
        if name in self.agents:
            return "agent", self.agents[name]
        raise self._unknown(name)


class _State:
    def __init__(self, registry: ModelRegistry, settings: ServerSettings):
        self.registry = registry
        self.settings = settings
        self.gate = ConcurrencyGate(settings.max_concurrency)
        self.limiter = (TokenBucket(settings.rate_limit_per_minute, settings.rate_limit_burst)
                        if settings.rate_limit_per_minute else None)


def create_app(
    backends: Mapping[str, Backend],
    agents: Mapping[str, AgentLike] | None = None,
    settings: ServerSettings | None = None,
) -> BodySizeLimit:
    """The ASGI app serving ``backends`` (by name) and ``agents`` (as ``agent:<name>``) under ``settings``."""
    settings = settings or ServerSettings()
    state = _State(ModelRegistry(backends, agents), settings)

    async def chat(request: Request) -> Response:
        return await _guarded(state, request, "chat", _chat)

    async def completions(request: Request) -> Response:
        return await _guarded(state, request, "completion", _completion)

    async def models(request: Request) -> Response:
        _authenticate(state, request)
        data = [{"id": n, "object": "model", "created": state.registry.created,
                 "owned_by": "agentcore-agent" if n in state.registry.agents else "agentcore"}
                for n in state.registry.names()]
        return JSONResponse({"object": "list", "data": data})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "models": state.registry.names(), "in_flight": state.gate.in_flight,
                             "max_concurrency": settings.max_concurrency})

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = "request_too_large" if exc.status_code == 413 else None
        return JSONResponse(error_body(str(exc.detail), "invalid_request_error", code), exc.status_code)

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error},
    )
    app.state.agentcore = state
    return BodySizeLimit(app, settings.max_body_bytes)


# --------------------------------------------------------------------------------------------------------
# Guards.


def _authenticate(state: _State, request: Request) -> str:
    """The caller's identity for rate limiting: a hash of its key, or its address when keys are off."""
    keys = state.settings.api_keys
    if not keys:
        return "addr:" + (request.client.host if request.client else "unknown")
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or key.strip() not in keys:
        raise ApiError(401, "missing or invalid API key: send 'Authorization: Bearer <key>' with a key this server knows",
                       "authentication_error", "invalid_api_key")
    return "key:" + fingerprint(key.strip(), 8)


async def _guarded(
    state: _State, request: Request, kind: str,
    handler: Callable[[_State, dict[str, Any], dict[str, Any]], Awaitable[Response]],
) -> Response:
    start = time.perf_counter()
    info: dict[str, Any] = {"kind": kind, "status": 500}
    try:
        who = _authenticate(state, request)
        info["client"] = who
        if state.limiter is not None:
            wait = state.limiter.take(who)
            if wait > 0:
                raise ApiError(429, f"rate limit of {state.settings.rate_limit_per_minute:g} requests a minute exceeded "
                               f"for this key: retry in {wait:.1f}s", "rate_limit_error", "rate_limit_exceeded",
                               headers={"retry-after": str(max(1, round(wait)))})
        body = await _read_json(request)
        if not state.gate.try_enter():
            raise ApiError(429, f"server busy: {state.gate.in_flight} requests are generating (limit "
                           f"{state.gate.limit}); retry shortly", "server_busy", "server_busy",
                           headers={"retry-after": "1"})
        handed_over = False
        try:
            response = await handler(state, body, info)
            if isinstance(response, StreamingResponse):
                handed_over = True  # the stream releases the slot and logs when it ends
            info["status"] = response.status_code
            return response
        finally:
            if not handed_over:
                state.gate.leave()
    except ApiError as exc:
        info["status"] = exc.status
        info["error"] = exc.code or exc.type
        return exc.response()
    finally:
        if not info.get("streaming"):
            _log(info, start)


def _log(info: dict[str, Any], start: float) -> None:
    info["ms"] = round((time.perf_counter() - start) * 1000)
    # Only hashes and counts: prompts and keys never reach the log.
    log.info(" ".join(f"{k}={v}" for k, v in info.items() if k != "streaming"))


async def _read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()  # BodySizeLimit stops this with 413 past the limit
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def _validate(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "body"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ApiError(400, f"invalid field {where!r}: {first['msg']}{more}", param=where) from None


def _check_common(state: _State, req: p._SamplingFields) -> None:
    if req.n != 1:
        raise ApiError(400, "this server returns one choice per request: set n=1", param="n")
    wanted = req.requested_max_tokens()
    if wanted is not None and wanted > state.settings.max_tokens_limit:
        raise ApiError(400, f"max_tokens={wanted} is above this server's limit of {state.settings.max_tokens_limit}",
                       param="max_tokens")


def _check_length(state: _State, chars: int) -> None:
    limit = state.settings.max_input_chars
    if chars > limit:
        raise ApiError(400, f"the input is {chars} characters; this server accepts at most {limit}: shorten it",
                       code="context_length_exceeded", param="messages")


async def _timed(state: _State, awaitable: Awaitable[Any]) -> Any:
    timeout = state.settings.request_timeout_s
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise ApiError(504, f"the model did not finish within {timeout:g}s", "timeout", "timeout") from None


def _backend_failure(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, (AgentcoreError, ValueError)) and not isinstance(exc, BackendError):
        return ApiError(400, str(exc))
    if isinstance(exc, BackendError):
        return ApiError(502, f"the model backend failed: {exc}", "backend_error", "backend_error")
    log.exception("unexpected error while generating")  # the traceback, never the prompt
    return ApiError(500, f"internal error: {type(exc).__name__}", "server_error", "internal_error")


# --------------------------------------------------------------------------------------------------------
# /v1/chat/completions.


async def _chat(state: _State, body: dict[str, Any], info: dict[str, Any]) -> Response:
    req = _validate(p.ChatCompletionRequest, body)
    info["model"] = req.model
    _check_common(state, req)
    try:
        messages = [to_message(m) for m in req.messages]
        tool_choice = req.agentcore_tool_choice()
    except (ValueError, TypeError, KeyError) as exc:
        raise ApiError(400, f"invalid messages: {exc}", param="messages") from None
    tools = req.tools or []
    _check_length(state, sum(len(m.text()) for m in messages) + (len(json.dumps(tools)) if tools else 0))
    info["prompt"] = fingerprint([m.to_template_dict() for m in messages])
    info["chars"] = sum(len(m.text()) for m in messages)
    kind, target = state.registry.lookup(req.model)
    if kind == "agent":
        return await _chat_agent(state, req, messages, target, info)
    assert isinstance(target, Backend)
    greq, family = _chat_request(state, req, messages, tools, tool_choice, target)
    response_id = p.new_id("chatcmpl")
    if req.stream:
        return await _start_stream(state, info, _chat_stream(state, req, greq, family, target, response_id, info))
    try:
        completion: Completion = await _timed(state, target.agenerate(greq))
    except Exception as exc:
        raise _backend_failure(exc) from None
    reasoning, content, calls = _parse(completion, greq)
    info.update(tokens=completion.usage.completion_tokens, calls=len(calls))
    return JSONResponse(p.chat_response(
        response_id=response_id, model=req.model, content=content, reasoning=reasoning, tool_calls=calls,
        finish_reason=p.openai_finish_reason(completion.finish_reason, bool(calls)), usage=completion.usage,
    ))


def _chat_request(
    state: _State, req: p.ChatCompletionRequest, messages: list[Message], tools: list[dict[str, Any]],
    tool_choice: str | dict[str, Any], backend: Backend,
) -> tuple[GenerationRequest, Family]:
    from agentcore.prompting import render_prompt

    family = get_family(backend.family or "chatml")
    use_tools = tools if tool_choice != "none" and family.tool_format != "none" else []
    thinking = req.enable_thinking()
    kwargs: dict[str, Any] = {}
    if thinking is not None and family.thinking == "hybrid":
        kwargs["enable_thinking"] = thinking
    try:
        prompt = render_prompt(messages, family=family, tools=use_tools or None, add_generation_prompt=True, **kwargs)
    except (AgentcoreError, ValueError) as exc:
        raise ApiError(400, f"the conversation cannot be rendered: {exc}", param="messages") from None
    greq = GenerationRequest(
        messages=messages,
        prompt=prompt,
        family=family.name,
        tools=use_tools,
        tool_format=family.tool_format if family.tool_format != "none" else "hermes",
        tool_choice=tool_choice if use_tools else "none",
        enable_thinking=thinking,
        sampling=req.sampling(state.settings.default_max_tokens),
        stop=list(dict.fromkeys([*family.stop, *req.stop_list()])),
        model=req.model,
    )
    return greq, family


def _parse(completion: Completion, greq: GenerationRequest) -> tuple[str | None, str | None, list[ToolCall]]:
    """Reasoning, content and calls of a completion: the backend's own parse, else agentcore's parser."""
    if completion.tool_calls is not None:
        return completion.reasoning, completion.text.strip() or None, list(completion.tool_calls)
    from agentcore.parsing import parse_output

    hint = reasoning_hint(get_family(greq.family), greq.enable_thinking)
    parsed = parse_output(completion.text, format=greq.tool_format, tools=greq.tools, thinking=hint)
    if parsed.problems:
        log.info("parse problems=%d (the text stays in the content)", len(parsed.problems))
    return parsed.reasoning, parsed.content, parsed.tool_calls


async def _start_stream(state: _State, info: dict[str, Any], chunks: AsyncIterator[bytes]) -> StreamingResponse:
    """Get the first chunk before answering 200, so a backend that fails at once gets a real error status."""
    try:
        first = await chunks.__anext__()
    except StopAsyncIteration:
        first = b""
    info["streaming"] = True
    start = time.perf_counter()

    async def body() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk
        finally:
            state.gate.leave()
            info["status"] = 200
            _log(info, start)

    return StreamingResponse(body(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


async def _next_item(state: _State, stream: AsyncIterator[Any], deadline: float | None) -> Any:
    """The backend stream's next item, ``None`` at its end; 504 once the request's deadline passes."""
    remaining = None if deadline is None else max(0.001, deadline - time.monotonic())
    try:
        return await asyncio.wait_for(stream.__anext__(), remaining)
    except StopAsyncIteration:
        return None
    except asyncio.TimeoutError:
        raise ApiError(504, f"the model did not finish within {state.settings.request_timeout_s:g}s", "timeout",
                       "timeout") from None


async def _chat_stream(
    state: _State, req: p.ChatCompletionRequest, greq: GenerationRequest, family: Family, backend: Backend,
    response_id: str, info: dict[str, Any],
) -> AsyncIterator[bytes]:
    from agentcore import events as ev
    from agentcore.parsing import StreamParser

    model = req.model
    timeout = state.settings.request_timeout_s
    deadline = None if timeout is None else time.monotonic() + timeout
    parser = StreamParser(format=greq.tool_format, tools=greq.tools,
                          thinking=reasoning_hint(family, greq.enable_thinking))
    stream = backend.astream(greq)
    completion: Completion | None = None
    calls: list[ToolCall] = []
    content_started = reasoning_started = False
    try:
        # The first item comes before the 200: a backend that fails at once gets a proper error status.
        try:
            item = await _next_item(state, stream, deadline)
        except Exception as exc:
            raise _backend_failure(exc) from None
        yield p.sse(p.chat_chunk(response_id, model, {"role": "assistant", "content": ""}))

        def deltas(events: list[Any]) -> list[bytes]:
            nonlocal content_started, reasoning_started
            out: list[bytes] = []
            for event in events:
                if isinstance(event, ev.ReasoningDelta):
                    text = event.text if reasoning_started else event.text.lstrip()
                    if text:
                        reasoning_started = True
                        out.append(p.sse(p.chat_chunk(response_id, model, {"reasoning_content": text})))
                elif isinstance(event, ev.ContentDelta):
                    text = event.text if content_started else event.text.lstrip()
                    if text:
                        content_started = True
                        out.append(p.sse(p.chat_chunk(response_id, model, {"content": text})))
                elif isinstance(event, ev.ToolCallParsed):
                    calls.append(event.call)
                    delta = {"tool_calls": [p.tool_call_json(event.call, index=len(calls) - 1)]}
                    out.append(p.sse(p.chat_chunk(response_id, model, delta)))
            return out

        try:
            while item is not None:
                if isinstance(item, Completion):
                    completion = item
                    break
                for chunk in deltas(parser.feed(item)):
                    yield chunk
                item = await _next_item(state, stream, deadline)
            for chunk in deltas(parser.close()):
                yield chunk
            if completion is None:
                raise BackendError("the backend ended its stream without a completion")
            if completion.tool_calls is not None and not calls:  # a backend that parsed calls itself
                for chunk in deltas([ev.ToolCallParsed(call=c) for c in completion.tool_calls]):
                    yield chunk
            finish = p.openai_finish_reason(completion.finish_reason, bool(calls))
            yield p.sse(p.chat_chunk(response_id, model, {}, finish))
            if req.include_usage():
                yield p.sse(p.usage_chunk(response_id, model, "chat.completion.chunk", completion.usage))
            info.update(tokens=completion.usage.completion_tokens, calls=len(calls))
        except Exception as exc:  # headers are out: report the error in the stream, as OpenAI does
            error = _backend_failure(exc)
            info["error"] = error.code or error.type
            yield p.sse(error_body(error.message, error.type, error.code))
        yield p.sse("[DONE]")
    finally:
        await _aclose(stream)


async def _aclose(stream: AsyncIterator[Any]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # closing a broken stream must not hide the real outcome
            log.debug("closing a backend stream failed", exc_info=True)


async def _chat_agent(
    state: _State, req: p.ChatCompletionRequest, messages: list[Message], target: AgentLike, info: dict[str, Any]
) -> Response:
    users = [m for m in messages if m.role == "user"]
    if not users:
        raise ApiError(400, "an agent needs a user message: the last one is its task", param="messages")
    task = users[-1]
    history = messages[: messages.index(task)]  # earlier turns: the agent answers in context
    agent = target() if callable(target) and not hasattr(target, "arun") else target
    try:
        result = await _timed(state, agent.arun(task.text(), images=task.images() or None, history=history))
    except Exception as exc:
        raise _backend_failure(exc) from None
    info.update(tokens=result.usage.completion_tokens, agent_status=result.status)
    if result.status == "error" and not result.answer:
        raise ApiError(502, f"the agent run failed: {result.error}", "agent_error", "agent_error")
    extra = {"status": result.status, "steps": len(result.steps), "run_id": result.run_id, "verified": result.verified}
    response_id = p.new_id("chatcmpl")
    finish = "length" if result.status == "max_steps" and not result.answer else "stop"
    if not req.stream:
        return JSONResponse(p.chat_response(
            response_id=response_id, model=req.model, content=result.answer, reasoning=result.reasoning,
            tool_calls=[], finish_reason=finish, usage=result.usage, extra=extra,
        ))

    async def chunks() -> AsyncIterator[bytes]:
        # The run is finished: its answer goes out as one chunk.
        yield p.sse(p.chat_chunk(response_id, req.model, {"role": "assistant", "content": ""}))
        if result.reasoning:
            yield p.sse(p.chat_chunk(response_id, req.model, {"reasoning_content": result.reasoning}))
        if result.answer:
            yield p.sse(p.chat_chunk(response_id, req.model, {"content": result.answer}))
        yield p.sse(p.chat_chunk(response_id, req.model, {}, finish))
        if req.include_usage():
            yield p.sse(p.usage_chunk(response_id, req.model, "chat.completion.chunk", result.usage))
        yield p.sse("[DONE]")

    return await _start_stream(state, info, chunks())


# --------------------------------------------------------------------------------------------------------
# /v1/completions.


async def _completion(state: _State, body: dict[str, Any], info: dict[str, Any]) -> Response:
    req = _validate(p.CompletionRequest, body)
    info["model"] = req.model
    _check_common(state, req)
    if req.echo:
        raise ApiError(400, "echo is not supported: the prompt is yours already", param="echo")
    try:
        prompt = req.prompt_text()
    except ValueError as exc:
        raise ApiError(400, str(exc), param="prompt") from None
    _check_length(state, len(prompt))
    info.update(prompt=fingerprint(prompt), chars=len(prompt))
    backend = state.registry.backend(req.model)
    family = backend.family or "chatml"
    greq = GenerationRequest(
        messages=[Message(role="user", content=prompt)],
        prompt=prompt,
        family=family,
        tool_choice="none",
        sampling=req.sampling(state.settings.default_max_tokens),
        stop=req.stop_list(),
        model=req.model,
    )
    response_id = p.new_id("cmpl")
    if req.stream:
        return await _start_stream(state, info, _completion_stream(state, req, greq, backend, response_id, info))
    try:
        completion: Completion = await _timed(state, backend.agenerate(greq))
    except Exception as exc:
        raise _backend_failure(exc) from None
    info["tokens"] = completion.usage.completion_tokens
    return JSONResponse(p.completion_response(
        response_id=response_id, model=req.model, text=completion.text,
        finish_reason=p.openai_finish_reason(completion.finish_reason, False), usage=completion.usage,
    ))


async def _completion_stream(
    state: _State, req: p.CompletionRequest, greq: GenerationRequest, backend: Backend, response_id: str,
    info: dict[str, Any],
) -> AsyncIterator[bytes]:
    timeout = state.settings.request_timeout_s
    deadline = None if timeout is None else time.monotonic() + timeout
    stream = backend.astream(greq)
    completion: Completion | None = None
    try:
        try:
            item = await _next_item(state, stream, deadline)
        except Exception as exc:
            raise _backend_failure(exc) from None
        try:
            while item is not None:
                if isinstance(item, Completion):
                    completion = item
                    break
                if item:
                    yield p.sse(p.completion_chunk(response_id, req.model, item))
                item = await _next_item(state, stream, deadline)
            if completion is None:
                raise BackendError("the backend ended its stream without a completion")
            yield p.sse(p.completion_chunk(response_id, req.model, "",
                                           p.openai_finish_reason(completion.finish_reason, False)))
            if req.include_usage():
                yield p.sse(p.usage_chunk(response_id, req.model, "text_completion", completion.usage))
            info["tokens"] = completion.usage.completion_tokens
        except Exception as exc:
            error = _backend_failure(exc)
            info["error"] = error.code or error.type
            yield p.sse(error_body(error.message, error.type, error.code))
        yield p.sse("[DONE]")
    finally:
        await _aclose(stream)


__all__ = ["AGENT_PREFIX", "ApiError", "ModelRegistry", "create_app"]
