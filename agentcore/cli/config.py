"""``agentcore config``: the effective configuration and where each value came from."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "config",
        help="show the effective configuration and the source of each value",
        description="Show the settings in force: defaults, then agentcore.toml (or [tool.agentcore] in "
        "pyproject.toml, or $AGENTCORE_CONFIG), then AGENTCORE_* environment variables.",
    )
    p.add_argument("--file", help="read this config file instead of looking for one")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agentcore.cli._output import styled, table
    from agentcore.config import load_config

    config = load_config(args.file)
    values = config.values()
    if args.json:
        print(json.dumps({"file": config.file, "values": [v.model_dump() for v in values]}, indent=2))
        return 0
    print(f"config file: {config.file or 'none (defaults and environment only)'}")
    rows = [[v.key, "-" if v.value is None else str(v.value), v.source] for v in values]
    print(table(rows, ["setting", "value", "source"]))
    print(styled("set per specialist with [specialists.<name>] model/backend/base_url/thinking/thinking_budget, "
                 "or AGENTCORE_<NAME>_MODEL etc.", "dim"))
    return 0
