"""``agentcore tools``: every registered tool with the plugin that gave it and its schema."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tools", help="list registered tools with their schemas")
    p.add_argument("--json", action="store_true", help="print the OpenAI schemas as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agentcore.plugins import registered_tools

    tools = registered_tools()
    if args.json:
        print(json.dumps([dict(t.openai_schema(), source=t.source) for t in tools.values()], indent=2))
        return 0
    if not tools:
        print("no tools registered")
        return 0
    for t in sorted(tools.values(), key=lambda t: t.name):
        print(f"{t.name}  [{t.source}]")
        if t.description:
            print(f"  {t.description.splitlines()[0]}")
        print("  " + json.dumps(t.parameters_schema(), ensure_ascii=False))
    return 0
