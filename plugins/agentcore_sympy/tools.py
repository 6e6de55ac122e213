"""Math tools for the model: differentiate, integrate, solve, simplify, factor, evaluate, check equality.

Inputs are plain sympy syntax (``x**2 + 1``, ``x^2+1``, ``2x``, ``sin(x)``) or LaTeX (``\\frac{x}{2}``).
Each call parses and computes in a forked child under a hard time limit (:mod:`agentcore_sympy.limits`),
so a hopeless input comes back as a clear :class:`MathToolError` instead of hanging the agent; the agent
loop turns that error into feedback for the model.
"""

from __future__ import annotations

import re
from typing import Any

from agentcore.tools import tool

from agentcore_sympy.expressions import MathParseError

#: The hard limit on one tool call's symbolic work, in seconds.
TOOL_TIMEOUT_S = 10.0


class MathToolError(ValueError):
    """A math tool could not do what was asked; the message says why and what to send instead."""


_SYNTAX_HINT = "Write plain sympy syntax (x**2 + 3*x, sqrt(2), sin(x)) or LaTeX (\\frac{x}{2}, \\sqrt{2})."


def _run(name: str, fn: Any, *args: Any) -> str:
    from agentcore_sympy.equivalence import warm_up
    from agentcore_sympy.limits import ChildFailed, SymbolicTimeout, can_fork, run_limited

    if can_fork():
        warm_up()  # the forked child inherits the imported libraries
    try:
        return run_limited(fn, *args, timeout_s=TOOL_TIMEOUT_S)
    except SymbolicTimeout:
        raise MathToolError(
            f"{name} gave up after {TOOL_TIMEOUT_S:g} s: this input is too hard to compute symbolically. "
            "Try a smaller step, a simpler form, or math_evaluate for a numeric value."
        ) from None
    except ChildFailed as exc:
        raise MathToolError(f"{name} failed: {exc}") from None
    except MathParseError as exc:
        raise MathToolError(f"{name}: {exc}. {_SYNTAX_HINT}") from None
    except MathToolError:
        raise
    except Exception as exc:  # sympy's own errors (NotImplementedError, PolynomialError, ...)
        raise MathToolError(f"{name} failed: {type(exc).__name__}: {exc}") from None


# --- work done in the child -------------------------------------------------------------------------


def _expr(text: str, what: str = "expression") -> Any:
    import sympy

    from agentcore_sympy.expressions import parse_math

    if not isinstance(text, str) or not text.strip():
        raise MathToolError(f"the {what} is empty")
    value = parse_math(text)
    if isinstance(value, sympy.Equality):
        raise MathToolError(f"the {what} {text!r} is an equation; give an expression (no '=')")
    if not isinstance(value, (sympy.Expr, sympy.MatrixBase)):
        raise MathToolError(f"the {what} {text!r} is not an expression (read as {type(value).__name__})")
    return value


def _symbol(expr: Any, variable: str | None) -> Any:
    import sympy

    if variable:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", variable.strip()):
            raise MathToolError(f"variable {variable!r} is not a variable name (use e.g. x, t, theta)")
        return sympy.Symbol(variable.strip())
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if len(symbols) > 1:
        names = ", ".join(s.name for s in symbols)
        raise MathToolError(f"the expression has several variables ({names}): say which one with `variable`")
    return symbols[0] if symbols else sympy.Symbol("x")


def _show(value: Any) -> str:
    import sympy

    return sympy.sstr(value)


def _differentiate(expression: str, variable: str | None, order: int) -> str:
    import sympy

    if order < 1:
        raise MathToolError(f"order must be 1 or more, got {order}")
    expr = _expr(expression)
    var = _symbol(expr, variable)
    return _show(sympy.simplify(sympy.diff(expr, var, order)))


