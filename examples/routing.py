"""Routing: several tasks, each sent to the specialist that suits it, with the decision and the reason.

What it shows
- ``route(task, images=n)`` returns a ``RouteDecision``: the specialist, thinking on or off, the scores and a
  one-line reason naming the cues that fired (English, Chinese and Spanish cues; code syntax; math
  notation; attached images). No model is called to route.
- A plugin adds a specialist: an in-process plugin registers a ``translator`` specialist with its own
  ``route_cues``, and translation requests go to it. (A plugin can also decide outright with the
  ``agentcore_route`` hook; see docs/plugins.md.)
- Each routed task then runs on an ``Agent`` built for its specialist, and the script prints what the
  specialist changed in the request the model received: the chat family, thinking, the tools on offer and
  the sampling temperature.

Run it (offline, about a second; a FunctionBackend stands in for the model and reports each request):

    AGENTCORE_PLUGINS=sympy,code,sandbox .venv/bin/python examples/routing.py

Against a real Qwen model (one model serves every specialist here; ``agentcore.toml`` or
``AGENTCORE_<SPECIALIST>_MODEL`` give each specialist its own, see docs/configuration.md):

    AGENTCORE_PLUGINS=sympy,code,sandbox .venv/bin/python examples/routing.py --model Qwen/Qwen3-8B
    AGENTCORE_PLUGINS=sympy,code,sandbox .venv/bin/python examples/routing.py --base-url http://localhost:8000/v1 --model Qwen/Qwen3-8B
    AGENTCORE_PLUGINS=sympy,code,sandbox .venv/bin/python examples/routing.py --embedded
"""

from __future__ import annotations

import sys
from typing import Any

from _common import make_backend, parse_args, sampling

from agentcore import Agent, GenerationRequest, Specialist, hookimpl, route
from agentcore.plugins import register_plugin
from agentcore.specialists import ThinkingPolicy
from agentcore.testing import FunctionBackend

TASKS: list[tuple[str, int]] = [  # (task, images attached)
    ("Write a Python function that merges two sorted lists, with unit tests.", 0),
    ("Solve 3x + 7 = 22 and explain each step.", 0),
    ("写一个Python函数，计算斐波那契数列", 0),
    ("¿Cuál es la derivada de x^2 sin(x)?", 0),
    ("Compare the pros and cons of remote work for a small team and recommend a policy.", 0),
    ("Suggest a name for a bakery.", 0),
    ("Translate into French: the meeting is moved to Thursday.", 0),
    ("What is written on this receipt?", 1),
]


class TranslationPlugin:
    """An in-process plugin (a package would register the same class through an entry point)."""

    @hookimpl
    def agentcore_register_specialists(self, register: Any) -> None:
        register(Specialist(
            name="translator",
            description="Translation between languages.",
            models={"8b": "Qwen/Qwen3-8B"},
            thinking=ThinkingPolicy(mode="off"),
            tools=[],
            # Regular expressions over the lower-cased task; each one that matches adds to the score.
            route_cues=[r"\btranslat\w*", r"\btraduc\w*", "翻译",
                        r"\b(in|into|to|al|en) (english|french|german|spanish|chinese|japanese|frances|ingles)\b"],
        ))


def _report(request: GenerationRequest) -> str:
    """The stand-in model: say what this request looked like (a real model would answer the task)."""
    tools = sorted(t["function"]["name"] for t in request.tools)
    # enable_thinking is None when the family has no thinking switch (Qwen2.5 never thinks).
    thinking = {True: "on", False: "off", None: "n/a"}[request.enable_thinking]
    return (f"(request: family {request.family}, thinking {thinking}, "
            f"temperature {request.sampling.temperature}, tools: {', '.join(tools) or 'none'})")


def main() -> int:
    args = parse_args(__doc__)
    register_plugin(TranslationPlugin(), name="translation-example")
    real = None if not (args.embedded or args.model or args.base_url) else make_backend(args, [], family="qwen3")

    print("=== routing decisions")
    decisions = [(task, images, route(task, images=images)) for task, images in TASKS]
    for task, images, decision in decisions:
        attached = f" [+{images} image]" if images else ""
        print(f"{task}{attached}\n  {decision.describe()}   (source: {decision.source})")

    print("\n=== each task on its specialist")
    for task, images, decision in decisions:
        if images:
            print(f"{task}\n  skipped: the example has no image to attach (agent.run(task, images=[path]))")
            continue
        backend = real or FunctionBackend(_report, family=None)  # family None: the specialist's own
        agent = Agent(backend=backend, specialist=decision.specialist, enable_thinking=decision.thinking, max_steps=4,
                      sampling=sampling(args))
        result = agent.run(task)
        print(f"{task}\n  {decision.specialist}: {(result.answer or result.error or '').strip()[:400]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
