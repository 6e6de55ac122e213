"""The embedded SmolLM2-135M model for slow tests: one converted copy per machine, one load per session.

Its GGUF → safetensors conversion (~30-45 s) is cached under the test cache root (see
:func:`helpers.tiny_qwen.cache_root`), so only the first session on a machine pays it. Import the
``embedded_backend`` fixture into a test module to use it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from helpers.tiny_qwen import cache_root


def embedded_cache_dir() -> Path:
    """The AGENTCORE_CACHE_DIR tests use for converted models (shared by in-process and CLI tests)."""
    path = cache_root() / "agentcore-models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def embedded_backend() -> Any:
    """A TransformersBackend on the embedded default model (loaded once per test session)."""
    from agentcore.backends.transformers import TransformersBackend

    old = os.environ.get("AGENTCORE_CACHE_DIR")
    os.environ["AGENTCORE_CACHE_DIR"] = str(embedded_cache_dir())
    try:
        return TransformersBackend()
    finally:
        if old is None:
            os.environ.pop("AGENTCORE_CACHE_DIR", None)
        else:
            os.environ["AGENTCORE_CACHE_DIR"] = old
