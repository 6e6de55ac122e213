"""The Qwen catalogue as data, the memory rule, and model selection by memory."""

from __future__ import annotations

import pytest

from agentcore.catalogue import (
    CATALOGUE,
    estimate_memory_gb,
    find_variant,
    machine_memory_gb,
    memory_needed_gb,
    params_from_id,
    select_model,
)
from agentcore.families import family_for_model
from agentcore.specialists import Specialist, builtin_specialists


@pytest.fixture(autouse=True)
def hermetic(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENTCORE_PLUGINS", "")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTCORE_DEVICE", raising=False)


def test_catalogue_covers_the_family():
    ids = {v.id for v in CATALOGUE}
    for size in ("0.5B", "1.5B", "3B", "7B", "14B", "32B", "72B"):
        assert f"Qwen/Qwen2.5-{size}-Instruct" in ids
    for size in ("0.6B", "1.7B", "4B", "8B", "14B", "32B", "30B-A3B", "235B-A22B"):
        assert f"Qwen/Qwen3-{size}" in ids
    assert {"Qwen/QwQ-32B", "Qwen/Qwen2.5-Math-7B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct",
            "Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen3-Coder-30B-A3B-Instruct"} <= ids


def test_entries_are_consistent():
    assert len({v.id for v in CATALOGUE}) == len(CATALOGUE)
    for v in CATALOGUE:
        assert family_for_model(v.id) == v.family, v.id
        assert v.memory_gb["bf16"] > v.memory_gb["int8"] > v.memory_gb["int4"] > 0
        assert v.context_length >= 4096
        if v.is_moe:
            assert v.active_params_b < v.params_b
            assert "active" in v.size_label


def test_moe_memory_counts_all_experts():
    moe = find_variant("Qwen/Qwen3-30B-A3B")
    assert moe.active_params_b == 3.3
    assert moe.memory_gb["bf16"] == estimate_memory_gb(30.5, "bf16") > find_variant("Qwen/Qwen3-14B").memory_gb["bf16"]


def test_memory_rule():
    # weights x 1.2 + 0.5 GB
    assert estimate_memory_gb(7.0, "bf16") == pytest.approx(7 * 2 * 1.2 + 0.5)
    assert estimate_memory_gb(7.0, "int4") == pytest.approx(7 * 0.5 * 1.2 + 0.5)
    assert memory_needed_gb("someone/My-Qwen-7B-finetune", "int8") == estimate_memory_gb(7.0, "int8")
    assert memory_needed_gb("/models/mystery") is None


def test_find_variant_and_sizes():
    assert find_variant("qwen/qwen3-8b").id == "Qwen/Qwen3-8B"
    assert find_variant("/data/models/Qwen3-8B").id == "Qwen/Qwen3-8B"
    assert find_variant("nope") is None
    assert params_from_id("Qwen/Qwen2.5-0.5B-Instruct") == 0.5
    assert params_from_id("Qwen/Qwen3-30B-A3B") == 30.0


@pytest.mark.parametrize(
    ("specialist", "memory_gb", "device", "expected", "dtype"),
    [
        ("general", 4, "cpu", "Qwen/Qwen3-0.6B", "bf16"),
        ("general", 24, "cpu", "Qwen/Qwen3-8B", "bf16"),
        ("general", 80, "cpu", "Qwen/Qwen3-32B", "bf16"),
        ("general", 48, "cuda", "Qwen/Qwen3-32B", "int8"),
        ("general", 24, "cuda", "Qwen/Qwen3-32B", "int4"),
        ("coder", 24, "cpu", "Qwen/Qwen2.5-Coder-7B-Instruct", "bf16"),
        ("coder", 80, "cpu", "Qwen/Qwen3-Coder-30B-A3B-Instruct", "bf16"),
        ("coder", 40, "cuda", "Qwen/Qwen3-Coder-30B-A3B-Instruct", "int8"),
        ("vl", 24, "cpu", "Qwen/Qwen2.5-VL-7B-Instruct", "bf16"),
        ("math", 12, "cpu", "Qwen/Qwen3-4B", "bf16"),
    ],
)
def test_select_model_picks_the_largest_that_fits(specialist, memory_gb, device, expected, dtype):
    choice = select_model(specialist, memory_gb=memory_gb, device=device)
    assert (choice.model_id, choice.dtype, choice.fits) == (expected, dtype, True)
    assert choice.memory_gb_needed <= memory_gb
    assert expected in choice.reason and f"{memory_gb:.1f} GB" in choice.reason


def test_select_model_says_what_did_not_fit():
    choice = select_model("general", memory_gb=24, device="cpu")
    assert "Qwen/Qwen3-14B" in choice.reason and "does not fit" in choice.reason


def test_nothing_fits():
    choice = select_model("vl", memory_gb=2, device="cpu")
    assert not choice.fits and choice.model_id == "Qwen/Qwen2.5-VL-3B-Instruct"
    assert "no vl model fits" in choice.reason


def test_select_model_takes_a_specialist_object_and_dtypes():
    spec = Specialist(name="tiny", models={"a": "Qwen/Qwen3-0.6B", "b": "Qwen/Qwen3-1.7B"})
    assert select_model(spec, memory_gb=3, device="cuda", dtypes=("bf16",)).model_id == "Qwen/Qwen3-0.6B"
    assert select_model(spec, memory_gb=3, device="cuda").model_id == "Qwen/Qwen3-1.7B"
    with pytest.raises(ValueError, match="lists no models"):
        select_model(Specialist(name="empty"), memory_gb=8)


def test_select_model_measures_the_machine():
    gb, how = machine_memory_gb("cpu")
    assert gb is not None and gb > 0 and "RAM" in how
    choice = select_model("general", device="cpu")
    assert choice.memory_gb_available is not None and "available RAM" in choice.reason


def test_meminfo_fallback(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_psutil(name, *args, **kwargs):
        if name == "psutil":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psutil)
    gb, how = machine_memory_gb("cpu")
    assert gb is not None and gb > 0 and "/proc/meminfo" in how


def test_every_builtin_specialist_model_is_in_the_catalogue():
    for spec in builtin_specialists().values():
        for model_id in spec.models.values():
            assert find_variant(model_id) is not None, model_id


def test_cuda_memory_is_measured_with_torch(monkeypatch):
    import sys
    import types

    cuda = types.SimpleNamespace(
        is_available=lambda: True, current_device=lambda: 0, mem_get_info=lambda index: (40e9 + index * 1e9, 80e9)
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    assert machine_memory_gb("cuda") == (40.0, "free memory on cuda:0")
    assert machine_memory_gb("cuda:1") == (41.0, "free memory on cuda:1")
    choice = select_model("general", device="cuda")
    assert choice.model_id == "Qwen/Qwen3-32B" and choice.dtype == "int8" and "cuda:0" in choice.reason
    from agentcore.catalogue import default_device

    assert default_device() == "cuda"
    cuda.is_available = lambda: False
    assert machine_memory_gb("cuda") == (None, "no CUDA device visible")
    assert not select_model("general", device="cuda").fits
