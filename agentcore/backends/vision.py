"""The in-process vision backend: Qwen2.5-VL (and Qwen2-VL) with ``transformers``, images included.

``VisionBackend(model)`` is a :class:`~agentcore.backends.transformers.TransformersBackend` whose model is a
``Qwen2_5_VLForConditionalGeneration`` / ``Qwen2VLForConditionalGeneration`` and whose requests may carry
images. For each request it

1. takes the images of ``request.messages`` in order and loads and checks each one
   (:func:`agentcore.images.load_images`: format, bytes, pixels, decompression bombs);
2. tokenizes the ``qwen2.5-vl`` prompt, whose template put one ``<|vision_start|><|image_pad|><|vision_end|>``
   per image, and checks that the placeholders and the images match one to one (an image is never dropped);
3. runs the image processor (``Qwen2VLImageProcessorPil``; ``min_pixels`` / ``max_pixels`` configurable) and
   expands the i-th ``<|image_pad|>`` into ``prod(image_grid_thw[i]) // merge_size**2`` pad tokens, as
   ``Qwen2_5_VLProcessor`` does;
4. generates with ``pixel_values`` and ``image_grid_thw``, streaming and measuring exactly as the text backend.

The processor is assembled from the tokenizer and the PIL image processor rather than ``AutoProcessor``:
``AutoProcessor`` also builds the video processor, which needs ``torchvision``, and torchvision cannot be
installed beside the CPU torch build. Images need only Pillow.

With no vision weights at hand (offline, not in the Hugging Face cache) the constructor raises the
:class:`~agentcore.errors.ModelUnavailableError` of :func:`vision_unavailable_error`, which says how to
configure a vision model.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from agentcore.backends.base import BackendError, GenerationRequest
from agentcore.backends.constrained import DEFAULT_MAX_STRING_LENGTH
from agentcore.backends.kvcache import PrefixCache
from agentcore.backends.transformers import TransformersBackend, _Prepared
from agentcore.errors import ConfigurationError, ModelUnavailableError
from agentcore.families import get_family
from agentcore.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, images_in, load_images

#: the environment variable naming the vision model (a local folder or a cached hub id)
VL_MODEL_ENV = "AGENTCORE_VL_MODEL"
#: the vision model used when none is configured (the smallest Qwen2.5-VL Instruct)
DEFAULT_VL_MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"
#: the chat family of Qwen2.5-VL and Qwen2-VL (their chat templates are byte-identical)
VL_FAMILY = "qwen2.5-vl"
#: config.model_type → the transformers class that runs it
VL_MODEL_CLASSES = {
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
}
IMAGE_PAD = "<|image_pad|>"


def default_vl_model() -> str:
    """The configured vision model: ``$AGENTCORE_VL_MODEL``, else ``Qwen/Qwen2.5-VL-3B-Instruct``."""
    return os.environ.get(VL_MODEL_ENV) or DEFAULT_VL_MODEL


def vision_unavailable_error(model: str | None = None, reason: str | None = None) -> ModelUnavailableError:
    """The error for a task with images when no vision model can be had, saying how to configure one."""
    what = f"no vision model is available: {model!r} cannot be loaded" if model else "no vision model is available"
    if reason:
        what += f" ({reason})"
    return ModelUnavailableError(
        f"{what}. Images need a Qwen2.5-VL (or Qwen2-VL) model, and agentcore never drops an image. "
        f"Configure one: a local folder with `agentcore run --model /path/to/Qwen2.5-VL-3B-Instruct --image …` "
        f"or {VL_MODEL_ENV}=/path/to/Qwen2.5-VL-3B-Instruct (get it where the hub is reachable with "
        f"`huggingface-cli download {DEFAULT_VL_MODEL} --local-dir <folder>`), or a server that serves a VL "
        f"model: `agentcore run --base-url http://host:8000/v1 --model {DEFAULT_VL_MODEL} --image …` "
        "(e.g. vLLM)"
    )


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def load_image_processor(folder: str, *, min_pixels: int | None = None, max_pixels: int | None = None,
                         local_files_only: bool = True) -> Any:
    """The Qwen2-VL PIL image processor of ``folder`` (its ``preprocessor_config.json``), with pixel bounds.

    ``min_pixels`` / ``max_pixels`` bound the resized image (default: the folder's, for Qwen2.5-VL
    3,136 and 12,845,056 pixels, i.e. 4 to 16,384 visual tokens); each visual token covers 28x28 pixels.
    """
    from transformers import Qwen2VLImageProcessorPil

    overrides: dict[str, Any] = {}
    if min_pixels is not None:
        overrides["min_pixels"] = int(min_pixels)
    if max_pixels is not None:
        overrides["max_pixels"] = int(max_pixels)
    return Qwen2VLImageProcessorPil.from_pretrained(folder, local_files_only=local_files_only, **overrides)


class VisionBackend(TransformersBackend):
    """Run Qwen2.5-VL or Qwen2-VL in-process; requests may carry images (see the module docstring).

    Args:
        model: a local model folder or a Hugging Face id in the local cache; default ``$AGENTCORE_VL_MODEL``,
            else ``Qwen/Qwen2.5-VL-3B-Instruct``.
        device, dtype, quantization, trust_remote_code: as for ``TransformersBackend``.
        family: the chat family (default ``qwen2.5-vl``; it must be one that renders images).
        min_pixels / max_pixels: bounds of the processor's resize (each visual token is 28x28 pixels);
            fewer pixels means fewer tokens and faster prompts.
        max_image_bytes / max_image_pixels: limits of the input images (:func:`agentcore.images.load_image`).
        allow_network: fetch ``http(s)`` image URLs (default: ``$AGENTCORE_ALLOW_NETWORK``).
    """

    name = "vision"

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str | None = None,
        dtype: Any = None,
        quantization: Any = None,
        family: str | None = None,
        trust_remote_code: bool = False,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        max_image_bytes: int = DEFAULT_MAX_BYTES,
        max_image_pixels: int = DEFAULT_MAX_PIXELS,
        allow_network: bool | None = None,
        max_string_length: int | None = DEFAULT_MAX_STRING_LENGTH,
    ) -> None:
        if min_pixels is not None and max_pixels is not None and min_pixels > max_pixels:
            raise ConfigurationError(f"min_pixels ({min_pixels}) is larger than max_pixels ({max_pixels})")
        # Not TransformersBackend.__init__: that loads with AutoModelForCausalLM, which has no VL models.
        self.loaded, self.image_processor = _load_vision_model(
            model, device=device, dtype=dtype, quantization=quantization, trust_remote_code=trust_remote_code,
            min_pixels=min_pixels, max_pixels=max_pixels,
        )
        self.model = self.loaded.model
        self.tokenizer = self.loaded.tokenizer
        self.model_id = self.loaded.source.name
        self.device = self.loaded.device
        self.family = get_family(family or VL_FAMILY).name
        if not get_family(self.family).supports_images:
            raise ConfigurationError(f"family {self.family!r} does not render images; VisionBackend needs 'qwen2.5-vl'")
        self.max_string_length = max_string_length
        # No KV reuse across calls: image placeholders of two different images are the same token ids, so
        # a token-prefix match could pair a cached image with the wrong pixels.
        self.kv_cache = PrefixCache(0)
        self._lock = threading.RLock()
        self._grammars = None
        self.image_token_id = int(getattr(self.model.config, "image_token_id", None)
                                  or self.tokenizer.convert_tokens_to_ids(IMAGE_PAD))
        self.merge_size = int(getattr(self.image_processor, "merge_size", 2))
        self.image_limits: dict[str, Any] = {
            "allow_network": allow_network, "max_bytes": max_image_bytes, "max_pixels": max_image_pixels,
        }

    # --- images --------------------------------------------------------------------------------------

    def image_inputs(self, images: list[Any]) -> dict[str, Any]:
        """``pixel_values`` and ``image_grid_thw`` for ``images`` (any source :func:`load_image` takes)."""
        pictures = load_images(images, **self.image_limits)
        try:
            return dict(self.image_processor(images=pictures, return_tensors="pt"))
        except ValueError as exc:  # e.g. an aspect ratio beyond 200:1, which Qwen's resize refuses
            raise BackendError(f"{self.model_id}: the image processor refused an image: {exc}") from exc

    def image_token_counts(self, image_grid_thw: Any) -> list[int]:
        """How many ``<|image_pad|>`` tokens each image takes: ``t * h * w // merge_size**2``."""
        return [int(n) for n in (image_grid_thw.prod(-1) // (self.merge_size**2)).tolist()]

    def _prepare(self, request: GenerationRequest) -> _Prepared:
        images = images_in(request.messages)
        if images and not get_family(request.family or self.family).supports_images:
            # A prompt in a text-only format has no image placeholders: render it in ours instead.
            request = request.model_copy(update={"family": self.family, "prompt": None})
        prepared = super()._prepare(request)
        slots = [i for i, token in enumerate(prepared.ids) if token == self.image_token_id]
        if len(slots) != len(images):
            raise BackendError(
                f"the prompt has {len(slots)} image placeholder(s) ({IMAGE_PAD}) but the messages carry "
                f"{len(images)} image(s): render the prompt with family {self.family!r}, whose template puts "
                "one <|vision_start|><|image_pad|><|vision_end|> per image part"
            )
        if not images:
            return prepared
        inputs = self.image_inputs(images)
        counts = self.image_token_counts(inputs["image_grid_thw"])
        ids: list[int] = []
        start = 0
        for slot, count in zip(slots, counts):
            ids.extend(prepared.ids[start:slot])
            ids.extend([self.image_token_id] * count)
            start = slot + 1
        ids.extend(prepared.ids[start:])
        prepared.ids = ids
        prepared.extra.update(inputs)
        prepared.extra["image_tokens"] = counts
        return prepared

    def _generation_kwargs(self, batch: list[_Prepared], *, prompt_length: int) -> dict[str, Any]:
        """The text backend's kwargs plus the pixels of every image in the batch, in row order."""
        import torch

        kwargs = super()._generation_kwargs(batch, prompt_length=prompt_length)
        rows = [p.extra for p in batch if "pixel_values" in p.extra]
        if rows:
            dtype = next(self.model.parameters()).dtype
            pixels = torch.cat([torch.as_tensor(r["pixel_values"]) for r in rows])
            kwargs["pixel_values"] = pixels.to(self.device, dtype=dtype if dtype.is_floating_point else None)
            kwargs["image_grid_thw"] = torch.cat([torch.as_tensor(r["image_grid_thw"]) for r in rows]).to(self.device)
        return kwargs

    def __repr__(self) -> str:
        return f"VisionBackend({self.model_id!r}, family={self.family!r}, device={self.device!r})"


def _load_vision_model(
    model: str | os.PathLike[str] | None,
    *,
    device: str | None,
    dtype: Any,
    quantization: Any,
    trust_remote_code: bool,
    min_pixels: int | None,
    max_pixels: int | None,
) -> tuple[Any, Any]:
    """Load a Qwen2.5-VL / Qwen2-VL model, tokenizer and image processor; a clear error when impossible."""
    import transformers
    from transformers import AutoConfig, AutoTokenizer

    from agentcore.backends.loading import (
        LoadedModel,
        local_files_only,
        quantization_kwargs,
        ready_for_inference,
        resolve_device,
        resolve_dtype,
        resolve_source,
    )

    spec = os.fspath(model) if model is not None else default_vl_model()
    try:
        source = resolve_source(spec)
    except ModelUnavailableError as exc:
        raise vision_unavailable_error(spec, str(exc)) from None
    if source.kind == "gguf":
        raise vision_unavailable_error(
            spec, "a GGUF file is text-only here; vision needs a Hugging Face folder with the vision tower"
        )
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    qkwargs, dynamic_int8 = quantization_kwargs(quantization, dev)
    local_only = local_files_only(source)
    folder = source.location
    started = time.perf_counter()
    try:
        config = AutoConfig.from_pretrained(folder, local_files_only=local_only, trust_remote_code=trust_remote_code)
    except Exception as exc:  # hub client errors (not in the cache, unreachable) are not all OSErrors
        if source.kind == "hub":
            where = ("HF_HUB_OFFLINE is set and it is not in the local Hugging Face cache" if _offline()
                     else "it is not in the local Hugging Face cache and the hub could not be reached")
            raise vision_unavailable_error(spec, where) from None
        raise vision_unavailable_error(spec, f"{type(exc).__name__}: {exc}") from None
    model_type = getattr(config, "model_type", None)
    if model_type not in VL_MODEL_CLASSES:
        raise vision_unavailable_error(
            spec, f"it is a {model_type!r} model; VisionBackend runs Qwen2.5-VL and Qwen2-VL (qwen2_5_vl, qwen2_vl)"
        )
    model_class = getattr(transformers, VL_MODEL_CLASSES[model_type])
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=local_only,
                                                  trust_remote_code=trust_remote_code)
        processor = load_image_processor(folder, min_pixels=min_pixels, max_pixels=max_pixels,
                                         local_files_only=local_only)
        loaded = model_class.from_pretrained(folder, dtype=torch_dtype, local_files_only=local_only,
                                             trust_remote_code=trust_remote_code, **qkwargs)
    except (OSError, ValueError) as exc:
        raise vision_unavailable_error(spec, f"{type(exc).__name__}: {exc}") from None
    loaded = ready_for_inference(loaded, tokenizer, dev, placed="device_map" in qkwargs, dynamic_int8=dynamic_int8)
    resolved = LoadedModel(
        model=loaded, tokenizer=tokenizer, source=source, folder=folder if Path(folder).is_dir() else None,
        device=dev, dtype=torch_dtype, load_s=time.perf_counter() - started, cold=False,
        info={"model_type": model_type},
    )
    return resolved, processor
