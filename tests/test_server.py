"""``agentcore serve`` driven by the official ``openai`` client (and OpenAIBackend) over real HTTP on 127.0.0.1.

The served models are small fake backends that answer by rule, so every path (tool calls, reasoning,
streaming, errors, limits) is exercised without a model; the real model is served in the slow peer tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from agentcore.backends.base import Backend, BackendError, Completion, GenerationRequest, Usage
from agentcore.backends.openai import OpenAIBackend, OpenAIServerError
from agentcore.messages import Message
from agentcore.server import ServerSettings, ServerThread
from agentcore.server.guards import TokenBucket, fingerprint
from agentcore.testing import ScriptedBackend
from agentcore.tools import tool

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
BROKEN = '<tool_call>\n{"name": "get_weather", "arguments": {"city": Rome}\n</tool_call>'


class RuleBackend(Backend):
    """Answers by the last user message; streams in 4-character pieces like a real model."""

    name = "rules"

    def __init__(self, family: str):
        self.family = family
        self.requests: list[GenerationRequest] = []

    def reply(self, request: GenerationRequest) -> str:
        if request.messages and request.messages[-1].role == "tool":
            return "It is sunny in Paris."
        last = request.messages[-1].text() if request.messages else ""
        if "<|im_start|>user\n" in last:  # a raw prompt (/v1/completions): the rules read its last user turn
            last = last.rsplit("<|im_start|>user\n", 1)[1]
            if last.startswith("<tool_response>"):
                return "It is sunny in Paris."
        if "weather" in last:
            return CALL
        if "two calls" in last:
            return "Checking both.\n" + CALL + "\n" + BROKEN
        if "think" in last:
            return "<think>\nLet me add 2 and 2.\n</think>\n\nThe answer is 4."
        if "fail" in last:
            raise BackendError("the GPU is on fire")
        if "slow" in last:
            time.sleep(0.6)
            return "finally"
        return f"Hello! You said {len(last)} characters."

    def generate(self, request: GenerationRequest) -> Completion:
        self.requests.append(request)
        text = self.reply(request)
        usage = Usage(prompt_tokens=len((request.prompt or "").split()), completion_tokens=len(text.split()))
        return Completion(text=text, usage=usage, finish_reason="stop")

    def stream(self, request: GenerationRequest) -> Iterator[str | Completion]:
        completion = self.generate(request)
        for i in range(0, len(completion.text), 4):
            yield completion.text[i : i + 4]
        yield completion


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


AGENT_BACKENDS: list[ScriptedBackend] = []


def make_agent() -> Any:
    from agentcore.agent import Agent

    backend = ScriptedBackend(['<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>', "The sum is 5."])
    AGENT_BACKENDS.append(backend)
    return Agent(backend=backend, tools=[add], max_steps=3)


@pytest.fixture(scope="module")
def backends() -> dict[str, RuleBackend]:
    return {"qwen2.5-test": RuleBackend("qwen2.5"), "qwen3-test": RuleBackend("qwen3"),
            "qwen2.5-vl-test": RuleBackend("qwen2.5-vl")}


@pytest.fixture(scope="module")
def server(backends: dict[str, RuleBackend]) -> Iterator[ServerThread]:
    import os

    from agentcore.plugins import reset_plugin_manager

    old = os.environ.get("AGENTCORE_PLUGINS")
    os.environ["AGENTCORE_PLUGINS"] = ""  # hermetic: no entry-point plugins in the agent runs
    reset_plugin_manager()
    with ServerThread(backends, {"adder": make_agent}, ServerSettings(max_concurrency=4)) as running:
        yield running
    if old is None:
        os.environ.pop("AGENTCORE_PLUGINS", None)
    else:
        os.environ["AGENTCORE_PLUGINS"] = old
    reset_plugin_manager()


@pytest.fixture
def client(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


# --------------------------------------------------------------------------------------------------------
# Chat through the official client.


def test_plain_chat(client: openai.OpenAI, backends: dict[str, RuleBackend]) -> None:
    out = client.chat.completions.create(model="qwen2.5-test", messages=user("hi there"), max_tokens=20)
    assert out.choices[0].message.content == "Hello! You said 8 characters."
    assert out.choices[0].finish_reason == "stop"
    assert out.usage is not None and out.usage.completion_tokens == 5
    prompt = backends["qwen2.5-test"].requests[-1].prompt
    assert prompt is not None and prompt.endswith("<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n")
    assert backends["qwen2.5-test"].requests[-1].sampling.max_new_tokens == 20


def test_streaming_chat(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="qwen2.5-test", messages=user("hi there"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello! You said 8 characters."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # really streamed
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_tool_calls(client: openai.OpenAI, backends: dict[str, RuleBackend]) -> None:
    out = client.chat.completions.create(model="qwen2.5-test", messages=user("weather in Paris?"), tools=[WEATHER])
    choice = out.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert "<tools>" in (backends["qwen2.5-test"].requests[-1].prompt or "")  # tools rendered by agentcore
    # The conversation goes on with the tool's answer, in OpenAI's shape.
    follow = client.chat.completions.create(
        model="qwen2.5-test",
        tools=[WEATHER],
        messages=[
            *user("weather in Paris?"),
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ],
    )
    assert follow.choices[0].message.content == "It is sunny in Paris."
    assert "<tool_response>\nsunny\n</tool_response>" in (backends["qwen2.5-test"].requests[-1].prompt or "")


def test_a_broken_call_does_not_drop_the_good_one(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(model="qwen2.5-test", messages=user("two calls please"), tools=[WEATHER])
    message = out.choices[0].message
    assert [c.function.name for c in message.tool_calls or []] == ["get_weather"]
    assert message.content is not None and "Checking both." in message.content and "Rome" in message.content


def test_streamed_tool_calls(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(
        model="qwen2.5-test", messages=user("weather?"), tools=[WEATHER], stream=True))
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert len(calls) == 1 and calls[0].index == 0 and calls[0].id
    assert calls[0].function.name == "get_weather" and json.loads(calls[0].function.arguments) == {"city": "Paris"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_reasoning_content(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(model="qwen3-test", messages=user("think: 2+2?"))
    message = out.choices[0].message
    assert message.content == "The answer is 4."
    assert message.model_extra["reasoning_content"] == "Let me add 2 and 2."
    chunks = list(client.chat.completions.create(model="qwen3-test", messages=user("think: 2+2?"), stream=True))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    content = "".join(d.content or "" for d in deltas)
    assert reasoning.strip() == "Let me add 2 and 2." and content.strip() == "The answer is 4."


def test_enable_thinking_reaches_the_template(client: openai.OpenAI, backends: dict[str, RuleBackend]) -> None:
    client.chat.completions.create(model="qwen3-test", messages=user("hi"), extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    request = backends["qwen3-test"].requests[-1]
    assert request.enable_thinking is False and (request.prompt or "").endswith("<think>\n\n</think>\n\n")


def test_agent_by_name(client: openai.OpenAI) -> None:
    names = [m.id for m in client.models.list()]
    assert names == ["qwen2.5-test", "qwen3-test", "qwen2.5-vl-test", "agent:adder"]
    out = client.chat.completions.create(model="agent:adder", messages=user("What is 2 + 3?"))
    assert out.choices[0].message.content == "The sum is 5."
    assert out.model_extra["agentcore"]["status"] == "final" and out.model_extra["agentcore"]["steps"] == 2
    chunks = list(client.chat.completions.create(model="agent:adder", messages=user("What is 2 + 3?"), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The sum is 5."


def test_completions_endpoint(client: openai.OpenAI) -> None:
    out = client.completions.create(model="qwen2.5-test", prompt="Once upon a time", max_tokens=30)
    assert out.choices[0].text == "Hello! You said 16 characters."
    chunks = list(client.completions.create(model="qwen2.5-test", prompt="abc", stream=True))
    assert "".join(c.choices[0].text for c in chunks) == "Hello! You said 3 characters."
    with pytest.raises(openai.BadRequestError, match="is an agent"):
        client.completions.create(model="agent:adder", prompt="x")


def test_health(server: ServerThread) -> None:
    health = httpx.get(server.url + "/health").json()
    assert health["status"] == "ok" and "agent:adder" in health["models"]


# --------------------------------------------------------------------------------------------------------
# Errors.


def test_unknown_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-9", messages=user("hi"))
    assert "'gpt-9' does not exist" in str(info.value) and "qwen2.5-test" in str(info.value)


def test_backend_failure_is_a_502_that_says_why(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="qwen2.5-test", messages=user("fail now"))
    assert info.value.status_code == 502 and "the GPU is on fire" in str(info.value)
    with pytest.raises(openai.APIStatusError) as info:  # streaming: the failure comes before the 200
        list(client.chat.completions.create(model="qwen2.5-test", messages=user("fail now"), stream=True))
    assert info.value.status_code == 502


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"model": "qwen2.5-test", "messages": []}, "messages"),
        ({"model": "qwen2.5-test", "messages": [{"role": "wizard", "content": "x"}]}, "invalid messages"),
        ({"model": "qwen2.5-test", "messages": [{"role": "user", "content": "x"}], "n": 2}, "n=1"),
        ({"model": "qwen2.5-test", "messages": [{"role": "user", "content": "x"}], "temperature": 5}, "temperature"),
        ({"model": "qwen2.5-test", "messages": [{"role": "user", "content": "x"}], "max_tokens": 10**6}, "limit"),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ],
)
def test_bad_requests_get_400_naming_the_problem(server: ServerThread, body: dict[str, Any], words: str) -> None:
    response = httpx.post(server.base_url + "/chat/completions", json=body)
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]


def test_body_that_is_not_json(server: ServerThread) -> None:
    response = httpx.post(server.base_url + "/chat/completions", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]


# --------------------------------------------------------------------------------------------------------
# Production guards.


def test_api_keys(backends: dict[str, RuleBackend]) -> None:
    with ServerThread(backends, settings=ServerSettings(api_keys=frozenset({"sk-good"}))) as srv:
        bad = openai.OpenAI(base_url=srv.base_url, api_key="sk-bad", max_retries=0)
        with pytest.raises(openai.AuthenticationError, match="invalid API key"):
            bad.chat.completions.create(model="qwen2.5-test", messages=user("hi"))
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
        good = openai.OpenAI(base_url=srv.base_url, api_key="sk-good", max_retries=0)
        assert good.chat.completions.create(model="qwen2.5-test", messages=user("hi")).choices[0].message.content
        assert httpx.get(srv.url + "/health").status_code == 200  # health needs no key
        backend = OpenAIBackend(srv.url, "qwen2.5-test", api_key="sk-good")
        assert backend.generate(GenerationRequest(messages=[Message(role="user", content="hi")])).text


def test_oversize_bodies_get_413_without_being_read(backends: dict[str, RuleBackend]) -> None:
    with ServerThread(backends, settings=ServerSettings(max_body_bytes=2000)) as srv:
        url = srv.base_url + "/chat/completions"
        big = {"model": "qwen2.5-test", "messages": user("x" * 5000)}
        response = httpx.post(url, json=big)
        assert response.status_code == 413 and "2000 bytes" in response.json()["error"]["message"]

        # A declared length is refused before any byte of the body is read: the server answers even
        # though the client sends no body at all.
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000000000\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 413")

        # Chunked (no Content-Length): counted while read, cut off at the limit.
        def chunks() -> Iterator[bytes]:
            yield b'{"model": "qwen2.5-test", "messages": [{"role": "user", "content": "'
            for _ in range(100):
                yield b"y" * 100
            yield b'"}]}'

        response = httpx.post(url, content=chunks())
        assert response.status_code == 413

        client = openai.OpenAI(base_url=srv.base_url, api_key="-", max_retries=0)
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(model="qwen2.5-test", messages=user("x" * 5000))
        assert info.value.status_code == 413
        assert client.chat.completions.create(model="qwen2.5-test", messages=user("small")).choices[0].message.content


def test_input_length_limit(backends: dict[str, RuleBackend]) -> None:
    with ServerThread(backends, settings=ServerSettings(max_input_chars=50)) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="-", max_retries=0)
        with pytest.raises(openai.BadRequestError, match="at most 50"):
            client.chat.completions.create(model="qwen2.5-test", messages=user("z" * 60))


def test_concurrency_limit_answers_429_at_once(backends: dict[str, RuleBackend]) -> None:
    with ServerThread(backends, settings=ServerSettings(max_concurrency=1)) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="-", max_retries=0)
        first = threading.Thread(
            target=lambda: client.chat.completions.create(model="qwen2.5-test", messages=user("slow please")))
        first.start()
        deadline = time.monotonic() + 5
        while httpx.get(srv.url + "/health").json()["in_flight"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(openai.RateLimitError, match="server busy") as info:
            client.chat.completions.create(model="qwen2.5-test", messages=user("hi"))
        assert info.value.response.headers["retry-after"] == "1"
        first.join()
        # OpenAIBackend's retries wait out a busy server.
        backend = OpenAIBackend(srv.url, "qwen2.5-test", backoff_s=0.2)
        threading.Thread(target=lambda: client.chat.completions.create(model="qwen2.5-test", messages=user("slow"))).start()
        time.sleep(0.1)
        assert backend.generate(GenerationRequest(messages=[Message(role="user", content="hi")])).text.startswith("Hello")


def test_rate_limit_per_key(backends: dict[str, RuleBackend]) -> None:
    settings = ServerSettings(api_keys=frozenset({"a", "b"}), rate_limit_per_minute=2, rate_limit_burst=2)
    with ServerThread(backends, settings=settings) as srv:
        a = openai.OpenAI(base_url=srv.base_url, api_key="a", max_retries=0)
        b = openai.OpenAI(base_url=srv.base_url, api_key="b", max_retries=0)
        for _ in range(2):
            a.chat.completions.create(model="qwen2.5-test", messages=user("hi"))
        with pytest.raises(openai.RateLimitError, match="rate limit of 2 requests a minute") as info:
            a.chat.completions.create(model="qwen2.5-test", messages=user("hi"))
        assert int(info.value.response.headers["retry-after"]) >= 1
        assert b.chat.completions.create(model="qwen2.5-test", messages=user("hi")).choices  # b has its own bucket


def test_token_bucket_refills() -> None:
    now = [0.0]
    bucket = TokenBucket(60, burst=1, clock=lambda: now[0])
    assert bucket.take("k") == 0.0
    assert bucket.take("k") == pytest.approx(1.0)
    now[0] = 1.0
    assert bucket.take("k") == 0.0


def test_logs_hash_prompts_and_never_contain_them(client: openai.OpenAI, caplog: pytest.LogCaptureFixture) -> None:
    secret = "my password is hunter2-SECRET"
    with caplog.at_level(logging.INFO, logger="agentcore.server"):
        client.chat.completions.create(model="qwen2.5-test", messages=user(secret))
        list(client.chat.completions.create(model="qwen2.5-test", messages=user(secret), stream=True))
        client.completions.create(model="qwen2.5-test", prompt=secret)
    records = [r.getMessage() for r in caplog.records if r.name == "agentcore.server"]
    assert len(records) == 3
    assert all("hunter2" not in r for r in records)
    assert fingerprint([{"role": "user", "content": secret}]) in records[0]
    assert "status=200" in records[0] and "model=qwen2.5-test" in records[0]


# --------------------------------------------------------------------------------------------------------
# OpenAIBackend against agentcore serve: the real server for the client side.


def test_openai_backend_chat_mode_against_serve(server: ServerThread) -> None:
    backend = OpenAIBackend(server.url, "qwen2.5-test", family="qwen2.5")
    request = GenerationRequest(messages=[Message(role="user", content="weather?")], tools=[WEATHER])
    out = backend.generate(request)
    assert out.tool_calls is not None and out.tool_calls[0].name == "get_weather"
    assert out.tool_calls[0].arguments == {"city": "Paris"} and out.finish_reason == "tool_call"
    items = list(backend.stream(GenerationRequest(messages=[Message(role="user", content="think: 2+2")], model="qwen3-test")))
    assert items[-1].reasoning == "Let me add 2 and 2." and items[-1].text.strip() == "The answer is 4."
    assert "".join(i for i in items if isinstance(i, str)).startswith("<think>\n")


def test_openai_backend_raw_mode_against_serve(server: ServerThread, backends: dict[str, RuleBackend]) -> None:
    backend = OpenAIBackend(server.url, "qwen2.5-test", mode="raw", family="qwen2.5")
    out = backend.generate(GenerationRequest(messages=[Message(role="user", content="weather?")], tools=[WEATHER]))
    assert out.text == CALL  # raw text: agentcore's parser reads it
    assert "<tools>" in (backends["qwen2.5-test"].requests[-1].prompt or "")
    pieces = list(backend.stream(GenerationRequest(messages=[Message(role="user", content="hi")])))
    assert "".join(p for p in pieces if isinstance(p, str)) == pieces[-1].text
    assert pieces[-1].text.startswith("Hello! You said")


def test_openai_backend_async_against_serve(server: ServerThread) -> None:
    backend = OpenAIBackend([server.url, server.url + "/v1"], "qwen2.5-test")

    async def main() -> list[Completion]:
        try:
            return await asyncio.gather(*(backend.agenerate(GenerationRequest(messages=[Message(role="user", content="hi")]))
                                          for _ in range(6)))
        finally:
            await backend.aclose()

    assert [c.text for c in asyncio.run(main())] == ["Hello! You said 2 characters."] * 6


def test_openai_backend_reports_server_errors(server: ServerThread) -> None:
    with pytest.raises(OpenAIServerError, match="404.*does not exist"):
        OpenAIBackend(server.url, "nope").generate(GenerationRequest(messages=[Message(role="user", content="hi")]))
    with pytest.raises(OpenAIServerError, match="502.*GPU is on fire"):
        OpenAIBackend(server.url, "qwen2.5-test", max_retries=0).generate(
            GenerationRequest(messages=[Message(role="user", content="fail")]))


def test_agent_over_openai_backend_against_serve(server: ServerThread, agentcore_plugins: Any) -> None:
    from agentcore.agent import Agent

    @tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return f"sunny in {city}"

    for mode in ("chat", "raw"):
        agent = Agent(backend=OpenAIBackend(server.url, "qwen2.5-test", mode=mode, family="qwen2.5"), tools=[get_weather])
        result = agent.run("What is the weather in Paris?")
        assert result.status == "final" and result.answer == "It is sunny in Paris."
        assert [m.content for m in result.messages if m.role == "tool"] == ["sunny in Paris"]


# --------------------------------------------------------------------------------------------------------
# The command: `agentcore serve` as a process.


def start_serve(args: list[str], timeout_s: float) -> tuple[Any, str]:
    import os
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "AGENTCORE_PLUGINS": "", "AGENTCORE_API_KEYS": "sk-env"}
    proc = subprocess.Popen([sys.executable, "-m", "agentcore", "serve", "--port", str(port), "--log-level", "warning",
                             *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"agentcore serve exited: {proc.stdout.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "agentcore serve did not start"
        time.sleep(0.2)


def test_serve_command_in_front_of_other_servers(server: ServerThread) -> None:
    """`agentcore serve --base-url ...`: agentcore's templates and parser in front of an upstream server."""
    proc, url = start_serve(["--base-url", server.url, "--upstream-model", "qwen2.5-test", "--family", "qwen2.5",
                             "--api-key", "sk-flag"], timeout_s=60)
    try:
        for key in ("sk-flag", "sk-env"):  # keys from the flag and from AGENTCORE_API_KEYS
            client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
            out = client.chat.completions.create(model="qwen2.5-test", messages=user("weather?"), tools=[WEATHER])
            assert out.choices[0].message.tool_calls[0].function.name == "get_weather"  # type: ignore[index]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0).models.list()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_serve_command_with_the_embedded_model() -> None:
    """The real thing: `agentcore serve` loads SmolLM2 and the openai client chats with it."""
    proc, url = start_serve(["--default-max-tokens", "8"], timeout_s=300)
    try:
        client = openai.OpenAI(base_url=url + "/v1", api_key="sk-env", max_retries=0, timeout=300)
        (model,) = [m.id for m in client.models.list()]
        messages = user("What is the capital of France?")
        out = client.chat.completions.create(model=model, messages=messages, temperature=0)
        assert "Paris" in (out.choices[0].message.content or "")
        chunks = list(client.chat.completions.create(model=model, messages=messages, temperature=0, stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed == out.choices[0].message.content and len(chunks) > 3
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --------------------------------------------------------------------------------------------------------
# Images: OpenAI-style image_url parts reach the backend as image parts, never silently dropped.


def _red_pixel_url() -> str:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _image_message(url: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": url}},
        {"type": "text", "text": "What colour is this?"},
    ]}]


