"""OpenAIBackend against a real peer: ``transformers serve`` (Hugging Face's OpenAI-compatible server).

It serves the embedded SmolLM2 from agentcore's converted safetensors folder, offline, in about 30 s.
``transformers serve`` parses no tool calls, so this peer checks plain and streaming chat, raw completions
and the async path. Needs FastAPI (``pip install fastapi``, part of ``transformers[serving]``); skipped with
the reason when the server cannot start.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore.backends.base import Completion, GenerationRequest, SamplingParams
from agentcore.backends.openai import OpenAIBackend
from agentcore.messages import Message
from helpers.servers import free_port, server_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_folder() -> Path:
    from agentcore.backends.loading import convert_gguf, resolve_source

    source = resolve_source(None)
    if source.kind != "gguf":
        pytest.skip(f"the embedded model is not a GGUF here ({source.kind})")
    return Path(convert_gguf(Path(source.location)))


@pytest.fixture(scope="module")
def peer(model_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("fastapi", reason="transformers serve needs FastAPI: pip install fastapi")
    cli = Path(sys.executable).with_name("transformers")
    if not cli.exists():
        pytest.skip("the transformers command is not installed next to this Python")
    port = free_port()
    command = [str(cli), "serve", str(model_folder), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    with server_process(command, ready_url=f"http://127.0.0.1:{port}/health",
                        log=tmp_path_factory.mktemp("peer") / "transformers-serve.log",
                        env={**os.environ, "HF_HUB_OFFLINE": "1"}, start_timeout_s=180, give_up=pytest.skip):
        yield f"http://127.0.0.1:{port}"


def request() -> GenerationRequest:
    return GenerationRequest(
        messages=[Message(role="user", content="What is the capital of France?")],
        sampling=SamplingParams(max_new_tokens=8, greedy=True),
    )


def test_plain_and_streaming_chat(peer: str, model_folder: Path) -> None:
    backend = OpenAIBackend(peer, str(model_folder), family="chatml", timeout=300)
    out = backend.generate(request())
    assert "Paris" in out.text and out.usage.completion_tokens > 0
    assert out.tool_calls == [] and out.finish_reason in ("stop", "length")
    items = list(backend.stream(request()))
    pieces, last = items[:-1], items[-1]
    assert isinstance(last, Completion) and len(pieces) > 1
    assert "".join(p for p in pieces if isinstance(p, str)) == last.text == out.text  # greedy: the same answer
    assert last.usage.time_to_first_token_s is not None


def test_raw_mode_and_async(peer: str, model_folder: Path) -> None:
    raw = OpenAIBackend(peer, str(model_folder), family="chatml", mode="raw", timeout=300)
    out = raw.generate(request())  # agentcore renders the ChatML prompt; the server only completes it
    assert "Paris" in out.text

    async def main() -> Completion:
        chat = OpenAIBackend(peer, str(model_folder), family="chatml", timeout=300)
        try:
            return await chat.agenerate(request())
        finally:
            await chat.aclose()

    assert "Paris" in asyncio.run(main()).text
