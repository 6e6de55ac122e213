"""The sympy verifier: grading against a reference, the Math specialist's claims, and the agent loop."""

from __future__ import annotations

import pytest

from agentcore.verification import Verdict, VerificationContext
from agentcore_sympy.plugin import agentcore_verify_answer

MATH = VerificationContext(specialist="math")


def verify(task: str, answer: str, context: VerificationContext = MATH):
    return agentcore_verify_answer(task=task, answer=answer, context=context)


# --- evaluation mode: a reference is given ---------------------------------------------------------


def test_reference_right_answer_is_accepted():
    verdict = verify("What is 1/2 + 1/4?", r"So the sum is $\boxed{\dfrac{3}{4}}$.", VerificationContext(reference="0.75"))
    assert isinstance(verdict, Verdict) and verdict.ok


def test_reference_wrong_answer_is_rejected_without_revealing_the_reference():
    verdict = verify("What is 1/2 + 1/4?", r"The answer is $\boxed{\frac{2}{6}}$.", VerificationContext(reference="0.75"))
    assert verdict is not None and not verdict.ok
    assert "wrong" in verdict.feedback and r"\frac{2}{6}" in verdict.feedback
    assert "0.75" not in verdict.feedback and "3/4" not in verdict.feedback


def test_reference_without_a_final_answer_asks_for_one():
    verdict = verify("What is 2+2?", "I am not sure.", VerificationContext(reference="4"))
    assert verdict is not None and not verdict.ok and "boxed" in verdict.feedback


# --- claims of the Math specialist -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "answer"),
    [
        ("Find the derivative of x^3.", "The derivative of $x^3$ is $3x^2$."),
        ("Let $f(x) = x^2 \\sin x$. Find f'(x).", "f'(x) = 2x \\sin x + x^2 \\cos x"),
        ("Solve $x^2 - 5x + 6 = 0$.", r"The solutions are $\boxed{2, 3}$."),
        ("Solve $x^2 - 5x + 6 = 0$.", r"$\boxed{x = 2 \text{ or } x = 3}$"),
        ("Solve $x^2 = 2$.", r"x is about $\boxed{1.4142}$"),
        ("Solve x^2 - 5x + 6 = 0 for x.", r"Answer: $\boxed{2}$"),
        ("Simplify $\\frac{x^2-1}{x-1}$.", r"$\boxed{x+1}$"),
    ],
)
def test_right_claims_are_accepted(task, answer):
    assert verify(task, answer) is None


@pytest.mark.parametrize(
    ("task", "answer", "feedback"),
    [
        ("Find the derivative of x^3.", "The derivative of $x^3$ is $3x$.", "the derivative of x^3 is 3*x**2, not 3x"),
        ("Let $f(x) = x^2 \\sin x$. Find f'(x).", "So f'(x) = 2x \\cos x.", "f'(x) is"),
        ("Solve $x^2 - 5x + 6 = 1$.", r"So $\boxed{3}$", "x = 3 does not satisfy x^2 - 5x + 6 = 1: left side gives 0, right side gives 1"),
        ("Solve x^2 - 5x + 6 = 0 for x.", r"The answer is $\boxed{2, 4}$", "x = 4 does not satisfy x^2 - 5x + 6 = 0"),
        ("Simplify $\\frac{x^2-1}{x-1}$.", r"$\boxed{x-1}$", "is not equal to \\frac{x^2-1}{x-1}: at x = 2"),
    ],
)
def test_wrong_claims_are_rejected_with_what_was_wrong(task, answer, feedback):
    verdict = verify(task, answer)
    assert verdict is not None and verdict.ok is False and verdict.verifier == "sympy"
    assert feedback in verdict.feedback


@pytest.mark.parametrize(
    ("task", "answer", "context"),
    [
        ("Write a poem about calculus.", "the derivative of love is pain", MATH),
        ("Find the derivative of x^3.", "The derivative of $x^3$ is $3x$.", VerificationContext(specialist="general")),
        ("Solve the system $x + y = 3$, $x - y = 1$.", r"$\boxed{(2, 1)}$", MATH),
        ("Solve $x^2 = 4$.", "The roots are plus or minus two.", MATH),  # no final answer stated
        ("Simplify the fraction.", r"$\boxed{7}$", MATH),  # nothing to compare with
    ],
)
def test_abstains_when_unsure(task, answer, context):
    assert verify(task, answer, context) is None


# --- the agent loop -----------------------------------------------------------------------------------


@pytest.fixture
def sympy_plugin(monkeypatch):
    from agentcore.plugins import reset_plugin_manager

    monkeypatch.setenv("AGENTCORE_PLUGINS", "sympy")
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def test_loop_wrong_answer_gets_feedback_then_right_answer_is_accepted(sympy_plugin):
    from agentcore.agent import Agent
    from agentcore.testing import ScriptedBackend

    backend = ScriptedBackend([r"The answer is $\boxed{\frac{1}{3}}$.", r"Correcting: $\boxed{0.5}$."])
    result = Agent(backend=backend, tools=[]).run("What is 1/4 + 1/4?", reference=r"\frac{1}{2}")
    assert result.status == "final" and result.verified is True
    assert r"\boxed{0.5}" in result.answer
    assert "Your final answer \\frac{1}{3} is wrong" in backend.prompts[1]
    assert result.steps[0].verdicts[0].verifier == "sympy" and not result.steps[0].verdicts[0].ok


def test_loop_math_specialist_claim_is_checked(sympy_plugin):
    from agentcore.agent import Agent
    from agentcore.testing import ScriptedBackend

    backend = ScriptedBackend([r"Checking: $\boxed{3}$", r"The roots are $\boxed{1, 4}$"])
    result = Agent(backend=backend, tools=[], specialist="math").run("Solve $x^2 - 5x + 6 = 2$.")
    # claims that hold get no verdict (the verifier only speaks up with proof of an error)
    assert result.status == "final" and r"\boxed{1, 4}" in result.answer
    assert [v.ok for v in result.steps[0].verdicts] == [False]
    assert "x = 3 does not satisfy x^2 - 5x + 6 = 2" in backend.prompts[1]
