"""``agentcore models``: the Qwen model catalogue, and the model each specialist would get on this machine."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "models",
        help="show the Qwen model catalogue and the pick for this machine",
        description="List the Qwen models agentcore knows (parameters, context, memory at bf16/int8/int4) and, "
        "for each specialist, the largest model that fits this machine's memory (or --memory-gb).",
    )
    p.add_argument("--memory-gb", type=float, help="choose for this much memory instead of measuring it")
    p.add_argument("--device", help="cpu, cuda, cuda:N (default: the configured device, else cpu)")
    p.add_argument("--kind", help="list only models for this specialist kind (general, coder, math, vl)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agentcore.catalogue import CATALOGUE, default_device, machine_memory_gb, select_model
    from agentcore.cli._output import styled, table
    from agentcore.config import load_config
    from agentcore.specialists import all_specialists

    config = load_config()
    device = args.device or config.device or default_device()
    given = args.memory_gb if args.memory_gb is not None else config.settings.memory_gb
    if given is None:
        memory_gb, how = machine_memory_gb(device)
    else:
        memory_gb, how = given, ("--memory-gb" if args.memory_gb is not None else f"memory_gb, {config.source('memory_gb')}")
    variants = [v for v in CATALOGUE if args.kind is None or args.kind in v.kinds]
    picks = {}
    for name, spec in all_specialists().items():
        configured = config.specialist(name).model
        if configured:
            picks[name] = {"model_id": configured, "reason": f"configured ({config.source(f'specialists.{name}.model')})"}
        elif spec.models:
            picks[name] = select_model(spec, memory_gb=given, device=device).model_dump()
    if args.json:
        print(json.dumps({"device": device, "memory_gb": memory_gb, "models": [v.model_dump() for v in variants],
                          "picks": picks}, indent=2))
        return 0
    rows = [
        [v.id, v.family, ",".join(v.kinds), v.size_label, f"{v.context_length // 1024}K",
         *(f"{v.memory_gb[d]:g}" for d in ("bf16", "int8", "int4"))]
        for v in variants
    ]
    print(table(rows, ["model", "family", "kinds", "params", "context", "bf16 GB", "int8 GB", "int4 GB"]))
    print(styled("memory rule: params x bytes (bf16 2, int8 1, int4 0.5) x 1.2 + 0.5 GB", "dim"))
    mem = f"{memory_gb:.1f} GB ({how})" if memory_gb is not None else f"unknown ({how})"
    print(f"\nthis machine: {device}, {mem}")
    for name, pick in picks.items():
        dtype = f" at {pick['dtype']}" if pick.get("dtype") else ""
        fits = "" if pick.get("fits", True) else styled(" (does not fit)", "yellow")
        print(f"  {name:<8} {pick['model_id']}{dtype}{fits}")
        print(styled(f"           {pick['reason']}", "dim"))
    return 0
