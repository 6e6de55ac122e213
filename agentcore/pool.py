"""The model pool: specialists' backends, loaded lazily, shared, and evicted LRU under a memory budget.

:meth:`ModelPool.get` loads a model the first time it is asked for and hands the same backend to every
later caller with the same model id and options (two specialists on one model share it). Each backend's
memory is what it reports (a transformers model's footprint) or the catalogue's estimate. When loading
would take the pool past its budget, the least recently used *idle* backends are dropped first; a backend
held through :meth:`ModelPool.lease` is never evicted. Eviction only drops the pool's reference, so a
caller still holding an evicted backend can finish with it; its memory returns when that caller lets go.

:meth:`ModelPool.backend_for` is what the agent uses: the specialist's configured model, else the largest
that fits (:func:`agentcore.select_model`); when that model cannot be had (offline, no weights) a text
specialist falls back to the default model with a one-line notice, and a vision specialist raises a
clear :class:`~agentcore.errors.ModelUnavailableError` (a text model cannot see images).
"""

from __future__ import annotations

import gc
import itertools
import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from agentcore.errors import ModelUnavailableError

log = logging.getLogger(__name__)

Loader = Callable[..., Any]  # loader(model_id: str | None, **options) -> Backend
Key = tuple[str | None, tuple[tuple[str, Any], ...]]

#: The memory a backend is counted at when neither it nor the catalogue can say (an unknown local model).
UNKNOWN_MODEL_GB = 1.0


def load_backend(
    model_id: str | None, *, backend: str = "transformers", vision: bool = False, **options: Any
) -> Any:
    """The default loader: build the backend called ``backend`` for ``model_id`` (``None``: default model).

    ``transformers`` runs the model in-process (a :class:`~agentcore.backends.vision.VisionBackend` when
    ``vision`` is true), ``openai`` talks to an OpenAI-compatible server at ``base_url``; any other name
    is a backend factory a plugin registered.
    """
    options = {k: v for k, v in options.items() if v is not None}
    if backend == "transformers":
        options.pop("base_url", None)
        if vision:
            from agentcore.backends.vision import VisionBackend

            return VisionBackend(model_id, **options)
        from agentcore.backends.transformers import TransformersBackend

        return TransformersBackend(model_id, **options)
    if backend == "openai":
        from agentcore.backends.openai import OpenAIBackend

        base_url = options.pop("base_url", None)
        if not base_url or not model_id:
            raise ModelUnavailableError(
                "the openai backend needs a server and a model: set base_url (AGENTCORE_BASE_URL or "
                "[specialists.<name>] base_url) and the model id the server serves"
            )
        allowed = {"api_key", "family", "extra_body", "timeout"}
        return OpenAIBackend(base_url, model_id, **{k: v for k, v in options.items() if k in allowed})
    from agentcore.plugins import registered_backends

    factories = registered_backends()
    if backend not in factories:
        known = ", ".join(["transformers", "openai", *factories])
        raise ModelUnavailableError(f"unknown backend {backend!r}; choose one of: {known}")
    return factories[backend](model=model_id, **options)


def load_options(dtype: str, device: str | None) -> dict[str, Any]:
    """TransformersBackend options for a catalogue dtype (bf16, int8, int4) on ``device``."""
    on_cuda = bool(device and device.startswith("cuda"))
    options: dict[str, Any] = {"device": device}
    if dtype == "bf16":
        options["dtype"] = "bf16"
    elif dtype == "int8":
        options["quantization"] = "bnb-8bit" if on_cuda else "int8"
    elif dtype == "int4":
        options["quantization"] = "bnb-4bit"
    return options


@dataclass
class _Entry:
    backend: Any
    memory_gb: float
    last_used: int
    in_use: int = 0


@dataclass(frozen=True)
class PoolEntryInfo:
    """What :meth:`ModelPool.loaded` reports about one backend."""

    model_id: str | None
    options: dict[str, Any]
    memory_gb: float
    in_use: int


def _reported_memory_gb(backend: Any) -> float | None:
    """The memory a backend says it takes: ``memory_gb``, else its transformers model's footprint."""
    value = getattr(backend, "memory_gb", None)
    if isinstance(value, (int, float)):
        return float(value)
    model = getattr(backend, "model", None)
    footprint = getattr(model, "get_memory_footprint", None)
    if callable(footprint):
        try:
            return float(footprint()) / 1e9
        except Exception:  # a model without parameters loaded yet, a mock: fall back to the estimate
            return None
    return None


