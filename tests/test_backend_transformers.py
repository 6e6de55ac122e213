"""TransformersBackend on tiny random-weight Qwen models with the real Qwen vocabulary."""

from __future__ import annotations

import asyncio

import pytest

from agentcore.backends.base import Completion, GenerationRequest, SamplingParams
from agentcore.errors import ModelUnavailableError
from agentcore.messages import Message
from helpers.tiny_qwen import tiny_qwen_model

GREEDY = SamplingParams(greedy=True, max_new_tokens=12)


@pytest.fixture(scope="module")
def qwen2():
    from agentcore.backends.transformers import TransformersBackend

    return TransformersBackend(str(tiny_qwen_model("qwen2", seed=3)))


def _req(content: str, **kw) -> GenerationRequest:
    kw.setdefault("sampling", GREEDY)
    return GenerationRequest(messages=[Message(role="user", content=content)], family="qwen2.5", **kw)


def test_family_and_ids(qwen2):
    assert qwen2.family == "qwen2.5"
    from agentcore.families import get_family

    assert qwen2.end_of_turn_ids(get_family("qwen2.5")) == [151645, 151643]


def test_generate_reports_usage(qwen2):
    c = qwen2.generate(_req("hello"))
    assert isinstance(c, Completion) and c.model == qwen2.model_id
    u = c.usage
    assert u.prompt_tokens > 10 and 0 < u.completion_tokens <= 12
    assert u.time_to_first_token_s is not None and u.time_to_first_token_s <= u.total_s
    assert u.tokens_per_s and u.peak_rss_mb and u.peak_rss_mb > 0
    assert "<|im_end|>" not in c.text


def test_stream_pieces_add_up_to_the_text(qwen2):
    items = list(qwen2.stream(_req("stream me")))
    assert isinstance(items[-1], Completion)
    pieces = items[:-1]
    assert all(isinstance(p, str) for p in pieces) and len(pieces) > 1
    assert "".join(pieces) == items[-1].text == qwen2.generate(_req("stream me")).text


def test_greedy_and_seed_are_reproducible(qwen2):
    assert qwen2.generate(_req("a")).text == qwen2.generate(_req("a")).text
    seeded = SamplingParams(temperature=1.0, top_p=1.0, top_k=0, seed=7, max_new_tokens=16)
    assert qwen2.generate(_req("b", sampling=seeded)).text == qwen2.generate(_req("b", sampling=seeded)).text


def test_stop_string_is_kept_and_cuts_the_text(qwen2):
    full = qwen2.generate(_req("stop test", sampling=SamplingParams(greedy=True, max_new_tokens=30))).text
    assert len(full) > 6
    stop = full[3:6]
    c = qwen2.generate(_req("stop test", sampling=SamplingParams(greedy=True, max_new_tokens=30), stop=[stop]))
    assert c.text == full[: full.index(stop) + len(stop)]
    streamed = list(qwen2.stream(_req("stop test", sampling=SamplingParams(greedy=True, max_new_tokens=30), stop=[stop])))
    assert "".join(streamed[:-1]) == c.text


def test_kv_cache_reuse_prefills_only_new_tokens_and_changes_nothing(qwen2):
    from agentcore.backends.transformers import TransformersBackend

    history = [Message(role="user", content="first question " * 5)]
    first = qwen2.generate(GenerationRequest(messages=history, family="qwen2.5", sampling=GREEDY))
    history += [Message(role="assistant", content=first.text), Message(role="user", content="and then?")]
    second = qwen2.generate(GenerationRequest(messages=history, family="qwen2.5", sampling=GREEDY))
    # the whole first prompt is reused (the assistant turn may re-tokenize differently after it)
    assert second.usage.cached_prompt_tokens >= first.usage.prompt_tokens - 1
    fresh = TransformersBackend(str(tiny_qwen_model("qwen2", seed=3)), kv_cache_entries=0)
    again = fresh.generate(GenerationRequest(messages=history, family="qwen2.5", sampling=GREEDY))
    assert again.usage.cached_prompt_tokens == 0
    assert again.text == second.text


def test_generate_batch_matches_single_calls(qwen2):
    prompts = ["short", "a considerably longer prompt than the first one"]
    batch = qwen2.generate_batch([_req(p) for p in prompts])
    singles = [qwen2.generate(_req(p)) for p in prompts]
    assert [c.text for c in batch] == [c.text for c in singles]
    assert [c.usage.prompt_tokens for c in batch] == [c.usage.prompt_tokens for c in singles]


def test_concurrent_async_runs_are_safe(qwen2):
    expected = [qwen2.generate(_req(f"q{i}")).text for i in range(3)]

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        t = asyncio.create_task(ticker())
        out = await asyncio.gather(*(qwen2.agenerate(_req(f"q{i}")) for i in range(3)))
        t.cancel()
        return out, ticks

    out, ticks = asyncio.run(main())
    assert [c.text for c in out] == expected
    assert ticks > 0  # the event loop kept running while the model generated


def test_request_needs_messages_or_prompt(qwen2):
    from agentcore.backends.base import BackendError

    with pytest.raises(BackendError, match="neither messages nor a prompt"):
        qwen2.generate(GenerationRequest(messages=[], family="qwen2.5"))


def test_unfetchable_qwen_id_gives_one_clear_error(monkeypatch):
    from agentcore.backends.transformers import TransformersBackend

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError) as info:
        TransformersBackend("Qwen/Qwen2.5-0.5B-Instruct-not-cached")
    message = str(info.value)
    assert "SmolLM2-135M-Instruct" in message and "local folder" in message
    assert info.value.__cause__ is None  # no stack of hub errors


def test_bad_paths_and_options_are_explained(tmp_path):
    from agentcore.backends.loading import resolve_dtype, resolve_source
    from agentcore.errors import ConfigurationError

    with pytest.raises(ModelUnavailableError, match="does not exist"):
        resolve_source(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelUnavailableError, match="config.json"):
        resolve_source(str(tmp_path))
    with pytest.raises(ConfigurationError, match="dtype"):
        resolve_dtype("int3", "cpu")
    import torch

    assert resolve_dtype(None, "cpu") is torch.float32 and resolve_dtype("bf16", "cpu") is torch.bfloat16


def test_int8_dynamic_quantization_runs():
    from agentcore.backends.transformers import TransformersBackend

    b = TransformersBackend(str(tiny_qwen_model("qwen2", seed=3)), quantization="int8")
    assert b.generate(_req("quantized")).usage.completion_tokens > 0