def test_image_url_parts_reach_a_vision_backend(client: openai.OpenAI, backends: dict[str, RuleBackend]) -> None:
    url = _red_pixel_url()
    backend = backends["qwen2.5-vl-test"]
    before = len(backend.requests)
    client.chat.completions.create(model="qwen2.5-vl-test", messages=_image_message(url))
    request = backend.requests[before]
    assert request.messages[-1].images() == [url]
    assert request.messages[-1].text() == "What colour is this?"
    assert "<|vision_start|><|image_pad|><|vision_end|>What colour is this?" in request.prompt


def test_an_image_for_a_text_model_is_refused_not_dropped(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="image and text parts are for qwen2.5-vl"):
        client.chat.completions.create(model="qwen2.5-test", messages=_image_message(_red_pixel_url()))


def test_an_agent_answers_in_the_context_of_earlier_turns(client: openai.OpenAI) -> None:
    messages = [
        {"role": "user", "content": "Remember the numbers 2 and 3."},
        {"role": "assistant", "content": "Noted: 2 and 3."},
        {"role": "user", "content": "Add them."},
    ]
    out = client.chat.completions.create(model="agent:adder", messages=messages)
    assert out.choices[0].message.content == "The sum is 5."
    first_prompt = AGENT_BACKENDS[-1].prompts[0]
    assert "Remember the numbers 2 and 3." in first_prompt and "Noted: 2 and 3." in first_prompt
    assert first_prompt.index("Noted: 2 and 3.") < first_prompt.index("Add them.")
