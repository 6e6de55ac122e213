"""``agentcore doctor``: load the configured model, run a short health check, print what to fix."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check the environment and the configured model (load time, speed, memory)",
        description="Load the configured model (or --model), generate a short answer, and print a table of "
        "load time, time to first token, tokens per second and memory, each with a status and advice.",
    )
    p.add_argument("--model", help="Hugging Face id, local folder or GGUF file (default: the configured one)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: CUDA when available)")
    p.add_argument("--dtype", help="float32 (CPU default), bfloat16, float16")
    p.add_argument("--quantization", help="int8 (CPU), bnb-4bit, bnb-8bit (CUDA)")
    p.add_argument("--max-new-tokens", type=int, default=32, help="tokens the health check generates (default: 32)")
    p.add_argument("--skip-model", action="store_true", help="check only the environment")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agentcore.cli._output import styled, table
    from agentcore.doctor import environment_checks, model_checks, overall

    checks = environment_checks()
    if not args.skip_model:
        if not args.json:
            print(styled("loading the model and generating a short answer…", "dim", sys.stderr), file=sys.stderr)
        checks += model_checks(args.model, device=args.device, dtype=args.dtype, quantization=args.quantization,
                               max_new_tokens=args.max_new_tokens)
    status = overall(checks)
    if args.json:
        print(json.dumps({"status": status, "checks": [c.model_dump() for c in checks]}, indent=2))
        return 1 if status == "fail" else 0
    colour = {"ok": "green", "slow": "yellow", "fail": "red"}
    rows = [[c.name, c.value, c.status, c.advice] for c in checks]  # plain: ANSI codes would break alignment
    print(table(rows, ["check", "value", "status", "what to do"]))
    print(f"\noverall: {styled(status, colour[status])}")
    return 1 if status == "fail" else 0
