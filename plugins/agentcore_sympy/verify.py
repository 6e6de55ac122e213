"""The ``agentcore_verify_answer`` check of this plugin: grading against a reference in evaluation mode,
and checking the Math specialist's own claims otherwise."""

from __future__ import annotations

from typing import Any

#: The hard limit on one verification's symbolic work, in seconds; past it the verifier has no opinion.
VERIFY_TIMEOUT_S = 10.0
VERIFIER = "sympy"


def verify_answer(task: str, answer: str, context: Any) -> Any:
    """A :class:`agentcore.Verdict` rejecting ``answer``, an accepting one, or None (no opinion)."""
    from agentcore.verification import Verdict

    reference = getattr(context, "reference", None)
    if reference is not None and str(reference).strip():
        return _against_reference(answer, str(reference))
    if getattr(context, "specialist", None) != "math":
        return None
    from agentcore_sympy.claims import check_claims
    from agentcore_sympy.equivalence import warm_up
    from agentcore_sympy.limits import can_fork, run_limited

    if can_fork():
        warm_up()
    try:
        problem = run_limited(check_claims, task, answer, timeout_s=VERIFY_TIMEOUT_S)
    except Exception:  # a timeout or a crash proves nothing against the answer
        return None
    if problem is None:
        return None
    return Verdict(ok=False, feedback=problem.feedback, verifier=VERIFIER)


def _against_reference(answer: str, reference: str) -> Any:
    from agentcore.parsing import extract_final_answer
    from agentcore.verification import Verdict

    from agentcore_sympy.equivalence import answers_equal

    found = extract_final_answer(answer)
    if found is None:
        return Verdict(
            ok=False,
            feedback="No final answer found. State your final answer as \\boxed{...}.",
            verifier=VERIFIER,
        )
    result = answers_equal(found.value, reference, timeout_s=VERIFY_TIMEOUT_S)
    if result.equal:
        return Verdict(ok=True, verifier=VERIFIER)
    # Never reveal the reference (nor how the answer differs from it, which would leak it).
    return Verdict(
        ok=False,
        feedback=(
            f"Your final answer {found.value} is wrong. Re-check your reasoning and computations, "
            "then give the corrected final answer as \\boxed{...}."
        ),
        verifier=VERIFIER,
    )
