"""Shared by the example scripts: choosing the backend from the command line, and printing a run.

Not an example itself. Every example runs offline by default on a :class:`~agentcore.testing.ScriptedBackend`
that replays realistic raw Qwen output (``<think>`` blocks, ``<tool_call>`` markup), so what you see is the
real parser, tool dispatch, sandbox and verifiers at work; only the model's text is canned. The flags swap
in a real model:

``--embedded``                      the embedded default model (SmolLM2-135M-Instruct, offline, CPU)
``--model Qwen/Qwen3-8B``           a Hugging Face model in-process (needs the network once, or a local copy)
``--base-url URL --model NAME``     a model behind an OpenAI-compatible server (vLLM, SGLang, llama.cpp)

A real model writes its own text, so the run takes its own path: the script prints what happens rather
than expecting the scripted path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from agentcore import events as ev


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--embedded", action="store_true", help="run on the embedded SmolLM2-135M model (offline)")
    where.add_argument("--base-url", help="an OpenAI-compatible server, e.g. http://localhost:8000/v1 (vLLM)")
    parser.add_argument("--model", help="a Hugging Face id (in-process), or the served model's name with --base-url")
    parser.add_argument("--api-key", help="API key for --base-url")
    parser.add_argument("--max-new-tokens", type=int,
                        help="most tokens per model call (default: the model's; 256 with --embedded, greedy)")
    args = parser.parse_args(argv)
    if args.base_url and not args.model:
        parser.error("--base-url needs --model: the name the server knows the model by (e.g. Qwen/Qwen3-8B)")
    if args.embedded and args.model:
        parser.error("--embedded and --model exclude each other: --embedded is the built-in small model")
    return args


def make_backend(args: argparse.Namespace, script: Sequence[str], *, family: str) -> Any:
    """The backend the flags ask for; by default a ScriptedBackend replaying ``script`` in ``family``'s format."""
    if args.base_url:
        from agentcore.backends.openai import OpenAIBackend

        return OpenAIBackend(args.base_url, args.model, api_key=args.api_key)
    if args.embedded or args.model:
        # The embedded model is on disk; a hub model needs the network once. Never block on a hub lookup
        # for the embedded one.
        if args.embedded:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from agentcore.backends.transformers import TransformersBackend

        return TransformersBackend(args.model)  # None: the embedded default model
    from agentcore.testing import ScriptedBackend

    return ScriptedBackend(script, family=family)


def sampling(args: argparse.Namespace) -> Any:
    """Sampling overrides from the flags: the embedded model on a CPU is kept short and greedy."""
    from agentcore.backends.base import SamplingParams

    if args.embedded:
        return SamplingParams(max_new_tokens=args.max_new_tokens or 256, greedy=True)
    if args.max_new_tokens:
        return SamplingParams(max_new_tokens=args.max_new_tokens)
    return None


def backend_factory(args: argparse.Namespace, *, family: str) -> Any:
    """A function ``script -> backend`` for examples that run several tasks: a fresh ScriptedBackend per
    script by default, or the one real model the flags ask for (loaded once, scripts ignored)."""
    real: list[Any] = []

    def backend_for(script: Sequence[str]) -> Any:
        if not (args.embedded or args.model or args.base_url):
            return make_backend(args, script, family=family)
        if not real:
            real.append(make_backend(args, script, family=family))
        return real[0]

    return backend_for


def show(events: Iterable[Any], *, out: Any = None) -> ev.FinalAnswer | None:
    """Print a run's events as they arrive; return the final one.

    Reasoning and content stream as they are generated; tool calls, tool results and verifier
    rejections get a line each.
    """
    out = out or sys.stdout
    final: ev.FinalAnswer | None = None
    mode = ""  # what the current line holds: "", "reasoning", "content"
    streamed = ""  # the content streamed in the current step

    def start(kind: str, prefix: str, text: str) -> str:
        """Open a line of ``kind`` if it is not open yet; the text to write (leading blanks dropped on a new line)."""
        nonlocal mode
        if mode != kind:
            if mode:
                out.write("\n")
            out.write(prefix)
            mode = kind
            return text.lstrip()
        return text

    def line(text: str) -> None:
        nonlocal mode
        if mode:
            out.write("\n")
            mode = ""
        out.write(text + "\n")

    for event in events:
        if isinstance(event, ev.StepStarted):
            streamed = ""
            line(f"--- step {event.step}")
        elif isinstance(event, ev.ReasoningDelta):
            out.write(start("reasoning", "  [thinking] ", event.text).replace("\n", " "))
        elif isinstance(event, ev.ContentDelta):
            streamed += event.text
            if mode != "content" and not event.text.strip():
                continue  # the blank lines between </think> and the answer
            out.write(start("content", "  [content] ", event.text).replace("\n", "\n            "))
        elif isinstance(event, ev.ToolCallParsed):
            # Multi-line arguments (code) are shown as indented blocks, the rest as JSON.
            blocks = {k: v for k, v in event.call.arguments.items() if isinstance(v, str) and "\n" in v}
            inline = {k: v for k, v in event.call.arguments.items() if k not in blocks}
            shown = ", ".join(([json.dumps(inline, ensure_ascii=False)] if inline else []) + [f"{k}=<below>" for k in blocks])
            line(f"  [tool call] {event.call.name}({shown})")
            for key, text in blocks.items():
                line(f"      {key}:\n" + "\n".join("        " + row for row in text.rstrip().splitlines()))
        elif isinstance(event, ev.ToolResult):
            mark = "ok" if event.ok else f"failed: {event.error_kind}"
            body = event.content.replace("\n", "\n      ")
            line(f"  [tool result, {mark}] {event.name}:\n      {body}")
        elif isinstance(event, ev.ParseProblemEvent):
            line(f"  [unparseable tool call] {event.message}")
        elif isinstance(event, ev.VerificationFailed):
            body = event.feedback.replace("\n", "\n      ")
            line(f"  [verifier rejected the answer]\n      {body}")
        elif isinstance(event, ev.FinalAnswer):
            final = event
            line(f"--- final answer ({event.status}){': ' + event.error if event.error else ''}")
            if event.answer and event.answer.strip() != streamed.strip():  # not shown yet
                out.write(event.answer + "\n")
        out.flush()
    return final
