"""The hooks a plugin can implement. Each is documented where it is declared, like pytest's.

A plugin is any module or object with functions marked ``@agentcore.hookimpl`` and named after a hook
below. Plugins are found through the ``agentcore`` entry-point group (see :mod:`agentcore.plugins`).
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("agentcore")
hookimpl = pluggy.HookimplMarker("agentcore")


@hookspec
def agentcore_register_tools(register: Any) -> None:
    """Register tools: call ``register(tool)`` once per :class:`agentcore.Tool` (or ``@tool`` function).

    Two plugins registering the same tool name is an error that names both plugins.
    """


@hookspec
def agentcore_register_specialists(register: Any) -> None:
    """Register specialists: call ``register(specialist)`` with an :class:`agentcore.Specialist`.

    A specialist with the name of a built-in one (``general``, ``coder``, ``math``, ``vl``) replaces it.
    """


@hookspec
def agentcore_register_backends(register: Any) -> None:
    """Register backend factories: call ``register(name, factory)``; ``factory(**options)`` returns a Backend."""


@hookspec(firstresult=True)
def agentcore_route(task: str, images: int) -> Any:
    """Choose a specialist for ``task`` (with ``images`` images attached).

    Return an :class:`agentcore.RouteDecision` to decide, or ``None`` to leave it to the next plugin and
    finally the built-in router. The first non-``None`` result wins.
    """


@hookspec
def agentcore_verify_answer(task: str, answer: str, context: Any) -> Any:
    """Check a run's final ``answer`` to ``task`` before the run ends.

    ``context`` is an :class:`agentcore.VerificationContext` (specialist, messages so far, the reference
    answer in evaluation mode). Return :class:`agentcore.Verdict` ``(ok=False, feedback=...)`` to reject:
    the feedback goes back to the model and the loop goes on, within the agent's bound. Return ``None``
    (or an ``ok=True`` verdict) to accept.
    """


@hookspec
def agentcore_step_finished(step: Any, run: Any) -> None:
    """Observe one finished step (an :class:`agentcore.StepRecord`) of ``run`` (the run's id and task)."""


@hookspec
def agentcore_tool_finished(call: Any, result: Any) -> None:
    """Observe one finished tool call: the :class:`agentcore.ToolCall` and its ``ToolResult`` event."""


@hookspec
def agentcore_run_finished(result: Any) -> None:
    """Observe the end of a run: ``result`` is the :class:`agentcore.RunResult`."""
