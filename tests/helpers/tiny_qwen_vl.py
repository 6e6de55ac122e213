"""Tiny random-weight Qwen2.5-VL / Qwen2-VL models with the REAL Qwen vocabulary, built offline.

Built like :mod:`tests.helpers.tiny_qwen` (whose Qwen tokenizer it reuses): a config with a one-block
vision tower and a two-layer language model, random weights, saved with the tokenizer and the default
Qwen2-VL image processor config (``preprocessor_config.json``, the same values as Qwen2.5-VL-3B-Instruct's)
so that ``VisionBackend(folder)`` loads it exactly as it loads the real model. Cached under
``$AGENTCORE_TEST_CACHE``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tests.helpers.tiny_qwen import QWEN_VOCAB_SIZE, cache_root, publish, qwen_tokenizer_dir

#: the special-token ids of Qwen2-VL / Qwen2.5-VL configs
VISION_START_ID = 151652
VISION_END_ID = 151653
IMAGE_PAD_ID = 151655
VIDEO_PAD_ID = 151656

#: preprocessor_config.json of Qwen/Qwen2.5-VL-3B-Instruct (min/max pixels: 4 and 16384 merged 28x28 patches)
PREPROCESSOR_CONFIG: dict[str, Any] = {
    "min_pixels": 3136,
    "max_pixels": 12845056,
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "image_processor_type": "Qwen2VLImageProcessor",
    "processor_class": "Qwen2_5_VLProcessor",
}


def tiny_qwen_vl_model(kind: str = "qwen2.5-vl", *, seed: int = 0, hidden: int = 64, layers: int = 2) -> Path:
    """A folder with a random-weight ``Qwen2_5_VLForConditionalGeneration`` (or Qwen2-VL: ``kind="qwen2-vl"``).

    The folder name starts with ``tiny-qwen2.5-vl`` / ``tiny-qwen2-vl`` so the model id names the family.
    """
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2VLConfig

    if kind not in ("qwen2.5-vl", "qwen2-vl"):
        raise ValueError(f"kind must be 'qwen2.5-vl' or 'qwen2-vl', not {kind!r}")
    folder = cache_root() / f"tiny-{kind}-l{layers}-h{hidden}-s{seed}"
    if (folder / ".complete").is_file():
        return folder
    heads = 4
    head_dim = hidden // heads
    # M-RoPE splits each head's rotary half (head_dim / 2 frequencies) into temporal / height / width parts.
    half = head_dim // 2
    mrope = [half - 2 * (half * 3 // 8), half * 3 // 8, half * 3 // 8]
    text = {
        "vocab_size": QWEN_VOCAB_SIZE,
        "hidden_size": hidden,
        "intermediate_size": hidden * 2,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": mrope},
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "pad_token_id": 151643,
        "tie_word_embeddings": True,
    }
    common = {
        "image_token_id": IMAGE_PAD_ID,
        "video_token_id": VIDEO_PAD_ID,
        "vision_start_token_id": VISION_START_ID,
        "vision_end_token_id": VISION_END_ID,
        "tie_word_embeddings": True,
    }
    if kind == "qwen2.5-vl":
        vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": hidden,
                  "fullatt_block_indexes": [1], "window_size": 112, "patch_size": 14, "spatial_merge_size": 2,
                  "temporal_patch_size": 2}  # fmt: skip
        config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, **common)
        config.architectures = ["Qwen2_5_VLForConditionalGeneration"]
    else:
        vision = {"depth": 2, "embed_dim": 32, "hidden_size": hidden, "num_heads": 2, "mlp_ratio": 2,
                  "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}  # fmt: skip
        config = Qwen2VLConfig(text_config=text, vision_config=vision, **common)
        config.architectures = ["Qwen2VLForConditionalGeneration"]
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2VLForConditionalGeneration

    model_class = Qwen2_5_VLForConditionalGeneration if kind == "qwen2.5-vl" else Qwen2VLForConditionalGeneration
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=cache_root()))
    try:
        torch.manual_seed(seed)
        model = model_class._from_config(config, dtype=torch.float32)
        model.generation_config.eos_token_id = [151645, 151643]
        model.generation_config.pad_token_id = 151643
        model.save_pretrained(tmp, safe_serialization=True)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(qwen_tokenizer_dir() / name, tmp / name)
        (tmp / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR_CONFIG, indent=2))
        publish(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