def _integrate(expression: str, variable: str | None, lower: str | None, upper: str | None) -> str:
    import sympy

    expr = _expr(expression)
    var = _symbol(expr, variable)
    if (lower is None) != (upper is None):
        raise MathToolError("give both `lower` and `upper` for a definite integral, or neither")
    if lower is None:
        result = sympy.integrate(expr, var)
        if result.has(sympy.Integral):
            raise MathToolError(f"no closed form found for the integral of {_show(expr)} d{var}")
        return _show(result) + " + C"
    result = sympy.integrate(expr, (var, _expr(lower, "lower limit"), _expr(upper, "upper limit")))
    if result.has(sympy.Integral):
        numeric = sympy.N(result, 15)
        if numeric.is_number:
            return f"{_show(numeric)} (numeric: no closed form found)"
        raise MathToolError(f"could not integrate {_show(expr)} d{var} over those limits")
    return _show(sympy.simplify(result))


def _equation(text: str) -> Any:
    import sympy

    sides = re.split(r"(?<![<>!=])==?(?!=)", text)
    if len(sides) == 2:
        return sympy.Eq(_expr(sides[0], "left side"), _expr(sides[1], "right side"))
    if len(sides) > 2:
        raise MathToolError(f"{text!r} has more than one '=': give one equation per list item")
    from agentcore_sympy.expressions import parse_math

    value = parse_math(text)
    if isinstance(value, sympy.Expr):
        return sympy.Eq(value, 0)  # an expression alone means "= 0"
    if isinstance(value, (sympy.Equality, sympy.core.relational.Relational)):
        return value
    raise MathToolError(f"{text!r} is not an equation or expression")


def _solve(equations: list[str], variables: list[str] | None) -> str:
    import sympy

    if not equations:
        raise MathToolError("give at least one equation")
    eqs = [_equation(e) for e in equations]
    for text, eq in zip(equations, eqs):
        if eq is sympy.false:
            return f"no solution: {text} is never true"
    eqs = [e for e in eqs if e is not sympy.true]
    if not eqs:
        return "every value is a solution (the equations always hold)"
    if variables:
        syms = [_symbol(sympy.Integer(0), v) for v in variables]
    else:
        syms = sorted(set().union(*(e.free_symbols for e in eqs)), key=lambda s: s.name)
    if not syms:
        raise MathToolError("the equations have no variables to solve for")
    inequalities = [e for e in eqs if not isinstance(e, sympy.Equality)]
    if inequalities:
        if len(syms) != 1:
            raise MathToolError("inequalities can be solved for one variable at a time: give `variables`")
        return _show(sympy.reduce_inequalities(eqs, syms[0]))
    solutions = sympy.solve(eqs, syms, dict=True)
    if not solutions:
        return "no solution"
    parts = []
    for sol in solutions:
        parts.append(", ".join(f"{k} = {_show(v)}" for k, v in sol.items()) or "any value (identity)")
    return "; ".join(parts)


def _simplify(expression: str) -> str:
    import sympy

    return _show(sympy.simplify(_expr(expression)))


def _factor(expression: str) -> str:
    import sympy

    expr = _expr(expression)
    if expr.is_Integer:
        return " * ".join(f"{p}^{e}" if e > 1 else str(p) for p, e in sympy.factorint(expr).items()) or str(expr)
    return _show(sympy.factor(expr))


def _evaluate(expression: str, digits: int, values: dict[str, str] | None) -> str:
    import sympy

    if not 1 <= digits <= 100:
        raise MathToolError(f"digits must be between 1 and 100, got {digits}")
    expr = _expr(expression)
    if values:
        expr = expr.subs({sympy.Symbol(k): _expr(v, f"value of {k}") for k, v in values.items()})
    if expr.free_symbols:
        names = ", ".join(sorted(s.name for s in expr.free_symbols))
        raise MathToolError(f"the expression still has variables ({names}): give numbers for them in `values`")
    return _show(sympy.N(expr, digits))


# --- the tools ----------------------------------------------------------------------------------------


