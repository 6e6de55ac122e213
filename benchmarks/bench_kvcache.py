"""KV-cache reuse across the steps of one run: prefill tokens and time per step, with and without reuse.

Run: ``HF_HUB_OFFLINE=1 python benchmarks/bench_kvcache.py [--model embedded] [--steps 4]``.
A tool-using conversation grows step by step (assistant call → tool result → next call); each step is
generated twice on the same loaded model, once by a backend that keeps the conversation's KV cache and
once by one that does not, and the table shows how many prompt tokens each had to prefill and how long
the step took (prefill + a short greedy answer).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=8, help="new tokens per step")
    args = ap.parse_args()

    from agentcore.backends.base import GenerationRequest, SamplingParams
    from agentcore.backends.kvcache import PrefixCache
    from agentcore.backends.transformers import TransformersBackend
    from agentcore.messages import Message, ToolCall

    backend = TransformersBackend(args.model)
    family = backend.family or "chatml"
    tools = [{"type": "function", "function": {"name": "search", "description": "Search the documentation.",
                                               "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
                                                              "required": ["query"]}}}]
    messages = [Message(role="system", content="You are a careful assistant. Use tools when useful. " * 8),
                Message(role="user", content="Find out how the lighthouse lamp is maintained, step by step.")]
    sampling = SamplingParams(greedy=True, max_new_tokens=args.tokens)
    reuse_cache, no_cache = PrefixCache(4), PrefixCache(0)
    print(f"model: {backend.model_id} ({family})")
    print(f"{'step':>4}  {'prompt':>6}  {'prefill (reuse)':>15}  {'time (reuse)':>12}  {'prefill (none)':>14}  {'time (none)':>11}  speed-up")
    for step in range(1, args.steps + 1):
        request = GenerationRequest(messages=list(messages), family=family, tools=tools, sampling=sampling)
        results = {}
        for name, cache in (("reuse", reuse_cache), ("none", no_cache)):
            backend.kv_cache = cache
            c = backend.generate(request)
            results[name] = (c.usage.prompt_tokens - c.usage.cached_prompt_tokens, c.usage.total_s, c)
        (pr, tr, c), (pn, tn, _) = results["reuse"], results["none"]
        print(f"{step:>4}  {c.usage.prompt_tokens:>6}  {pr:>15}  {tr:>11.2f}s  {pn:>14}  {tn:>10.2f}s  {tn / tr:.2f}x")
        call = ToolCall(name="search", arguments={"query": f"lamp maintenance part {step}"})
        messages += [
            Message(role="assistant", content=c.text if "<tool_call>" not in c.text else None, tool_calls=[call]),
            Message(role="tool", tool_call_id=call.id, content=f"Part {step}: clean the lens, check the wick, "
                    "trim it, refill the oil, wind the clockwork, log the hours. " * 3),
        ]


if __name__ == "__main__":
    main()
