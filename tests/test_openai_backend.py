"""OpenAIBackend against fake servers (httpx.MockTransport): request shapes, parsing, streaming, retries, rotation.

The same backend is driven against real servers in test_server.py (``agentcore serve``) and the peer tests.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest

from agentcore.backends.base import Completion, GenerationRequest, SamplingParams
from agentcore.backends.http_pool import EndpointPool, RetryPolicy, normalize_base_url
from agentcore.backends.openai import OpenAIBackend, OpenAIServerError
from agentcore.errors import AgentcoreError, ConfigurationError
from agentcore.messages import Message, ToolCall

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def chat_response(message: dict[str, Any], finish: str = "stop", usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
        "usage": usage or {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
    }


def sse(*events: dict[str, Any], done: bool = True) -> bytes:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    if done:
        body += "data: [DONE]\n\n"
    return body.encode()


class Recorder:
    """A fake server: answers with queued responses and records every request it got."""

    def __init__(self, *responses: httpx.Response | Exception):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def backend(recorder: Recorder, **kwargs: Any) -> OpenAIBackend:
    kwargs.setdefault("backoff_s", 0.001)
    return OpenAIBackend(
        kwargs.pop("base_url", "http://server:8000"),
        kwargs.pop("model", "Qwen/Qwen2.5-7B-Instruct"),
        transport=httpx.MockTransport(recorder),
        **kwargs,
    )


def request(**kwargs: Any) -> GenerationRequest:
    kwargs.setdefault("messages", [Message(role="user", content="What is the weather in Paris?")])
    return GenerationRequest(**kwargs)


# --------------------------------------------------------------------------------------------------------
# Chat mode.


def test_chat_mode_sends_messages_tools_and_sampling() -> None:
    rec = Recorder(httpx.Response(200, json=chat_response({"content": "Sunny."})))
    be = backend(rec, api_key="sk-test")
    history = [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Weather?"),
        Message(role="assistant", content=None, tool_calls=[ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"})]),
        Message(role="tool", content="sunny", tool_call_id="call_1"),
    ]
    out = be.generate(
        request(
            messages=history,
            tools=[WEATHER],
            tool_choice={"name": "get_weather"},
            enable_thinking=False,
            sampling=SamplingParams(temperature=0.3, top_p=0.9, top_k=20, max_new_tokens=64, seed=7),
            stop=["END"],
        )
    )
    assert out.text == "Sunny." and out.tool_calls == [] and out.finish_reason == "stop"
    assert out.usage.prompt_tokens == 11 and out.usage.completion_tokens == 5
    sent = rec.requests[0]
    assert sent.url == "http://server:8000/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    body = json.loads(sent.content)
    assert body["model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert body["messages"][2]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert body["messages"][3] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}
    assert body["tools"] == [WEATHER]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert (body["temperature"], body["top_p"], body["top_k"], body["max_tokens"], body["seed"]) == (0.3, 0.9, 20, 64, 7)
    assert body["stop"] == ["END"] and "stream" not in body


def test_chat_mode_reads_tool_calls_and_reasoning() -> None:
    message = {
        "content": None,
        "reasoning_content": "The user wants weather.",
        "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}},
        ],
    }
    rec = Recorder(httpx.Response(200, json=chat_response(message, finish="tool_calls")))
    out = backend(rec).generate(request(tools=[WEATHER]))
    assert out.finish_reason == "tool_call"
    assert out.reasoning == "The user wants weather."
    assert out.text == ""
    assert [(c.id, c.name, c.arguments) for c in out.tool_calls] == [
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_weather", {"city": "Rome"}),
    ]


def test_chat_mode_keeps_a_call_with_broken_arguments_as_text_for_agentcores_parser() -> None:
    message = {
        "content": "Let me check.",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": Rome'}},
        ],
    }
    out = backend(Recorder(httpx.Response(200, json=chat_response(message)))).generate(request())
    assert [c.arguments for c in out.tool_calls] == [{"city": "Paris"}]
    assert out.text.startswith("Let me check.")
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"city": Rome}\n</tool_call>' in out.text


def test_greedy_and_tool_choice_none() -> None:
    rec = Recorder(httpx.Response(200, json=chat_response({"content": "ok"})))
    backend(rec).generate(request(tools=[WEATHER], tool_choice="none", sampling=SamplingParams(greedy=True, top_k=5)))
    body = rec.bodies()[0]
    assert body["temperature"] == 0.0 and "top_k" not in body
    assert "tools" not in body and "tool_choice" not in body


def test_family_is_guessed_from_the_model_id_or_given() -> None:
    rec = Recorder(httpx.Response(200, json=chat_response({"content": "ok"})))
    assert backend(rec, model="Qwen/Qwen3-8B").family == "qwen3"
    assert backend(rec, model="my-finetune").family is None
    assert backend(rec, model="my-finetune", family="qwen2.5").family == "qwen2.5"


# --------------------------------------------------------------------------------------------------------
# Raw mode.


def test_raw_mode_renders_with_agentcores_template_and_returns_raw_text() -> None:
    from agentcore.prompting import render_prompt

    raw = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    completion = {"id": "cmpl-1", "object": "text_completion", "model": "m",
                  "choices": [{"index": 0, "text": raw, "finish_reason": "stop"}],
                  "usage": {"prompt_tokens": 50, "completion_tokens": 20}}
    rec = Recorder(httpx.Response(200, json=completion))
    be = backend(rec, mode="raw", stream_usage=False)
    req = request(tools=[WEATHER], stop=["STOP"])
    out = be.generate(req)
    assert out.text == raw and out.tool_calls is None  # the loop parses the text itself
    body = rec.bodies()[0]
    assert rec.requests[0].url.path == "/v1/completions"
    assert body["prompt"] == render_prompt(req.messages, family="qwen2.5", tools=[WEATHER], add_generation_prompt=True)
    assert body["stop"] == ["<|im_end|>", "<|endoftext|>", "STOP"]


def test_raw_mode_uses_a_prompt_already_rendered() -> None:
    completion = {"choices": [{"index": 0, "text": "4", "finish_reason": "length"}]}
    rec = Recorder(httpx.Response(200, json=completion))
    out = backend(rec, mode="raw").generate(request(prompt="<|im_start|>user\n2+2<|im_end|>\n<|im_start|>assistant\n"))
    assert rec.bodies()[0]["prompt"].endswith("<|im_start|>assistant\n")
    assert out.text == "4" and out.finish_reason == "length"


def test_raw_mode_needs_a_family() -> None:
    with pytest.raises(ConfigurationError, match="family="):
        OpenAIBackend("http://x", "my-finetune", mode="raw")


# --------------------------------------------------------------------------------------------------------
# Streaming.

CHAT_STREAM = sse(
    {"model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "Think"}}]},
    {"model": "m", "choices": [{"index": 0, "delta": {"reasoning_content": "ing."}}]},
    {"model": "m", "choices": [{"index": 0, "delta": {"content": "Hello"}}]},
    {"model": "m", "choices": [{"index": 0, "delta": {"content": " world"}}]},
    {"model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "call_x", "type": "function", "function": {"name": "get_weather", "arguments": '{"ci'}}]}}]},
    {"model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}]}, "finish_reason": "tool_calls"}]},
    {"model": "m", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 12}},
)


def check_chat_stream(items: list[Any]) -> None:
    *pieces, last = items
    assert all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == "<think>\nThinking.\n</think>\n\nHello world"
    assert isinstance(last, Completion)
    assert last.text == "Hello world" and last.reasoning == "Thinking."
    assert last.tool_calls == [ToolCall(id="call_x", name="get_weather", arguments={"city": "Oslo"})]
    assert last.finish_reason == "tool_call"
    assert last.usage.completion_tokens == 12 and last.usage.time_to_first_token_s is not None


def test_stream_chat_sync() -> None:
    rec = Recorder(httpx.Response(200, content=CHAT_STREAM, headers={"content-type": "text/event-stream"}))
    check_chat_stream(list(backend(rec).stream(request())))
    body = rec.bodies()[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_stream_chat_async() -> None:
    rec = Recorder(httpx.Response(200, content=CHAT_STREAM, headers={"content-type": "text/event-stream"}))

    async def main() -> list[Any]:
        be = backend(rec)
        try:
            return [item async for item in be.astream(request())]
        finally:
            await be.aclose()

    check_chat_stream(asyncio.run(main()))


def test_stream_raw_mode() -> None:
    body = sse(*({"choices": [{"index": 0, "text": t, "finish_reason": None}]} for t in ["<think>\nhm", "\n</think>\n\n", "42"]))
    rec = Recorder(httpx.Response(200, content=body))
    items = list(backend(rec, mode="raw").stream(request()))
    assert items[:-1] == ["<think>\nhm", "\n</think>\n\n", "42"]
    assert items[-1].text == "<think>\nhm\n</think>\n\n42"


def test_stream_error_event_becomes_a_clear_error() -> None:
    body = sse({"choices": [{"index": 0, "delta": {"content": "par"}}]}, {"error": {"message": "CUDA out of memory"}})
    rec = Recorder(httpx.Response(200, content=body))
    with pytest.raises(OpenAIServerError, match="CUDA out of memory"):
        list(backend(rec).stream(request()))


# --------------------------------------------------------------------------------------------------------
# Errors, retries, rotation.


def test_retries_on_429_and_5xx_then_succeeds() -> None:
    rec = Recorder(
        httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0"}),
        httpx.Response(503, text="overloaded"),
        httpx.Response(200, json=chat_response({"content": "ok"})),
    )
    assert backend(rec, max_retries=3).generate(request()).text == "ok"
    assert len(rec.requests) == 3


def test_gives_up_after_max_retries_with_what_the_server_said() -> None:
    rec = Recorder(httpx.Response(503, json={"error": {"message": "engine is dead"}}))
    with pytest.raises(OpenAIServerError) as info:
        backend(rec, max_retries=2).generate(request())
    assert len(rec.requests) == 3
    assert info.value.status_code == 503
    assert "503" in str(info.value) and "engine is dead" in str(info.value) and "3 tries" in str(info.value)
    assert isinstance(info.value, AgentcoreError)


@pytest.mark.parametrize(
    ("status", "payload", "words"),
    [
        (400, {"error": {"message": "max_tokens is too large"}}, ["400", "max_tokens is too large"]),
        (401, {"error": {"message": "bad key"}}, ["401", "api_key"]),
        (404, {"detail": "model 'x' not found"}, ["404", "model 'x' not found", "/models"]),
    ],
)
def test_client_errors_are_not_retried_and_say_what_the_server_answered(status: int, payload: Any, words: list[str]) -> None:
    rec = Recorder(httpx.Response(status, json=payload))
    with pytest.raises(OpenAIServerError) as info:
        backend(rec).generate(request())
    assert len(rec.requests) == 1
    for word in words:
        assert word in str(info.value)


def test_non_json_answer_is_explained() -> None:
    rec = Recorder(httpx.Response(200, text="<html>hello</html>"))
    with pytest.raises(OpenAIServerError, match="not JSON"):
        backend(rec).generate(request())


def test_connection_error_is_retried_and_explained() -> None:
    rec = Recorder(httpx.ConnectError("connection refused"))
    with pytest.raises(OpenAIServerError, match="could not connect .* is the server running"):
        backend(rec, max_retries=1).generate(request())
    assert len(rec.requests) == 2


def test_timeout_is_explained() -> None:
    rec = Recorder(httpx.ReadTimeout("timed out"))
    with pytest.raises(OpenAIServerError, match="no answer from .* within the timeout"):
        backend(rec, max_retries=0, timeout=3).generate(request())


def test_several_base_urls_share_the_load_and_a_failing_one_sits_out() -> None:
    hits: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        hits.append(req.url.host)
        if req.url.host == "bad":
            return httpx.Response(502, text="bad gateway")
        return httpx.Response(200, json=chat_response({"content": req.url.host}))

    be = OpenAIBackend(
        ["http://a:1", "http://bad:1", "http://c:1"], "m", transport=httpx.MockTransport(handler), backoff_s=0.001
    )
    answers = [be.generate(request()).text for _ in range(8)]
    assert set(answers) == {"a", "c"}
    assert hits.count("bad") == 1  # failed once, then out of rotation
    assert be.endpoints.healthy() == ["http://a:1/v1", "http://c:1/v1"]


def test_async_requests_spread_over_endpoints_and_respect_the_concurrency_limit() -> None:
    in_flight = 0
    peak = 0
    hosts: list[str] = []

    async def handler(req: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        hosts.append(req.url.host)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json=chat_response({"content": "ok"}))

    be = OpenAIBackend(["http://a:1", "http://b:1"], "m", transport=httpx.MockTransport(handler), max_concurrency=3)

    async def main() -> list[Completion]:
        try:
            return await asyncio.gather(*(be.agenerate(request()) for _ in range(12)))
        finally:
            await be.aclose()

    results = asyncio.run(main())
    assert all(r.text == "ok" for r in results)
    assert peak == 3
    assert hosts.count("a") == 6 and hosts.count("b") == 6


def test_async_retry_on_429() -> None:
    rec = Recorder(
        httpx.Response(429, json={"error": {"message": "busy"}}),
        httpx.Response(200, json=chat_response({"content": "done"})),
    )

    async def main() -> Completion:
        be = backend(rec)
        try:
            return await be.agenerate(request())
        finally:
            await be.aclose()

    assert asyncio.run(main()).text == "done"
    assert len(rec.requests) == 2


def test_stream_retries_before_the_first_piece_only() -> None:
    rec = Recorder(
        httpx.Response(503, text="warming up"),
        httpx.Response(200, content=sse({"choices": [{"index": 0, "delta": {"content": "hi"}}]})),
    )
    items = list(backend(rec).stream(request()))
    assert items[0] == "hi" and items[-1].text == "hi"
    assert len(rec.requests) == 2


def test_list_models() -> None:
    rec = Recorder(httpx.Response(200, json={"object": "list", "data": [{"id": "a"}, {"id": "b"}]}))
    assert backend(rec).list_models() == ["a", "b"]
    assert rec.requests[0].url == "http://server:8000/v1/models"


def test_bad_settings_are_explained() -> None:
    with pytest.raises(ConfigurationError, match="http://"):
        OpenAIBackend("localhost:8000", "m")
    with pytest.raises(ConfigurationError, match="mode"):
        OpenAIBackend("http://x", "m", mode="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="at least one"):
        OpenAIBackend([], "m")


# --------------------------------------------------------------------------------------------------------
# The pool and the retry policy on their own.


def test_normalize_base_url() -> None:
    assert normalize_base_url("http://h:8000") == "http://h:8000/v1"
    assert normalize_base_url("http://h:8000/v1/") == "http://h:8000/v1"


def test_endpoint_pool_cooldown_ends() -> None:
    now = [0.0]
    pool = EndpointPool(["http://a", "http://b"], cooldown_s=10, clock=lambda: now[0])
    pool.mark_failed("http://a/v1")
    assert [pool.pick() for _ in range(3)] == ["http://b/v1"] * 3
    now[0] = 11.0
    assert {pool.pick(), pool.pick()} == {"http://a/v1", "http://b/v1"}


def test_endpoint_pool_uses_a_cooling_endpoint_when_all_are_down() -> None:
    now = [0.0]
    pool = EndpointPool(["http://a", "http://b"], cooldown_s=10, clock=lambda: now[0])
    pool.mark_failed("http://a/v1")
    now[0] = 1.0
    pool.mark_failed("http://b/v1")
    assert pool.pick() == "http://a/v1"


def test_retry_policy_honours_retry_after_and_grows() -> None:
    policy = RetryPolicy(backoff_s=1.0, max_backoff_s=30)
    assert policy.delay(1, "7") == 7.0
    assert 0.5 <= policy.delay(1) <= 1.5
    assert 4.0 <= policy.delay(4) <= 12.0
    assert policy.delay(10) <= 30


def test_sync_concurrency_limit_across_threads() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def handler(req: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return httpx.Response(200, json=chat_response({"content": "ok"}))

    be = OpenAIBackend("http://a", "m", transport=httpx.MockTransport(handler), max_concurrency=2)
    threads = [threading.Thread(target=be.generate, args=(request(),)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2