class ModelPool:
    """Lazily loaded, shared backends with LRU eviction of idle ones under ``memory_budget_gb``.

    ``memory_budget_gb`` defaults to the machine's free memory (measured once, on the configured device);
    ``loader(model_id, **options)`` builds a backend (default :func:`load_backend`). ``config`` is an
    :class:`~agentcore.config.EffectiveConfig` (default: :func:`agentcore.config.load_config`).
    """

    def __init__(
        self,
        memory_budget_gb: float | None = None,
        loader: Loader | None = None,
        *,
        config: Any = None,
    ) -> None:
        if config is None:
            from agentcore.config import load_config

            config = load_config()
        self.config = config
        self.loader: Loader = loader or load_backend
        if memory_budget_gb is None:
            memory_budget_gb = config.settings.memory_gb
        if memory_budget_gb is None:
            from agentcore.catalogue import default_device, machine_memory_gb

            memory_budget_gb, _how = machine_memory_gb(config.device or default_device())
        self.memory_budget_gb: float = float(memory_budget_gb) if memory_budget_gb is not None else float("inf")
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._loading: dict[Key, threading.Lock] = {}
        self._lock = threading.RLock()
        self._clock = itertools.count()

    # -- the pool ------------------------------------------------------------------------------------------

    @staticmethod
    def _key(model_id: str | None, options: dict[str, Any]) -> Key:
        return model_id, tuple(sorted((k, repr(v)) for k, v in options.items() if v is not None))

    def _estimate_gb(self, model_id: str | None, options: dict[str, Any]) -> float:
        if options.get("backend", "transformers") != "transformers":
            return 0.0  # served elsewhere
        if model_id is None:
            return 0.5  # the embedded default (135M parameters) and its runtime
        from agentcore.catalogue import memory_needed_gb

        quantization = str(options.get("quantization") or "")
        dtype = "int4" if "4" in quantization else "int8" if "8" in quantization else "bf16"
        return memory_needed_gb(model_id, dtype) or UNKNOWN_MODEL_GB

    @property
    def memory_in_use_gb(self) -> float:
        with self._lock:
            return sum(entry.memory_gb for entry in self._entries.values())

    def loaded(self) -> list[PoolEntryInfo]:
        """The backends held now, least recently used first."""
        with self._lock:
            return [
                PoolEntryInfo(model_id=key[0], options=dict(key[1]), memory_gb=e.memory_gb, in_use=e.in_use)
                for key, e in self._entries.items()
            ]

    def _make_room(self, needed_gb: float, keep: Key) -> None:
        """Drop idle backends, least recently used first, until ``needed_gb`` more fits the budget."""
        evicted = False
        for key in list(self._entries):
            if self.memory_in_use_gb + needed_gb <= self.memory_budget_gb:
                break
            entry = self._entries[key]
            if key == keep or entry.in_use:
                continue
            del self._entries[key]
            evicted = True
            log.info("model pool: evicted %s (%.1f GB, idle) to stay within %.1f GB", key[0], entry.memory_gb,
                     self.memory_budget_gb)
        if evicted:
            gc.collect()
            torch = sys.modules.get("torch")  # only if someone loaded it: never import torch to free memory
            if torch is not None and torch.cuda.is_available():
                torch.cuda.empty_cache()
        if self.memory_in_use_gb + needed_gb > self.memory_budget_gb:
            log.warning(
                "model pool: %.1f GB needed but only %.1f GB of the %.1f GB budget can be freed (the rest is in use)",
                needed_gb, self.memory_budget_gb - self.memory_in_use_gb, self.memory_budget_gb,
            )

    def get(self, model_id: str | None, **options: Any) -> Any:
        """The backend for ``model_id`` with ``options``, loaded on first use and shared afterwards.

        ``model_id=None`` is the default model. Loading errors (``ModelUnavailableError``, ``OSError``)
        propagate; nothing is cached for a model that failed.
        """
        key = self._key(model_id, options)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                return self._touch(key, entry).backend
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:  # one load per model; other models load in parallel
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    return self._touch(key, entry).backend
                estimate = self._estimate_gb(model_id, options)
                self._make_room(estimate, keep=key)
            try:
                backend = self.loader(model_id, **options)
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            reported = _reported_memory_gb(backend) if options.get("backend", "transformers") == "transformers" else None
            with self._lock:
                self._entries[key] = _Entry(backend, reported if reported is not None else estimate, next(self._clock))
                self._make_room(0.0, keep=key)  # the real size may exceed the estimate
            return backend

    def _touch(self, key: Key, entry: _Entry) -> _Entry:
        entry.last_used = next(self._clock)
        self._entries.move_to_end(key)
        return entry

    @contextmanager
    def lease(self, model_id: str | None, **options: Any) -> Iterator[Any]:
        """``with pool.lease(id) as backend:`` the backend, kept from eviction while the block runs."""
        backend = self.get(model_id, **options)
        key = self._key(model_id, options)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.in_use += 1
        try:
            yield backend
        finally:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry.in_use:
                    entry.in_use -= 1

    def evict(self, model_id: str | None = None) -> int:
        """Drop idle backends (of ``model_id``, or all); returns how many were dropped."""
        with self._lock:
            keys = [k for k, e in self._entries.items() if not e.in_use and (model_id is None or k[0] == model_id)]
            for key in keys:
                del self._entries[key]
        if keys:
            gc.collect()
        return len(keys)

    # -- specialists ---------------------------------------------------------------------------------------

    def model_for(self, specialist: Any) -> tuple[str, dict[str, Any], str]:
        """The model id, loader options and a reason for ``specialist`` (configured, else chosen by memory)."""
        from agentcore.catalogue import default_device, select_model
        from agentcore.specialists import get_specialist

        spec = get_specialist(specialist)
        settings = self.config.specialist(spec.name)
        backend = self.config.backend_for(spec.name)
        device = self.config.device or default_device()
        options: dict[str, Any] = {"backend": backend} if backend != "transformers" else {}
        if backend != "transformers":
            options["base_url"] = self.config.base_url_for(spec.name)
        elif spec.vision:
            options["vision"] = True  # an in-process vision model needs the VL model class and processor
        configured_dtype = self.config.settings.dtype
        if settings.model:
            if backend == "transformers":
                options.update(load_options("bf16" if configured_dtype == "auto" else configured_dtype, device))
            source = self.config.source(f"specialists.{spec.name}.model")
            return settings.model, options, f"configured ({source})"
        if not spec.models:
            raise ModelUnavailableError(
                f"specialist {spec.name!r} lists no models; configure one ([specialists.{spec.name}] model = ...)"
            )
        if backend != "transformers":
            model = spec.models[next(iter(spec.models))]
            return model, options, f"{spec.name}'s first model, served by {backend}"
        dtypes = None if configured_dtype == "auto" else (configured_dtype,)
        budget = None if self.memory_budget_gb == float("inf") else self.memory_budget_gb
        choice = select_model(spec, memory_gb=budget, device=device, dtypes=dtypes)
        if not choice.fits:
            raise ModelUnavailableError(choice.reason)
        options.update(load_options(choice.dtype, device))
        return choice.model_id, options, choice.reason

    def default_backend(self) -> Any:
        """The configured default model (``default_model``), else the embedded one; loaded once."""
        return self.get(self.config.settings.default_model)

    def backend_for(self, specialist: Any) -> tuple[Any, str | None]:
        """The backend for ``specialist`` and a one-line notice when it had to fall back, else ``None``.

        A text specialist whose model cannot be had gets the default model (``default_model`` in the
        configuration, else the embedded one) and a notice saying so; a vision specialist raises
        :class:`ModelUnavailableError` explaining how to configure a vision model.
        """
        from agentcore.specialists import get_specialist

        spec = get_specialist(specialist)
        model_id: str | None = None
        try:
            model_id, options, _reason = self.model_for(spec)
            return self.get(model_id, **options), None
        except (ModelUnavailableError, OSError) as exc:
            problem = _one_line(exc)
        if spec.vision:
            env = spec.name.upper().replace("-", "_")
            raise ModelUnavailableError(
                f"no vision model available for {spec.name!r} ({problem}); a text model cannot see images. "
                f"Configure one: [specialists.{spec.name}] model = \"Qwen/Qwen2.5-VL-3B-Instruct\" (or a local "
                f"folder) in agentcore.toml, or AGENTCORE_{env}_MODEL=...; or serve one with an OpenAI-compatible "
                f"server and set AGENTCORE_{env}_BACKEND=openai AGENTCORE_{env}_BASE_URL=http://host:8000/v1"
            )
        default = self.config.settings.default_model
        try:
            fallback = self.get(default)
        except (ModelUnavailableError, OSError) as exc:
            raise ModelUnavailableError(
                f"{spec.name}: {problem}; and the default model could not be loaded either: {_one_line(exc)}"
            ) from exc
        wanted = model_id or "its model"
        notice = (
            f"{spec.name}: {wanted} is unavailable ({problem}); using the "
            f"{'default model ' + default if default else 'embedded default model'} instead"
        )
        log.info(notice)
        return fallback, notice


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


_default_pool: ModelPool | None = None
_default_lock = threading.Lock()


def default_pool() -> ModelPool:
    """The process's shared pool (created on first use from the configuration), used by agents without a backend."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = ModelPool()
        return _default_pool


def reset_default_pool() -> None:
    """Forget the shared pool (its backends are dropped): tests, or after changing the configuration."""
    global _default_pool
    with _default_lock:
        _default_pool = None
