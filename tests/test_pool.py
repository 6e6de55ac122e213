"""The model pool: lazy loading, sharing, LRU eviction under a budget, fallbacks. A fake loader stands in."""

from __future__ import annotations

import threading
import time

import pytest

from agentcore.backends.base import Backend, Completion
from agentcore.config import load_config
from agentcore.errors import ModelUnavailableError
from agentcore.pool import ModelPool, load_options
from agentcore.specialists import Specialist


@pytest.fixture(autouse=True)
def hermetic(clean_config):
    """Plugins are already off (conftest); no machine configuration either."""


class FakeBackend(Backend):
    name = "fake"

    def __init__(self, model_id, memory_gb=None, **options):
        self.model_id = model_id
        self.options = options
        if memory_gb is not None:
            self.memory_gb = memory_gb

    def generate(self, request):
        return Completion(text=f"from {self.model_id}")


class FakeLoader:
    """Records loads; ``missing`` ids raise like an offline machine; ``sizes`` are reported memory."""

    def __init__(self, missing=(), sizes=None, delay=0.0):
        self.loads: list[tuple] = []
        self.missing = set(missing)
        self.sizes = sizes or {}
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, model_id, **options):
        time.sleep(self.delay)
        with self.lock:
            self.loads.append((model_id, options))
        if model_id in self.missing:
            raise OSError(f"We couldn't connect to 'https://huggingface.co' to load {model_id}")
        return FakeBackend(model_id, self.sizes.get(model_id), **options)


def _pool(budget=100.0, **loader_kwargs):
    loader = FakeLoader(**loader_kwargs)
    return ModelPool(budget, loader, config=load_config()), loader


def test_loads_lazily_and_shares():
    pool, loader = _pool()
    assert loader.loads == []
    a = pool.get("Qwen/Qwen3-4B", device="cpu")
    b = pool.get("Qwen/Qwen3-4B", device="cpu")
    assert a is b and len(loader.loads) == 1
    c = pool.get("Qwen/Qwen3-4B", device="cuda")  # other options: another instance
    assert c is not a and len(loader.loads) == 2


def test_two_specialists_on_one_model_share_it():
    pool, loader = _pool(budget=30)
    # general and math both choose Qwen3-8B for 30 GB
    general, _ = pool.backend_for("general")
    math, _ = pool.backend_for("math")
    assert general is math and general.model_id == "Qwen/Qwen3-8B"
    assert len(loader.loads) == 1


def test_lru_eviction_of_idle_backends():
    pool, loader = _pool(budget=12.0)  # Qwen3-4B needs 10.1 GB, Qwen3-0.6B 1.9, Qwen3-1.7B 4.6
    pool.get("Qwen/Qwen3-0.6B")
    pool.get("Qwen/Qwen3-1.7B")
    pool.get("Qwen/Qwen3-0.6B")  # now 1.7B is the least recently used
    pool.get("Qwen/Qwen3-4B")
    held = [e.model_id for e in pool.loaded()]
    assert held == ["Qwen/Qwen3-0.6B", "Qwen/Qwen3-4B"] or held == ["Qwen/Qwen3-4B"]
    assert "Qwen/Qwen3-1.7B" not in held
    assert pool.memory_in_use_gb <= 12.0


def test_leased_backends_are_not_evicted():
    pool, _ = _pool(budget=11.0)
    with pool.lease("Qwen/Qwen3-1.7B") as busy:
        assert pool.loaded()[0].in_use == 1
        pool.get("Qwen/Qwen3-4B")  # over budget, but the busy one stays
        assert "Qwen/Qwen3-1.7B" in [e.model_id for e in pool.loaded()]
        assert busy.model_id == "Qwen/Qwen3-1.7B"
    assert pool.loaded()[0].in_use == 0
    pool.get("Qwen/Qwen3-0.6B")
    assert "Qwen/Qwen3-1.7B" not in [e.model_id for e in pool.loaded()]


def test_reported_memory_is_used():
    pool, _ = _pool(budget=10.0, sizes={"local/a": 6.0, "local/b": 6.0})
    pool.get("local/a")
    assert pool.memory_in_use_gb == 6.0
    pool.get("local/b")
    assert [e.model_id for e in pool.loaded()] == ["local/b"]


def test_evict():
    pool, loader = _pool()
    pool.get("Qwen/Qwen3-0.6B")
    assert pool.evict("Qwen/Qwen3-0.6B") == 1 and pool.loaded() == []
    pool.get("Qwen/Qwen3-0.6B")
    assert len(loader.loads) == 2


