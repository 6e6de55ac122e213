"""The Qwen model catalogue, as data, and model selection by memory.

Each :class:`ModelVariant` records a model's parameters (total and, for MoE models, active), its context
length and the memory it needs at bf16, int8 and int4.

Memory rule (documented, deliberately simple and a little generous): weights take ``params × bytes per
parameter`` (bf16 2, int8 1, int4 0.5; 1e9 parameters at 1 byte = 1 GB), and running the model takes 20%
on top of that (activations and KV cache at a few thousand tokens of context) plus 0.5 GB (runtime, CUDA
context, buffers)::

    memory_gb[dtype] = params_b × bytes[dtype] × 1.2 + 0.5

An MoE model needs memory for *all* its parameters (every expert is loaded); only its compute scales with
the active ones.

:func:`select_model` picks, among a specialist's models, the largest that fits the memory it is given
(or the machine's, measured), trying bf16, then int8, then int4 for each size before going smaller.
Quantized loading needs a GPU (bitsandbytes, AWQ/GPTQ kernels), so on CPU only bf16 is considered.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Literal

from pydantic import BaseModel, Field

Dtype = Literal["bf16", "int8", "int4"]
DTYPES: tuple[Dtype, ...] = ("bf16", "int8", "int4")
BYTES_PER_PARAM: dict[str, float] = {"bf16": 2.0, "int8": 1.0, "int4": 0.5}
#: Running overhead on top of the weights: a fraction of them, plus a constant.
OVERHEAD_FRACTION = 0.2
OVERHEAD_GB = 0.5


def estimate_memory_gb(params_b: float, dtype: str) -> float:
    """GB needed to run a model of ``params_b`` billion parameters at ``dtype`` (see the module's rule)."""
    return round(params_b * BYTES_PER_PARAM[dtype] * (1 + OVERHEAD_FRACTION) + OVERHEAD_GB, 1)


class ModelVariant(BaseModel):
    """One model of the catalogue."""

    id: str
    family: str  # chat family (agentcore.families)
    kinds: tuple[str, ...]  # specialist kinds it suits: general, coder, math, vl
    params_b: float  # total parameters, billions
    active_params_b: float | None = None  # MoE: parameters active per token
    context_length: int  # the longest context the model card supports (with YaRN where it says so)
    memory_gb: dict[str, float] = Field(default_factory=dict)

    def model_post_init(self, __context: object) -> None:
        for dtype in DTYPES:
            self.memory_gb.setdefault(dtype, estimate_memory_gb(self.params_b, dtype))

    @property
    def is_moe(self) -> bool:
        return self.active_params_b is not None

    @property
    def size_label(self) -> str:
        total = f"{self.params_b:g}B"
        return f"{total} ({self.active_params_b:g}B active)" if self.is_moe else total


def _v(
    id: str, family: str, kinds: tuple[str, ...], params_b: float, context: int, active: float | None = None
) -> ModelVariant:
    return ModelVariant(
        id=id, family=family, kinds=kinds, params_b=params_b, active_params_b=active, context_length=context
    )


_K32, _K128, _K256 = 32_768, 131_072, 262_144

# Parameter counts and context lengths from the models' cards on Hugging Face.
CATALOGUE: list[ModelVariant] = [
    # Qwen2.5 Instruct: 32K context up to 3B, 128K (YaRN) from 7B.
    _v("Qwen/Qwen2.5-0.5B-Instruct", "qwen2.5", ("general",), 0.49, _K32),
    _v("Qwen/Qwen2.5-1.5B-Instruct", "qwen2.5", ("general",), 1.54, _K32),
    _v("Qwen/Qwen2.5-3B-Instruct", "qwen2.5", ("general",), 3.09, _K32),
    _v("Qwen/Qwen2.5-7B-Instruct", "qwen2.5", ("general",), 7.61, _K128),
    _v("Qwen/Qwen2.5-14B-Instruct", "qwen2.5", ("general",), 14.7, _K128),
    _v("Qwen/Qwen2.5-32B-Instruct", "qwen2.5", ("general",), 32.5, _K128),
    _v("Qwen/Qwen2.5-72B-Instruct", "qwen2.5", ("general",), 72.7, _K128),
    # Qwen2.5-Coder Instruct
    _v("Qwen/Qwen2.5-Coder-0.5B-Instruct", "qwen2.5", ("coder",), 0.49, _K32),
    _v("Qwen/Qwen2.5-Coder-1.5B-Instruct", "qwen2.5", ("coder",), 1.54, _K32),
    _v("Qwen/Qwen2.5-Coder-3B-Instruct", "qwen2.5", ("coder",), 3.09, _K32),
    _v("Qwen/Qwen2.5-Coder-7B-Instruct", "qwen2.5", ("coder",), 7.61, _K128),
    _v("Qwen/Qwen2.5-Coder-14B-Instruct", "qwen2.5", ("coder",), 14.7, _K128),
    _v("Qwen/Qwen2.5-Coder-32B-Instruct", "qwen2.5", ("coder",), 32.5, _K128),
    # Qwen2.5-Math Instruct: 4K context, chain-of-thought and tool-integrated reasoning.
    _v("Qwen/Qwen2.5-Math-1.5B-Instruct", "qwen2.5-math", ("math",), 1.54, 4_096),
    _v("Qwen/Qwen2.5-Math-7B-Instruct", "qwen2.5-math", ("math",), 7.62, 4_096),
    _v("Qwen/Qwen2.5-Math-72B-Instruct", "qwen2.5-math", ("math",), 72.7, 4_096),
    # Qwen2.5-VL Instruct (the vision encoder is counted in the parameters)
    _v("Qwen/Qwen2.5-VL-3B-Instruct", "qwen2.5-vl", ("vl",), 3.75, _K32),
    _v("Qwen/Qwen2.5-VL-7B-Instruct", "qwen2.5-vl", ("vl",), 8.29, _K32),
    _v("Qwen/Qwen2.5-VL-32B-Instruct", "qwen2.5-vl", ("vl",), 33.5, _K32),
    _v("Qwen/Qwen2.5-VL-72B-Instruct", "qwen2.5-vl", ("vl",), 73.4, _K32),
    # QwQ: always thinks
    _v("Qwen/QwQ-32B", "qwq", ("general", "math"), 32.5, _K128),
    # Qwen3: hybrid thinking; 32K for 0.6B/1.7B, 128K (YaRN) from 4B
    _v("Qwen/Qwen3-0.6B", "qwen3", ("general", "math"), 0.6, _K32),
    _v("Qwen/Qwen3-1.7B", "qwen3", ("general", "math"), 1.7, _K32),
    _v("Qwen/Qwen3-4B", "qwen3", ("general", "math"), 4.0, _K128),
    _v("Qwen/Qwen3-8B", "qwen3", ("general", "math"), 8.2, _K128),
    _v("Qwen/Qwen3-14B", "qwen3", ("general", "math"), 14.8, _K128),
    _v("Qwen/Qwen3-32B", "qwen3", ("general", "math"), 32.8, _K128),
    _v("Qwen/Qwen3-30B-A3B", "qwen3", ("general", "math"), 30.5, _K128, active=3.3),
    _v("Qwen/Qwen3-235B-A22B", "qwen3", ("general", "math"), 235.0, _K128, active=22.0),
    # Qwen3-Coder: MoE, 256K native context
    _v("Qwen/Qwen3-Coder-30B-A3B-Instruct", "qwen3-coder", ("coder",), 30.5, _K256, active=3.3),
    _v("Qwen/Qwen3-Coder-480B-A35B-Instruct", "qwen3-coder", ("coder",), 480.0, _K256, active=35.0),
]

_BY_ID = {v.id.lower(): v for v in CATALOGUE}


def find_variant(model_id: str) -> ModelVariant | None:
    """The catalogue entry of ``model_id`` (case-insensitive; a trailing path is matched by its name)."""
    key = model_id.lower()
    if key in _BY_ID:
        return _BY_ID[key]
    name = key.rstrip("/").rsplit("/", 1)[-1]
    return next((v for v in CATALOGUE if v.id.lower().rsplit("/", 1)[-1] == name), None)


_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)b(?![a-z])", re.IGNORECASE)


