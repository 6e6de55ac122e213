"""Model id → chat family, and the family facts the loop relies on."""

from __future__ import annotations

import pytest

from agentcore.families import FAMILIES, UnknownFamilyError, family_for_model, get_family


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5"),
        ("Qwen/Qwen2.5-0.5B-Instruct", "qwen2.5"),
        ("Qwen/Qwen2.5-Coder-7B-Instruct", "qwen2.5"),
        ("Qwen/Qwen2-7B-Instruct", "qwen2.5"),
        ("Qwen/Qwen2.5-Math-7B-Instruct", "qwen2.5-math"),
        ("Qwen/Qwen2.5-VL-3B-Instruct", "qwen2.5-vl"),
        ("Qwen/Qwen2-VL-7B-Instruct", "qwen2.5-vl"),
        ("Qwen/QwQ-32B", "qwq"),
        ("Qwen/Qwen3-8B", "qwen3"),
        ("Qwen/Qwen3-30B-A3B", "qwen3"),
        ("Qwen/Qwen3-235B-A22B", "qwen3"),
        ("Qwen/Qwen3-Coder-30B-A3B-Instruct", "qwen3-coder"),
        ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "qwen3-coder"),
        ("/models/qwen3-8b-awq", "qwen3"),
        ("HuggingFaceTB/SmolLM2-135M-Instruct", "chatml"),
    ],
)
def test_family_for_model(model_id, family):
    assert family_for_model(model_id) == family


def test_unknown_model_says_how_to_choose():
    with pytest.raises(UnknownFamilyError) as info:
        family_for_model("meta-llama/Llama-3.1-8B-Instruct")
    message = str(info.value)
    assert "family=" in message and "qwen3" in message and "chatml" in message


def test_unknown_family_lists_the_known_ones():
    with pytest.raises(UnknownFamilyError, match="qwen2.5-math"):
        get_family("qwen4")


def test_family_facts():
    assert get_family("qwen3-coder").tool_format == "qwen3_coder"
    assert get_family("qwq").thinking == "always" and get_family("qwen3").thinking == "hybrid"
    assert get_family("qwen2.5-vl").supports_images and get_family("qwen2.5-vl").tool_format == "none"
    assert all(f.stop[0] == "<|im_end|>" for f in FAMILIES.values())
