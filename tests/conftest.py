"""Test-wide settings: hermetic plugins and an offline hub, so no test depends on what is installed."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _hermetic_plugins(monkeypatch: pytest.MonkeyPatch):
    """No entry-point plugin loads unless a test asks for it (AGENTCORE_PLUGINS='')."""
    from agentcore.plugins import PLUGINS_ENV, reset_plugin_manager

    monkeypatch.setenv(PLUGINS_ENV, "")
    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture
def clean_config(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """No configuration from the machine: an empty working directory and no AGENTCORE_* settings."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("AGENTCORE_") and name != "AGENTCORE_PLUGINS":
            monkeypatch.delenv(name)
    return tmp_path
