"""Hook implementations of agentcore_sympy: math tools for the model and math answer verification.

Imported at startup: everything heavy (sympy, the LaTeX grammar) is imported inside the hooks' work.
"""

from __future__ import annotations

from typing import Any

from agentcore.hookspecs import hookimpl


@hookimpl
def agentcore_register_tools(register: Any) -> None:
    """The math tools: math_differentiate, math_integrate, math_solve, math_simplify, math_factor,
    math_evaluate, math_check_equal."""
    from agentcore_sympy.tools import ALL_TOOLS

    for t in ALL_TOOLS:
        register(t)


@hookimpl
def agentcore_verify_answer(task: str, answer: str, context: Any) -> Any:
    """Grade against ``context.reference`` when given; else check the Math specialist's claims."""
    from agentcore_sympy.verify import verify_answer

    return verify_answer(task, answer, context)
