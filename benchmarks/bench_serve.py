"""Throughput of ``agentcore batch`` against ``agentcore serve``, and agentcore's added latency per request.

    .venv/bin/python benchmarks/bench_serve.py                 # a fixed-latency fake model (the framework's cost)
    .venv/bin/python benchmarks/bench_serve.py --real          # the embedded SmolLM2 (slow on CPU)

Prints two tables:

1. tasks/s of ``agentcore batch`` at concurrency 1, 4 and 16 against ``agentcore serve`` on this machine;
2. per-request latency of a direct ``openai`` client call to the server vs. the same call through
   ``OpenAIBackend`` (and through a whole ``Agent`` run): the difference is what agentcore adds.

The fake model sleeps ``--model-latency-ms`` per call (default 20 ms) and answers a fixed sentence, so the
numbers measure the HTTP server, the client and the agent loop rather than a model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("AGENTCORE_PLUGINS", "")  # no plugin tools: measure the framework alone
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def fake_backend(latency_s: float) -> Any:
    from agentcore.backends.base import GenerationRequest
    from agentcore.testing import FunctionBackend

    def answer(request: GenerationRequest) -> str:
        time.sleep(latency_s)
        return "The answer is 42."

    return FunctionBackend(answer, family="qwen2.5")


def bench_batch(base_url: str, model: str, tasks: int, concurrencies: list[int], max_tokens: int) -> list[dict[str, Any]]:
    from agentcore.backends.base import SamplingParams
    from agentcore.backends.openai import OpenAIBackend
    from agentcore.batch import run_batch

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tasks_path = Path(tmp) / "tasks.jsonl"
        tasks_path.write_text("".join(json.dumps({"id": str(i), "task": f"What is {i} + {i}?"}) + "\n"
                                      for i in range(tasks)))
        for concurrency in concurrencies:
            out = Path(tmp) / f"out-{concurrency}.jsonl"
            backend = OpenAIBackend(base_url, model, max_concurrency=concurrency, family="qwen2.5")
            summary = run_batch(tasks_path, out, concurrency=concurrency, backend=backend, trace_dir=None,
                                progress=False, agent_options={"max_steps": 2, "tools": [],
                                                               "sampling": SamplingParams(max_new_tokens=max_tokens)})
            rows.append({"concurrency": concurrency, "tasks": summary.done, "errors": summary.errors,
                         "seconds": summary.elapsed_s, "tasks/s": summary.tasks_per_s})
    return rows


def bench_latency(base_url: str, model: str, n: int, max_tokens: int) -> list[dict[str, Any]]:
    import openai

    from agentcore.agent import Agent
    from agentcore.backends.base import GenerationRequest, SamplingParams
    from agentcore.backends.openai import OpenAIBackend
    from agentcore.messages import Message

    client = openai.OpenAI(base_url=base_url + "/v1", api_key="-", max_retries=0)
    backend = OpenAIBackend(base_url, model, family="qwen2.5")
    messages = [{"role": "user", "content": "What is 2 + 2?"}]
    request = GenerationRequest(messages=[Message(role="user", content="What is 2 + 2?")],
                                sampling=SamplingParams(max_new_tokens=max_tokens))
    agent = Agent(backend=backend, tools=[], max_steps=1, sampling=SamplingParams(max_new_tokens=max_tokens))

    def timed(fn: Any) -> list[float]:
        fn()  # warm the connection pool
        out = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
        return out

    direct = timed(lambda: client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens))
    via_backend = timed(lambda: backend.generate(request))
    via_stream = timed(lambda: list(backend.stream(request)))
    via_agent = timed(lambda: agent.run("What is 2 + 2?"))
    base = statistics.median(direct)
    rows = []
    for name, samples in [("openai client (direct)", direct), ("OpenAIBackend.generate", via_backend),
                          ("OpenAIBackend.stream", via_stream), ("Agent.run (1 step)", via_agent)]:
        median = statistics.median(samples)
        rows.append({"path": name, "median ms": median, "p90 ms": sorted(samples)[int(0.9 * (len(samples) - 1))],
                     "added ms": median - base})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    cells = [[f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = [" | ".join(k.ljust(w) for k, w in zip(keys, widths)), "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", action="store_true", help="serve the embedded SmolLM2 instead of the fake model")
    parser.add_argument("--tasks", type=int, default=64, help="tasks per batch run (default: 64)")
    parser.add_argument("--requests", type=int, default=30, help="requests per latency row (default: 30)")
    parser.add_argument("--model-latency-ms", type=float, default=20.0, help="fake model's time per call")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()

    from agentcore.server import ServerSettings, ServerThread

    if args.real:
        from agentcore.backends.transformers import TransformersBackend

        backend = TransformersBackend()
        what = f"embedded {backend.model_id}"
    else:
        backend = fake_backend(args.model_latency_ms / 1000)
        what = f"fake model, {args.model_latency_ms:g} ms per call"
    model = "bench"
    settings = ServerSettings(max_concurrency=max(args.concurrency) * 2)
    print(f"agentcore serve on 127.0.0.1 ({what}), {os.cpu_count()} CPUs", file=sys.stderr)
    with ServerThread({model: backend}, settings=settings) as server:
        print("\nagentcore batch against agentcore serve\n")
        print(table(bench_batch(server.url, model, args.tasks, args.concurrency, args.max_tokens)))
        print("\nper-request latency: direct openai client vs. through agentcore\n")
        print(table(bench_latency(server.url, model, args.requests, args.max_tokens)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