@tool(name="math_differentiate", timeout_s=TOOL_TIMEOUT_S + 5)
def math_differentiate(expression: str, variable: str | None = None, order: int = 1) -> str:
    """Differentiate an expression (sympy), e.g. "x^3 + 2x" -> 3*x**2 + 2.

    Args:
        expression: the expression, in sympy syntax (x**3 + sin(x)) or LaTeX (\\frac{1}{x}).
        variable: the variable to differentiate by; may be left out when there is only one.
        order: how many times to differentiate (2 for the second derivative).
    """
    return _run("math_differentiate", _differentiate, expression, variable, order)


@tool(name="math_integrate", timeout_s=TOOL_TIMEOUT_S + 5)
def math_integrate(expression: str, variable: str | None = None, lower: str | None = None, upper: str | None = None) -> str:
    """Integrate an expression (sympy): an antiderivative, or a definite integral when limits are given.

    Args:
        expression: the integrand, in sympy syntax (x**2*exp(x)) or LaTeX.
        variable: the integration variable; may be left out when there is only one.
        lower: the lower limit of a definite integral (e.g. "0", "-oo", "pi/2").
        upper: the upper limit of a definite integral (e.g. "1", "oo").
    """
    return _run("math_integrate", _integrate, expression, variable, lower, upper)


@tool(name="math_solve", timeout_s=TOOL_TIMEOUT_S + 5)
def math_solve(equations: list[str] | str, variables: list[str] | None = None) -> str:
    """Solve an equation, a system of equations, or a one-variable inequality exactly (sympy).

    Args:
        equations: the equations, one per item, like ["x^2 - 5x + 6 = 0"] or ["x + y = 3", "x - y = 1"];
            an item without '=' means "= 0".
        variables: the unknowns to solve for; by default every variable that appears.
    """
    if isinstance(equations, str):
        equations = [equations]
    return _run("math_solve", _solve, list(equations), list(variables) if variables else None)


@tool(name="math_simplify", timeout_s=TOOL_TIMEOUT_S + 5)
def math_simplify(expression: str) -> str:
    """Simplify an expression to a shorter equivalent form (sympy's simplify).

    Args:
        expression: the expression, in sympy syntax or LaTeX.
    """
    return _run("math_simplify", _simplify, expression)


@tool(name="math_factor", timeout_s=TOOL_TIMEOUT_S + 5)
def math_factor(expression: str) -> str:
    """Factor a polynomial (x^2 - 1 -> (x - 1)*(x + 1)) or an integer into primes (360 -> 2^3 * 3^2 * 5).

    Args:
        expression: the polynomial or integer, in sympy syntax or LaTeX.
    """
    return _run("math_factor", _factor, expression)


@tool(name="math_evaluate", timeout_s=TOOL_TIMEOUT_S + 5)
def math_evaluate(expression: str, digits: int = 15, values: dict[str, str] | None = None) -> str:
    """Evaluate an expression numerically, e.g. "sqrt(2)*pi" -> 4.44288293815837.

    Args:
        expression: the expression, in sympy syntax or LaTeX.
        digits: significant digits of the result (1 to 100).
        values: numbers for the variables in the expression, like {"x": "2", "y": "1/3"}.
    """
    return _run("math_evaluate", _evaluate, expression, digits, values)


@tool(name="math_check_equal", timeout_s=TOOL_TIMEOUT_S + 5)
def math_check_equal(first: str, second: str) -> str:
    """Check whether two math answers or expressions are equal (same value, set, interval or equation).

    Args:
        first: one answer or expression, e.g. "(x+1)^2" or "\\frac{\\sqrt{2}}{2}".
        second: the other, e.g. "x^2+2x+1" or "1/\\sqrt{2}".
    """
    from agentcore_sympy.equivalence import answers_equal

    for name, value in (("first", first), ("second", second)):
        if not value.strip():
            raise MathToolError(f"`{name}` is empty: give an expression")
    result = answers_equal(first, second, timeout_s=TOOL_TIMEOUT_S)
    return ("equal" if result.equal else "not equal") + f" ({result.reason})"


ALL_TOOLS = (
    math_differentiate,
    math_integrate,
    math_solve,
    math_simplify,
    math_factor,
    math_evaluate,
    math_check_equal,
)
