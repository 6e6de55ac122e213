"""``agentcore run TASK``: route the task, run the agent loop, stream what happens.

Reasoning is shown dimmed, content as it arrives, tool calls and their results as they happen. With
``--json`` only the final :class:`~agentcore.result.RunResult` is printed, as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="run a task through the agent loop",
        description="Route TASK to a specialist, run the agent loop with its tools, and stream the run. "
        "Without --model the specialist's model is used, or the embedded default model when it is not at hand.",
    )
    p.add_argument("task", help="what to do")
    p.add_argument("--model", help="Hugging Face id, local folder or GGUF file (default: the configured one)")
    p.add_argument("--backend", help="a backend registered by a plugin (agentcore_register_backends), by name")
    p.add_argument("--base-url", action="append", default=[],
                   help="an OpenAI-compatible server (vLLM, SGLang, llama.cpp, agentcore serve); repeat to spread load")
    p.add_argument("--api-key", help="API key for --base-url servers")
    p.add_argument("--mode", choices=["chat", "raw"], default="chat", help="OpenAI backend mode (default: chat)")
    p.add_argument("--specialist", help="skip routing and use this specialist (general, coder, math, vl, ...)")
    p.add_argument("--family", help="chat family to render prompts in (default: the model's)")
    p.add_argument("--max-steps", type=int, default=8, help="most model calls (default: 8)")
    p.add_argument("--tool-choice", default="auto", help="auto, none, required, or a tool name (default: auto)")
    p.add_argument("--tool", action="append", dest="tools", help="offer only this tool (repeatable)")
    thinking = p.add_mutually_exclusive_group()
    thinking.add_argument("--thinking", dest="enable_thinking", action="store_true", default=None,
                          help="thinking on")
    thinking.add_argument("--no-thinking", dest="enable_thinking", action="store_false", help="thinking off")
    p.add_argument("--thinking-budget", type=int, help="most reasoning tokens before the answer is forced")
    p.add_argument("--image", action="append", default=[], help="an image file to attach (repeatable)")
    p.add_argument("--temperature", type=float)
    p.add_argument("--max-new-tokens", type=int, help="most new tokens per model call")
    p.add_argument("--greedy", action="store_true", help="greedy decoding (reproducible)")
    p.add_argument("--seed", type=int)
    p.add_argument("--reference", help="expected answer: verifiers compare the final answer with it")
    p.add_argument("--trace", help="append every event to this JSONL file")
    p.add_argument("--resume", help="continue the run recorded in this trace file")
    p.add_argument("--json", action="store_true", help="print only the final result, as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agentcore.agent import Agent
    from agentcore.backends.base import SamplingParams
    from agentcore.cli._backends import backend_from_args
    from agentcore.cli._output import styled
    from agentcore.router import route
    from agentcore.specialists import get_specialist

    err = sys.stderr
    if args.image:
        from agentcore.images import load_images

        load_images(args.image)  # a missing or broken image is reported before any model loads
    if args.specialist:
        specialist = get_specialist(args.specialist)
        thinking = args.enable_thinking
        print(styled(f"specialist: {specialist.name} (chosen with --specialist)", "cyan", err), file=err)
    else:
        decision = route(args.task, images=len(args.image))
        specialist = get_specialist(decision.specialist)
        thinking = args.enable_thinking if args.enable_thinking is not None else decision.thinking
        print(styled(f"specialist: {decision.specialist}, thinking {'on' if decision.thinking else 'off'}"
                     f" ({decision.reason})", "cyan", err), file=err)
    sampling_fields = {k: v for k, v in {
        "temperature": args.temperature, "max_new_tokens": args.max_new_tokens, "seed": args.seed,
    }.items() if v is not None}
    if args.greedy:
        sampling_fields["greedy"] = True
    agent = Agent(
        backend=backend_from_args(args, vision=bool(args.image)), tools=args.tools, family=args.family, specialist=specialist,
        max_steps=args.max_steps, tool_choice=args.tool_choice, enable_thinking=thinking,
        thinking_budget=args.thinking_budget,
        sampling=SamplingParams(**sampling_fields) if sampling_fields else None, trace=args.trace,
    )
    backend = agent.backend  # load now, so a fallback notice comes before the run
    for notice in agent.notices:
        print(styled(f"note: {notice}", "yellow", err), file=err)
    if args.json:
        result = agent.run(args.task, images=args.image or None, reference=args.reference, resume=args.resume)
        print(result.model_dump_json(indent=2))
        return 0 if result.status != "error" else 1
    print(styled(f"model: {getattr(backend, 'model_id', None) or backend.name} ({agent.family})", "cyan", err), file=err)
    return _stream(agent, args)


def _stream(agent: Any, args: argparse.Namespace) -> int:
    from agentcore import events as ev
    from agentcore.cli._output import styled

    out = sys.stdout
    status = "final"
    at_line_start = True

    def write(text: str) -> None:
        nonlocal at_line_start
        out.write(text)
        out.flush()
        at_line_start = text.endswith("\n")

    def newline() -> None:
        if not at_line_start:
            write("\n")

    in_reasoning = False
    for event in agent.stream(args.task, images=args.image or None, reference=args.reference, resume=args.resume):
        if isinstance(event, ev.StepStarted):
            newline()
            write(styled(f"── step {event.step}", "dim", out) + "\n")
        elif isinstance(event, ev.ReasoningDelta):
            in_reasoning = True
            write(styled(event.text, "dim", out))
        elif isinstance(event, ev.ContentDelta):
            if in_reasoning:
                newline()
                in_reasoning = False
            write(event.text)
        elif isinstance(event, ev.ToolCallParsed):
            newline()
            args_text = json.dumps(event.call.arguments, ensure_ascii=False)
            write(styled(f"→ {event.call.name}({args_text})", "cyan", out) + "\n")
        elif isinstance(event, ev.ToolResult):
            newline()
            mark = "←" if event.ok else "✗"
            text = event.content if len(event.content) < 2000 else event.content[:2000] + " …"
            write(styled(f"{mark} {event.name}: {text}", "green" if event.ok else "red", out) + "\n")
        elif isinstance(event, ev.ParseProblemEvent):
            newline()
            write(styled(f"✗ could not parse a tool call: {event.message}", "red", out) + "\n")
        elif isinstance(event, ev.VerificationFailed):
            newline()
            write(styled(f"✗ answer rejected: {event.feedback}", "yellow", out) + "\n")
        elif isinstance(event, ev.FinalAnswer):
            newline()
            status = event.status
            if event.error:
                print(styled(f"run ended: {event.status}: {event.error}", "red", sys.stderr), file=sys.stderr)
            write(styled(f"── answer ({event.status})", "bold", out) + "\n")
            write((event.answer or "") + "\n")
    return 1 if status == "error" else 0
