"""``agentcore plugins``: the loaded plugins, the hooks each implements and the tools each gives."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("plugins", help="list loaded plugins, their hooks and tools")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agentcore.plugins import PLUGINS_ENV, allowed_plugin_names, plugin_report

    report = plugin_report()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    allowed = allowed_plugin_names()
    if allowed is not None:
        print(f"({PLUGINS_ENV}={','.join(sorted(allowed))!s} restricts which plugins load)")
    if not report:
        print("no plugins loaded")
        return 0
    for entry in report:
        package = f" ({entry['package']})" if entry["package"] else ""
        print(f"{entry['name']}{package}")
        print(f"  hooks: {', '.join(entry['hooks']) or '-'}")
        print(f"  tools: {', '.join(entry['tools']) or '-'}")
    return 0