def params_from_id(model_id: str) -> float | None:
    """The parameter count (billions) a model id spells out (``…-7B-…`` → 7.0), or ``None``."""
    sizes = [float(m) for m in _SIZE.findall(model_id)]
    return max(sizes) if sizes else None


def memory_needed_gb(model_id: str, dtype: str = "bf16") -> float | None:
    """GB ``model_id`` needs at ``dtype``: the catalogue's figure, else estimated from the size in its id."""
    variant = find_variant(model_id)
    if variant is not None:
        return variant.memory_gb[dtype]
    params = params_from_id(model_id)
    return estimate_memory_gb(params, dtype) if params is not None else None


# ---------------------------------------------------------------------------------------------------------
# Measuring the machine


def _meminfo_available_gb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        return None
    return None


def machine_memory_gb(device: str | None = None) -> tuple[float | None, str]:
    """Memory free for a model on ``device`` (GB) and how it was measured.

    ``cuda``/``cuda:N``: free memory on that GPU (torch); otherwise available RAM (psutil, else
    /proc/meminfo). ``None`` when it cannot be measured.
    """
    if device is not None and device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            return None, "no CUDA device visible"
        index = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
        free, _total = torch.cuda.mem_get_info(index)
        return free / 1e9, f"free memory on cuda:{index}"
    try:
        import psutil
    except ImportError:
        gb = _meminfo_available_gb()
        return gb, "available RAM (/proc/meminfo)"
    return psutil.virtual_memory().available / 1e9, "available RAM"