def test_concurrent_gets_load_once():
    pool, loader = _pool(delay=0.05)
    results = []
    threads = [threading.Thread(target=lambda: results.append(pool.get("Qwen/Qwen3-0.6B"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loader.loads) == 1 and len({id(r) for r in results}) == 1


def test_failed_load_is_not_cached():
    pool, loader = _pool(missing={"Qwen/Qwen3-0.6B"})
    with pytest.raises(OSError):
        pool.get("Qwen/Qwen3-0.6B")
    loader.missing.clear()
    assert pool.get("Qwen/Qwen3-0.6B").model_id == "Qwen/Qwen3-0.6B"


def test_text_specialist_falls_back_with_a_notice():
    pool, loader = _pool(budget=30, missing={"Qwen/Qwen3-8B"})
    backend, notice = pool.backend_for("math")
    assert backend.model_id is None  # the embedded default
    assert notice.startswith("math: Qwen/Qwen3-8B is unavailable") and "embedded default model" in notice
    assert "\n" not in notice
    assert [m for m, _ in loader.loads] == ["Qwen/Qwen3-8B", None]


def test_fallback_to_the_configured_default_model(monkeypatch):
    monkeypatch.setenv("AGENTCORE_DEFAULT_MODEL", "Qwen/Qwen3-0.6B")
    monkeypatch.setenv("AGENTCORE_CODER_MODEL", "/no/such/model")
    loader = FakeLoader(missing={"/no/such/model"})
    pool = ModelPool(30, loader, config=load_config())
    backend, notice = pool.backend_for("coder")
    assert backend.model_id == "Qwen/Qwen3-0.6B" and "default model Qwen/Qwen3-0.6B" in notice


def test_vision_specialist_fails_clearly():
    pool, _ = _pool(budget=30, missing={"Qwen/Qwen2.5-VL-7B-Instruct"})
    with pytest.raises(ModelUnavailableError, match="no vision model available for 'vl'.*AGENTCORE_VL_MODEL"):
        pool.backend_for("vl")


def test_nothing_fits_falls_back_for_text_and_fails_for_vision():
    pool, loader = _pool(budget=1.0)
    backend, notice = pool.backend_for("general")
    assert backend.model_id is None and "no general model fits" in notice
    with pytest.raises(ModelUnavailableError, match="vision"):
        pool.backend_for("vl")


def test_fallback_failing_too_is_one_clear_error():
    pool, _ = _pool(budget=30, missing={"Qwen/Qwen3-8B", None})
    with pytest.raises(ModelUnavailableError, match="default model could not be loaded either"):
        pool.backend_for("general")


def test_configured_model_and_backend(monkeypatch):
    monkeypatch.setenv("AGENTCORE_MATH_MODEL", "Qwen/Qwen2.5-Math-7B-Instruct")
    monkeypatch.setenv("AGENTCORE_CODER_BACKEND", "openai")
    monkeypatch.setenv("AGENTCORE_CODER_BASE_URL", "http://gpu:8000/v1")
    pool, loader = _pool()
    model, options, reason = pool.model_for("math")
    assert model == "Qwen/Qwen2.5-Math-7B-Instruct" and "env:AGENTCORE_MATH_MODEL" in reason
    pool.backend_for("coder")
    model_id, options = loader.loads[-1]
    assert model_id == "Qwen/Qwen2.5-Coder-0.5B-Instruct"
    assert options == {"backend": "openai", "base_url": "http://gpu:8000/v1"}
    assert pool.memory_in_use_gb == 0.0  # served elsewhere


def test_chosen_dtype_reaches_the_loader():
    pool, loader = _pool(budget=24)
    pool.backend_for("general")
    assert loader.loads[-1][1]["dtype"] == "bf16"
    assert load_options("int8", "cuda")["quantization"] == "bnb-8bit"
    assert load_options("int8", "cpu")["quantization"] == "int8"
    assert load_options("int4", "cuda:1") == {"device": "cuda:1", "quantization": "bnb-4bit"}


def test_plugin_specialist_without_models_falls_back():
    pool, _ = _pool()
    backend, notice = pool.backend_for(Specialist(name="bare"))
    assert backend.model_id is None and "bare" in notice


def test_default_pool_is_shared(monkeypatch):
    from agentcore import pool as pool_module

    pool_module.reset_default_pool()
    try:
        assert pool_module.default_pool() is pool_module.default_pool()
    finally:
        pool_module.reset_default_pool()


def test_default_backend_is_the_configured_default_model_loaded_once():
    loads: list = []

    def loader(model_id, **options):
        loads.append(model_id)
        return FakeBackend(model_id)

    pool = ModelPool(loader=loader, config=load_config())
    assert pool.default_backend() is pool.default_backend()
    assert loads == [None]  # None: the embedded default
