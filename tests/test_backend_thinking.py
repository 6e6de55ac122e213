"""Thinking budget: after N reasoning tokens the backend forces the transition and </think>."""

from __future__ import annotations

import pytest
import torch

from agentcore.backends.base import GenerationRequest, SamplingParams
from agentcore.backends.thinking import (
    TRANSITION,
    ThinkingBudgetProcessor,
    count_reasoning_tokens,
    prompt_opens_thinking,
)
from agentcore.messages import Message
from helpers.tiny_qwen import qwen_tokenizer, tiny_qwen_model

THINK, END_THINK = 151667, 151668


@pytest.fixture(scope="module")
def qwen3():
    from agentcore.backends.transformers import TransformersBackend

    return TransformersBackend(str(tiny_qwen_model("qwen3")))


def test_prompt_opens_thinking():
    assert prompt_opens_thinking("<|im_start|>assistant\n<think>\n")
    assert not prompt_opens_thinking("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert not prompt_opens_thinking("<|im_start|>user\n<think>x</think><|im_start|>assistant\n")


@pytest.mark.parametrize("budget", [0, 5, 17])
def test_budget_forces_the_end_of_thinking(qwen3, budget):
    # QwQ's template opens <think> in the prompt, so reasoning starts with the first generated token
    request = GenerationRequest(
        messages=[Message(role="user", content="Think about it.")], family="qwq", thinking_budget=budget,
        sampling=SamplingParams(greedy=True, max_new_tokens=budget + 24),
    )
    prepared = qwen3._prepare(request)
    assert prepared.thinking_open
    completion = qwen3.generate(request)
    forced = qwen3.tokenizer.encode(TRANSITION + "</think>\n\n", add_special_tokens=False)
    # exactly `budget` free reasoning tokens, then the forced sentence and </think>, then the answer
    assert completion.text.count("</think>") == 1
    reasoning, _, answer = completion.text.partition("</think>")
    assert reasoning.endswith(TRANSITION)
    assert answer.startswith("\n\n")
    assert completion.usage.reasoning_tokens == budget + forced.index(END_THINK)


def test_no_budget_means_no_forcing(qwen3):
    request = GenerationRequest(
        messages=[Message(role="user", content="Think about it.")], family="qwq",
        sampling=SamplingParams(greedy=True, max_new_tokens=20),
    )
    text = qwen3.generate(request).text
    assert "Considering the limited time" not in text


def test_processor_waits_for_the_model_to_open_thinking():
    tok = qwen_tokenizer()
    proc = ThinkingBudgetProcessor(tok, 2, prompt_length=3, batch=1, started_thinking=False)
    vocab = 151936
    ids = [1, 2, 3]
    forced = []
    for token in [100, THINK, 200, 300] + [None] * 40:
        scores = torch.zeros(1, vocab)
        out = proc(torch.tensor([ids]), scores)
        allowed = torch.isfinite(out[0]).nonzero().flatten().tolist()
        if len(allowed) == 1:
            forced.append(allowed[0])
            ids.append(allowed[0])
        else:
            assert token is not None, "the processor stopped forcing before </think>"
            ids.append(token)
        if forced and forced[-1] == END_THINK:
            break
    # forcing started only after <think> and two reasoning tokens
    assert ids[3:7] == [100, THINK, 200, 300]
    assert forced[-1] == END_THINK
    assert tok.decode(forced).startswith(TRANSITION)
    assert count_reasoning_tokens(tok, ids[3:], started_thinking=False) == 2 + len(forced) - 1


def test_enable_thinking_renders_per_family(qwen3):
    base = dict(messages=[Message(role="user", content="hi")], sampling=SamplingParams(greedy=True, max_new_tokens=2))
    on = qwen3._prepare(GenerationRequest(family="qwen3", enable_thinking=True, **base)).prompt
    off = qwen3._prepare(GenerationRequest(family="qwen3", enable_thinking=False, **base)).prompt
    assert off.endswith("<think>\n\n</think>\n\n") and not on.endswith("</think>\n\n")
    qwq = qwen3._prepare(GenerationRequest(family="qwq", enable_thinking=False, **base)).prompt
    assert qwq.endswith("<think>\n")  # QwQ always thinks
