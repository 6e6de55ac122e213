"""agentcore_sympy: math for agentcore — answer equivalence, sympy tools, and answer verification.

``answers_equal(pred, gold)`` grades a final answer against a reference (``Equivalence(equal, reason)``).
The plugin (:mod:`agentcore_sympy.plugin`) registers the math tools and the verifier.
"""

from agentcore_sympy.equivalence import Equivalence, answers_equal

__all__ = ["Equivalence", "answers_equal"]
