"""Backend speed: tokens/s through agentcore against raw ``model.generate``, and cold vs cached load time.

Run: ``HF_HUB_OFFLINE=1 python benchmarks/bench_backend.py [--model embedded] [--tokens 64] [--repeats 3]``.
Both paths run in this one process on the same loaded model and prompt, greedy, alternating, so machine
load affects both alike; the target is agentcore/raw ≥ 0.97. The cold load converts the GGUF into a fresh
temporary cache folder; the cached load then reads that conversion.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model (default: the embedded SmolLM2-135M)")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-cold", action="store_true", help="skip the cold GGUF conversion (~30-45 s)")
    args = ap.parse_args()

    import torch

    from agentcore.backends.base import GenerationRequest, SamplingParams
    from agentcore.backends.loading import cache_dir, resolve_source
    from agentcore.backends.transformers import TransformersBackend
    from agentcore.messages import Message

    rows: list[tuple[str, str]] = []
    source = resolve_source(args.model)
    if source.kind == "gguf" and not args.skip_cold:
        with tempfile.TemporaryDirectory() as tmp:
            old = os.environ.get("AGENTCORE_CACHE_DIR")
            os.environ["AGENTCORE_CACHE_DIR"] = tmp
            t = time.perf_counter()
            TransformersBackend(args.model)
            cold = time.perf_counter() - t
            t = time.perf_counter()
            TransformersBackend(args.model)
            cached = time.perf_counter() - t
            if old is None:
                os.environ.pop("AGENTCORE_CACHE_DIR")
            else:
                os.environ["AGENTCORE_CACHE_DIR"] = old
        rows += [("load, cold (GGUF → safetensors)", f"{cold:.1f} s"), ("load, cached", f"{cached:.1f} s")]
    backend = TransformersBackend(args.model, kv_cache_entries=0)
    rows.append(("model", f"{backend.model_id} ({backend.family}, cache {cache_dir()})"))
    request = GenerationRequest(
        messages=[Message(role="user", content="Write a long story about a lighthouse keeper and the sea.")],
        family=backend.family, sampling=SamplingParams(greedy=True, max_new_tokens=args.tokens),
    )
    ids = torch.tensor([backend._prepare(request).ids])
    eos = backend.end_of_turn_ids(backend._prepare(request).family)

    def ours() -> tuple[int, float]:
        t = time.perf_counter()
        c = backend.generate(request)
        return c.usage.completion_tokens, time.perf_counter() - t

    def raw() -> tuple[int, float]:
        t = time.perf_counter()
        with torch.inference_mode():
            out = backend.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=args.tokens,
                                         do_sample=False, eos_token_id=eos, pad_token_id=backend.tokenizer.pad_token_id)
        return out.shape[1] - ids.shape[1], time.perf_counter() - t

    ours(), raw()  # warm-up
    rates: dict[str, list[float]] = {"agentcore": [], "raw": []}
    for _ in range(args.repeats):
        for name, fn in (("agentcore", ours), ("raw", raw)):
            n, s = fn()
            rates[name].append(n / s)
    a, r = statistics.median(rates["agentcore"]), statistics.median(rates["raw"])
    rows += [
        ("tokens/s, agentcore generate (median)", f"{a:.2f}"),
        ("tokens/s, raw model.generate (median)", f"{r:.2f}"),
        ("ratio agentcore / raw (target ≥ 0.97)", f"{a / r:.3f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")


if __name__ == "__main__":
    main()
