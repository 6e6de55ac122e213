"""``agentcore render``: print the exact prompt a model sees for a JSON file of messages (and tools)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "render",
        help="print the prompt for a JSON file of messages",
        description="Render messages (and tools) with agentcore's byte-exact Qwen chat templates. "
        "The file holds a list of messages, or an object with 'messages' and optionally 'tools'.",
    )
    p.add_argument("file", help="JSON file ('-' for standard input)")
    p.add_argument("--family", help="chat family (qwen2.5, qwen3, ...); or give --model")
    p.add_argument("--model", help="a model id to take the family from (e.g. Qwen/Qwen3-8B)")
    p.add_argument("--tools", help="JSON file with a list of tool schemas (overrides the file's 'tools')")
    p.add_argument("--generation-prompt", action="store_true", help="end with the assistant generation prompt")
    thinking = p.add_mutually_exclusive_group()
    thinking.add_argument("--thinking", dest="enable_thinking", action="store_true", default=None)
    thinking.add_argument("--no-thinking", dest="enable_thinking", action="store_false")
    p.set_defaults(func=run)


def _load_json(path: str) -> object:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from agentcore.families import family_for_model
    from agentcore.prompting import render_prompt

    data = _load_json(args.file)
    tools = None
    if isinstance(data, dict):
        messages, tools = data.get("messages"), data.get("tools")
    else:
        messages = data
    if not isinstance(messages, list):
        raise ValueError("the file must hold a list of messages or an object with a 'messages' list")
    if args.tools:
        tools = _load_json(args.tools)
    if not args.family and not args.model:
        raise ValueError("say which template to use: --family FAMILY or --model MODEL_ID")
    family = args.family or family_for_model(args.model)
    kwargs = {} if args.enable_thinking is None else {"enable_thinking": args.enable_thinking}
    sys.stdout.write(
        render_prompt(messages, family=family, tools=tools, add_generation_prompt=args.generation_prompt, **kwargs)
    )
    return 0