def default_device() -> str:
    """``cuda`` when torch is already imported and sees a GPU, or ``AGENTCORE_DEVICE`` says so; else ``cpu``.

    Importing torch only to ask would make ``agentcore models`` slow; a GPU user can pass ``--device cuda``.
    """
    env = os.environ.get("AGENTCORE_DEVICE")
    if env and env != "auto":
        return env
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return "cuda"
    return "cpu"


# ---------------------------------------------------------------------------------------------------------
# Selection


class ModelChoice(BaseModel):
    """The model :func:`select_model` picked, and why."""

    model_id: str
    dtype: Dtype
    fits: bool
    memory_gb_needed: float | None
    memory_gb_available: float | None
    reason: str


def _dtypes_for(device: str) -> tuple[Dtype, ...]:
    return DTYPES if device.startswith("cuda") else ("bf16",)


def select_model(
    specialist: object,
    memory_gb: float | None = None,
    device: str | None = None,
    dtypes: tuple[Dtype, ...] | None = None,
) -> ModelChoice:
    """The largest of ``specialist``'s models that fits ``memory_gb`` (default: measured on ``device``).

    ``specialist`` is a :class:`agentcore.Specialist` or its name. Sizes are tried largest first; for each,
    the ``dtypes`` in order (default bf16, int8, int4 on CUDA; bf16 only on CPU). When nothing fits, the
    smallest model is returned with ``fits=False`` and a reason that says how much memory it needs.
    """
    from agentcore.specialists import get_specialist

    spec = get_specialist(specialist)  # type: ignore[arg-type]
    if not spec.models:
        raise ValueError(f"specialist {spec.name!r} lists no models; give it models={{tier: model id}}")
    device = device or default_device()
    dtypes = dtypes or _dtypes_for(device)
    measured = "given"
    if memory_gb is None:
        memory_gb, measured = machine_memory_gb(device)

    def size(model_id: str) -> float:
        variant = find_variant(model_id)
        return variant.params_b if variant else (params_from_id(model_id) or 0.0)

    candidates = sorted(set(spec.models.values()), key=size, reverse=True)
    if memory_gb is None:
        smallest = candidates[-1]
        return ModelChoice(
            model_id=smallest,
            dtype=dtypes[0],
            fits=False,
            memory_gb_needed=memory_needed_gb(smallest, dtypes[0]),
            memory_gb_available=None,
            reason=f"could not measure memory on {device} ({measured}); chose the smallest, {smallest}; "
            "pass memory_gb= (or --memory-gb) to choose by size",
        )
    where = f"{memory_gb:.1f} GB ({measured})"
    too_big: str | None = None  # the next larger model, for the reason
    for model_id in candidates:
        for dtype in dtypes:
            need = memory_needed_gb(model_id, dtype)
            if need is None:  # an id with no size in it: cannot judge, so never pick it blindly
                break
            if need <= memory_gb:
                reason = f"largest {spec.name} model that fits {where}: {model_id} at {dtype} needs {need:g} GB"
                if too_big:
                    reason += f" ({too_big} does not fit)"
                return ModelChoice(
                    model_id=model_id,
                    dtype=dtype,
                    fits=True,
                    memory_gb_needed=need,
                    memory_gb_available=memory_gb,
                    reason=reason,
                )
        need_last = memory_needed_gb(model_id, dtypes[-1])
        if need_last is not None:
            too_big = f"{model_id}, needing {need_last:g} GB at {dtypes[-1]},"
    smallest = candidates[-1]
    need = memory_needed_gb(smallest, dtypes[-1])
    return ModelChoice(
        model_id=smallest,
        dtype=dtypes[-1],
        fits=False,
        memory_gb_needed=need,
        memory_gb_available=memory_gb,
        reason=f"no {spec.name} model fits {where}: the smallest, {smallest} at {dtypes[-1]}, needs "
        f"{need if need is not None else '?'} GB",
    )
