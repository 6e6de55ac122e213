"""Math with verification: the Math specialist solves problems with the sympy tools, and every final
answer is checked before the run ends; a wrong answer is caught, sent back, and corrected.

What it shows
- The ``sympy`` plugin (``AGENTCORE_PLUGINS=sympy``, or all installed plugins when the variable is unset)
  gives the model math tools (``math_differentiate``, ``math_solve``, ``math_evaluate``, ...) and an
  ``agentcore_verify_answer`` hook.
- Problem 1: the model differentiates with a tool; the verifier recomputes the derivative the answer
  claims, finds it right and raises no objection (it would reject a wrong one).
- Problem 2: the model solves an equation in its head and gets a root wrong. The verifier substitutes each
  value, proves x = 4 is not a solution, and the feedback goes back to the model, which then uses
  ``math_solve`` and answers correctly.
- Problem 3 (evaluation mode): a reference answer is given with ``reference=``; the verifier grades the
  boxed answer against it (never revealing it), rejects the wrong sum, and accepts the corrected one.
- ``Agent.run`` returns a ``RunResult``: the script prints each step's tool calls, results and verdicts,
  and ``result.verified``.

Run it (offline, a few seconds; the model's text is scripted, the tools and the verifier are real):

    AGENTCORE_PLUGINS=sympy .venv/bin/python examples/math_verified.py

Against a real Qwen model:

    AGENTCORE_PLUGINS=sympy .venv/bin/python examples/math_verified.py --model Qwen/Qwen3-8B
    AGENTCORE_PLUGINS=sympy .venv/bin/python examples/math_verified.py --base-url http://localhost:8000/v1 --model Qwen/Qwen3-8B
    AGENTCORE_PLUGINS=sympy .venv/bin/python examples/math_verified.py --embedded    # SmolLM2-135M: expect wrong answers
"""

from __future__ import annotations

import json
import sys

from _common import backend_factory, parse_args, sampling

from agentcore import Agent
from agentcore.plugins import registered_tools


def _call(name: str, **arguments: object) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


# (task, reference answer or None, what the scripted Qwen3 model says at each step)
PROBLEMS: list[tuple[str, str | None, list[str]]] = [
    (
        "Find the derivative of x^3 sin(x).",
        None,
        [
            "<think>\nProduct rule. Let me have the tool do it.\n</think>\n\n"
            + _call("math_differentiate", expression="x**3*sin(x)", variable="x"),
            "<think>\nThe tool says x^3 cos(x) + 3x^2 sin(x).\n</think>\n\n"
            "By the product rule, the derivative of $x^3\\sin(x)$ is "
            "$$\\frac{d}{dx}\\left(x^3\\sin x\\right) = 3x^2\\sin(x) + x^3\\cos(x)$$\n\n"
            "\\boxed{3x^2\\sin(x) + x^3\\cos(x)}",
        ],
    ),
    (
        "Solve x^2 - 5x + 6 = 0 for x.",
        None,
        [
            # Wrong: 4 is not a root. The verifier proves it by substitution.
            "<think>\nx^2 - 5x + 6 factors as (x - 2)(x - 4)... so x = 2 or x = 4.\n</think>\n\n"
            "Factoring, $(x-2)(x-4) = 0$, so the solutions are $x = 2$ and $x = 4$.\n\n\\boxed{2, 4}",
            "<think>\nThe checker says x = 4 fails. Let me solve it properly with the tool.\n</think>\n\n"
            + _call("math_solve", equations=["x**2 - 5*x + 6 = 0"], variables=["x"]),
            "<think>\nx = 2 and x = 3: (x - 2)(x - 3) = x^2 - 5x + 6. Correct.\n</think>\n\n"
            "Factoring, $(x-2)(x-3) = 0$, so the solutions are $x = 2$ and $x = 3$.\n\n\\boxed{2, 3}",
        ],
    ),
    (
        "What is the sum of the squares of the integers from 1 to 20?",
        "2870",
        [
            "<think>\nn(n+1)(2n+1)/6 with n = 20: 20*21*41/6 = 2780.\n</think>\n\n"
            "Using $\\sum k^2 = \\frac{n(n+1)(2n+1)}{6}$ with $n = 20$: \\boxed{2780}",
            "<think>\nRejected. Let me compute it exactly.\n</think>\n\n"
            + _call("math_evaluate", expression="20*21*41/6"),
            "<think>\n20*21*41/6 = 2870; I transposed digits before.\n</think>\n\n"
            "$\\frac{20 \\cdot 21 \\cdot 41}{6} = 2870$, so the sum is \\boxed{2870}",
        ],
    ),
]


def main() -> int:
    args = parse_args(__doc__)
    math_tools = sorted(n for n in registered_tools() if n.startswith("math_"))
    if not math_tools:
        print("the sympy plugin is not loaded: run with AGENTCORE_PLUGINS=sympy (or leave the variable unset)")
        return 2
    print(f"math tools: {', '.join(math_tools)}\n")
    backend_for = backend_factory(args, family="qwen3")
    all_ok = True
    for number, (task, reference, script) in enumerate(PROBLEMS, 1):
        # specialist="math": the Math system prompt, the sympy tools, and answer verification.
        agent = Agent(backend=backend_for(script), specialist="math", enable_thinking=True, max_steps=6,
                      sampling=sampling(args))
        print(f"=== problem {number}: {task}" + (f"   (reference: {reference})" if reference else ""))
        result = agent.run(task, reference=reference)
        for step in result.steps:
            print(f"--- step {step.index}")
            if step.reasoning:
                print(f"  [thinking] {step.reasoning.strip()}")
            for call, res in zip(step.tool_calls, step.tool_results):
                print(f"  [tool] {call.name}({json.dumps(call.arguments)}) -> {res.content}")
            if not step.tool_calls and step.content:
                print(f"  [answer] {step.content.strip().splitlines()[-1]}")
            if not step.tool_calls and not step.verdicts:
                print("  [verifiers] no objection: every claim they could check holds")
            for verdict in step.verdicts:
                if verdict.ok:
                    print(f"  [{verdict.verifier} verifier] accepted")
                else:
                    print(f"  [{verdict.verifier} verifier] REJECTED: {verdict.feedback}")
        # verified: True (a verifier accepted), False (still rejected at the end), None (no verdict given)
        print(f"result: status={result.status} verified={result.verified} steps={len(result.steps)}\n")
        all_ok = all_ok and result.status == "final"
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
