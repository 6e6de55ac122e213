"""Loading decisions that must never touch the network needlessly or bury the user in hub errors."""

from __future__ import annotations

import pytest

from agentcore.backends import loading
from agentcore.errors import ModelUnavailableError


def test_local_sources_and_offline_never_reach_the_hub(monkeypatch, tmp_path):
    monkeypatch.setattr(loading, "hub_reachable", lambda timeout_s=3.0: pytest.fail("probed the hub"))
    (tmp_path / "config.json").write_text("{}")
    assert loading.local_files_only(loading.resolve_source(str(tmp_path)))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert loading.local_files_only(loading.resolve_source("Qwen/Qwen3-8B"))


def test_unreachable_hub_means_local_only(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(loading, "hub_reachable", lambda timeout_s=3.0: False)
    assert loading.local_files_only(loading.resolve_source("Qwen/Qwen3-8B"))
    monkeypatch.setattr(loading, "hub_reachable", lambda timeout_s=3.0: True)
    assert not loading.local_files_only(loading.resolve_source("Qwen/Qwen3-8B"))


def test_unreachable_hub_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache
    monkeypatch.setattr(loading, "hub_reachable", lambda timeout_s=3.0: False)
    with pytest.raises(ModelUnavailableError) as info:
        loading.load_model("Qwen/Qwen3-8B")
    message = str(info.value)
    assert "hub could not be reached" in message and "embedded default" in message and "/path/to" in message
