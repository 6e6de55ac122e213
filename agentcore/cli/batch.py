"""``agentcore batch``: run many tasks concurrently, resumably, optionally spread over several servers.

    agentcore batch tasks.jsonl --out results.jsonl --concurrency 16 \\
        --base-url http://gpu1:8000 --base-url http://gpu2:8000 --model Qwen/Qwen3-8B

Rerun the same command after a crash or Ctrl-C: finished tasks are skipped.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="run the tasks of a JSONL file concurrently (resumable)",
        description='Run every task of TASKS (JSONL lines like {"id": "1", "task": "..."}) and append one result '
                    "line per task to --out. Tasks already in --out are skipped, so rerunning resumes.",
    )
    p.add_argument("tasks", help="JSONL file of tasks")
    p.add_argument("--out", required=True, help="JSONL file the results are appended to")
    p.add_argument("--concurrency", type=int, default=4, help="tasks running at once (default: 4)")
    p.add_argument("--base-url", action="append", default=[],
                   help="OpenAI-compatible server (vLLM, SGLang, agentcore serve); repeat to spread the load")
    p.add_argument("--model", help="model id on the --base-url servers, or a local model (default: the configured one)")
    p.add_argument("--api-key", help="API key for --base-url servers")
    p.add_argument("--mode", choices=["chat", "raw"], default="chat", help="OpenAI backend mode (default: chat)")
    p.add_argument("--family", help="chat family of the model (default: guessed from its id)")
    p.add_argument("--specialist", default="auto",
                   help="specialist for tasks that name none (general, coder, math, ...; default: auto, "
                        "route each task)")
    p.add_argument("--max-steps", type=int, default=8, help="most model calls per task (default: 8)")
    p.add_argument("--tool", action="append", dest="tools", help="offer only this tool (repeatable)")
    p.add_argument("--max-new-tokens", type=int, help="most new tokens per model call")
    p.add_argument("--temperature", type=float)
    p.add_argument("--greedy", action="store_true", help="greedy decoding")
    p.add_argument("--trace-dir", help="where the per-task traces go (default: <out>.traces/)")
    p.add_argument("--no-trace", action="store_true", help="write no traces")
    p.add_argument("--retry-errors", action="store_true", help="run tasks whose result was an error again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agentcore.backends.base import SamplingParams
    from agentcore.batch import run_batch
    from agentcore.cli._backends import backend_from_args

    sampling: dict[str, Any] = {k: v for k, v in {
        "max_new_tokens": args.max_new_tokens, "temperature": args.temperature}.items() if v is not None}
    if args.greedy:
        sampling["greedy"] = True
    options: dict[str, Any] = {"max_steps": args.max_steps}
    if args.tools:
        options["tools"] = args.tools
    if args.family:
        options["family"] = args.family
    if args.specialist:
        options["specialist"] = args.specialist
    if sampling:
        options["sampling"] = SamplingParams(**sampling)
    trace_dir: Any = False if args.no_trace else (args.trace_dir or True)
    try:
        summary = run_batch(args.tasks, args.out, concurrency=args.concurrency, backend=backend_from_args(args, max_concurrency=args.concurrency),
                            agent_options=options, trace_dir=trace_dir, retry_errors=args.retry_errors,
                            progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"interrupted: finished tasks are in {args.out}; run the same command again to resume", file=sys.stderr)
        return 130
    print(f"{summary.done} tasks run ({summary.errors} errors), {summary.skipped} already done, "
          f"{summary.elapsed_s:.1f}s, {summary.tasks_per_s:.2f} tasks/s -> {args.out}", file=sys.stderr)
    return 1 if summary.errors else 0
