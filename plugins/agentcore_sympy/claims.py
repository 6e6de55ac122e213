"""Checking the claims a Math specialist's answer makes, without a reference answer.

Three kinds of claim are recognised, conservatively (anything unclear means "no opinion", so a right
answer is never rejected):

- a derivative: "the derivative of x^3 is 3x^2", or ``f'(x) = ...`` where the task defines ``f(x) = ...``;
- a solution: the task asks to solve one equation in one variable and the final answer gives values,
  each checked by substitution;
- a simplification: the task asks to simplify one expression and the final answer must equal it.

A claim is rejected only with proof: a point where the two sides evaluate to different numbers, or a
value that leaves the equation's sides different. The feedback says exactly what was wrong.
"""

from __future__ import annotations

import random
import re
from typing import Any

from pydantic import BaseModel


class ClaimProblem(BaseModel):
    """A claim in the answer that was proven false, and what to tell the model."""

    kind: str
    feedback: str


# --- text helpers ---------------------------------------------------------------------------------------

_MATH_DELIMS = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)


def math_segments(text: str) -> list[str]:
    """The math parts of a text (``$…$``, ``\\(…\\)``, ``\\[…\\]``)."""
    return [next(g for g in m.groups() if g is not None).strip() for m in _MATH_DELIMS.finditer(text)]


def plain(text: str) -> str:
    """The text with math delimiters and ``\\boxed{}`` dropped (their contents kept)."""
    s = re.sub(r"\$\$|\$|\\\(|\\\)|\\\[|\\\]", " ", text)
    s = re.sub(r"\\boxed\s*\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}", r"\1", s)
    return re.sub(r"[ \t]+", " ", s)


def _clean_piece(s: str) -> str:
    return s.strip().strip(" .,;:").strip()


def _parse(text: str) -> Any:
    """A sympy expression, or None when the text is not clearly one."""
    import sympy

    from agentcore_sympy.expressions import parse_math

    text = _clean_piece(text)
    if not text or len(text) > 300 or re.search(r"[A-Za-z]{4,}", re.sub(r"\\[A-Za-z]+", "", text)):
        return None  # empty, huge, or prose
    try:
        value = parse_math(text)
    except Exception:
        return None
    return value if isinstance(value, sympy.Expr) else None


def counterexample(a: Any, b: Any, symbols: list[Any] | None = None) -> tuple[dict[Any, Any], Any, Any] | None:
    """A point where ``a`` and ``b`` evaluate to clearly different finite numbers, or None."""
    import sympy

    symbols = symbols or sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    rng = random.Random(7)
    points = [{s: sympy.Integer(v) for s in symbols} for v in (2, 3)]
    points += [{s: sympy.Rational(rng.randint(3, 47), rng.choice([7, 11, 13])) for s in symbols} for _ in range(6)]
    for point in points:
        try:
            x = complex(sympy.N(a.subs(point), 30))
            y = complex(sympy.N(b.subs(point), 30))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if not all(z == z and abs(z) != float("inf") for z in (x, y)):
            continue
        if abs(x - y) > 1e-8 * max(1.0, abs(x), abs(y)):
            return point, a.subs(point), b.subs(point)
    return None


def _show(value: Any) -> str:
    import sympy

    value = sympy.nsimplify(value) if isinstance(value, sympy.Float) else value
    text = sympy.sstr(sympy.simplify(value))
    if len(text) > 40:
        text = sympy.sstr(sympy.N(value, 8))
    return text


def _at(point: dict[Any, Any]) -> str:
    return ", ".join(f"{k} = {_show(v)}" for k, v in point.items())


# --- the checks --------------------------------------------------------------------------------------------


def check_claims(task: str, answer: str) -> ClaimProblem | None:
    """The first claim in ``answer`` proven wrong, or None (all checked claims hold, or none was found)."""
    for check in (_derivative_claims, _solution_claim, _simplification_claim):
        try:
            problem = check(task, answer)
        except Exception:  # a claim we cannot check is no evidence against the answer
            problem = None
        if problem is not None:
            return problem
    return None


_DERIVATIVE = re.compile(
    r"derivative of\s+(?P<expr>[^\n]+?)\s+(?:with respect to\s+(?P<var>[a-z])\s+)?(?:is|equals|=)\s+(?P<result>[^\n]+?)"
    r"(?=\s*(?:[.;,](?:\s|$)|\n|$))",
    re.IGNORECASE,
)
_FUNCTION_DEF = re.compile(r"\b(?P<name>[a-zA-Z])\s*\(\s*(?P<var>[a-z])\s*\)\s*=\s*(?P<body>[^\n,;?]+?)(?=\s*(?:[,;?]|\.(?:\s|$)|$|\n|\s(?:and|for|find|then|what|compute|determine|where)\b))")


def _derivative_claims(task: str, answer: str) -> ClaimProblem | None:
    import sympy

    text = plain(answer)
    claims: list[tuple[str, Any, Any, str]] = []
    for m in _DERIVATIVE.finditer(text):
        expr, result = _parse(m.group("expr")), _parse(m.group("result").split("=")[-1])
        if expr is None or result is None:
            continue
        var = sympy.Symbol(m.group("var")) if m.group("var") else _only_symbol(expr)
        if var is not None:
            claims.append((f"the derivative of {_clean_piece(m.group('expr'))}", sympy.diff(expr, var), result, _clean_piece(m.group("result"))))
    for d in _FUNCTION_DEF.finditer(plain(task)):
        name, var_name = d.group("name"), d.group("var")
        body = _parse(d.group("body"))
        if body is None:
            continue
        var = sympy.Symbol(var_name)
        prime = re.compile(rf"\b{name}\s*(?:'|\\prime|\^\{{\\prime\}})\s*\(\s*{var_name}\s*\)\s*=\s*([^\n]+?)(?=\s*(?:[;,](?:\s|$)|\.(?:\s|$)|\n|$))")
        for m in prime.finditer(text):
            for part in m.group(1).split("="):
                result = _parse(part)
                if result is not None:
                    claims.append((f"{name}'({var_name})", sympy.diff(body, var), result, _clean_piece(part)))
    for what, truth, claimed, claimed_text in claims:
        if claimed.free_symbols - truth.free_symbols - {sympy.Symbol(s) for s in "C"}:
            continue  # names the task never used: not sure what was meant
        found = counterexample(truth, claimed)
        if found is not None:
            point, _, _ = found
            return ClaimProblem(
                kind="derivative",
                feedback=(
                    f"The derivative claim is wrong: {what} is {sympy.sstr(sympy.simplify(truth))}, not {claimed_text} "
                    f"(they differ at {_at(point)}). Recompute the derivative."
                ),
            )
    return None


def _only_symbol(expr: Any) -> Any:
    symbols = list(expr.free_symbols)
    return symbols[0] if len(symbols) == 1 else None


def _final_answer(answer: str) -> str | None:
    try:
        from agentcore.parsing import extract_final_answer
    except ImportError:  # pragma: no cover - the parser ships with agentcore
        return None
    found = extract_final_answer(answer)
    if found is None or found.fallback:
        return None  # a last-number guess is not a claim the model made
    return found.value


def _task_equation(task: str) -> tuple[Any, Any, Any, str] | None:
    """The one equation in one variable a "solve" task asks about: (lhs, rhs, variable, its text)."""
    import sympy

    if not re.search(r"\bsolve\b|\bfind all (?:real )?(?:solutions|roots|values)\b", task, re.IGNORECASE):
        return None
    candidates = math_segments(task) or [plain(task)]
    equations = []
    for seg in candidates:
        for m in re.finditer(r"([^=<>\n]+?)(?<![<>!\\])=(?!=)([^=<>\n]+)", seg):
            lhs_text = re.sub(r"^.*?(?:solve|equation)\s*:?\s*", "", m.group(1), flags=re.IGNORECASE)
            rhs_text = re.split(r"\s+for\s+[a-z]\b|[?]|\.(?:\s|$)", m.group(2))[0]
            equations.append((lhs_text, rhs_text))
    if len(equations) != 1:
        return None
    lhs_text, rhs_text = equations[0]
    lhs, rhs = _parse(lhs_text), _parse(rhs_text)
    if lhs is None or rhs is None:
        return None
    symbols = (lhs - rhs).free_symbols
    if len(symbols) != 1:
        return None
    shown = f"{_clean_piece(lhs_text)} = {_clean_piece(rhs_text)}"
    return lhs, rhs, symbols.pop(), shown if len(shown) < 120 else sympy.sstr(sympy.Eq(lhs, rhs))


def _answer_values(final: str, var: Any) -> list[tuple[str, Any]] | None:
    from agentcore_sympy.answers import Equation, Scalar, SetOf, is_label, parse_answer

    node = parse_answer(final)
    nodes = list(node.items) if isinstance(node, SetOf) else [node]
    values = []
    for n in nodes:
        if isinstance(n, Equation) and is_label(n.lhs) and n.lhs.strip() == var.name:
            n = parse_answer(n.rhs)
        if not isinstance(n, Scalar) or n.unit or n.percent:
            return None
        value = _parse(n.text)
        if value is None or value.free_symbols:
            return None
        values.append((n.text, value))
    return values or None


def _solution_claim(task: str, answer: str) -> ClaimProblem | None:
    import sympy

    eq = _task_equation(task)
    final = _final_answer(answer) if eq else None
    if eq is None or final is None:
        return None
    lhs, rhs, var, shown = eq
    values = _answer_values(final, var)
    if values is None:
        return None
    for text, value in values:
        left, right = lhs.subs(var, value), rhs.subs(var, value)
        try:
            lv, rv = complex(sympy.N(left, 30)), complex(sympy.N(right, 30))
        except (TypeError, ValueError):
            continue
        if not all(z == z and abs(z) != float("inf") for z in (lv, rv)):
            return ClaimProblem(
                kind="solution",
                feedback=f"{var} = {text} is not a solution of {shown}: the equation is undefined there.",
            )
        scale = max(1.0, abs(lv), abs(rv))
        if abs(lv - rv) <= 1e-9 * scale:
            continue
        if re.fullmatch(r"-?\d*\.\d+", text.strip()) and _root_nearby(lhs - rhs, var, value):
            continue  # a decimal approximation of a root
        return ClaimProblem(
            kind="solution",
            feedback=(
                f"{var} = {text} does not satisfy {shown}: left side gives {_show(left)}, "
                f"right side gives {_show(right)}. Check your solution."
            ),
        )
    return None


def _root_nearby(f: Any, var: Any, value: Any) -> bool:
    import sympy

    delta = max(abs(value) * sympy.Rational(1, 10**4), sympy.Rational(1, 10**6))
    try:
        lo, mid, hi = (complex(sympy.N(f.subs(var, value + k * delta), 30)) for k in (-1, 0, 1))
    except (TypeError, ValueError):
        return True  # cannot tell: no opinion
    if abs(lo.imag) > 1e-12 or abs(hi.imag) > 1e-12:
        return True
    return lo.real * hi.real <= 0 or abs(mid) < 1e-6


def _task_expression(task: str) -> tuple[Any, str] | None:
    m = re.search(r"\bsimplify\b", task, re.IGNORECASE)
    if not m:
        return None
    segments = [s for s in math_segments(task) if "=" not in s]
    if not segments:
        rest = re.split(r"[?]|\.(?:\s|$)", plain(task)[m.end():])[0]
        segments = [re.sub(r"^\s*(?:the expression)?\s*:?", "", rest, flags=re.IGNORECASE)]
    if len(segments) != 1:
        return None
    expr = _parse(segments[0])
    return (expr, _clean_piece(segments[0])) if expr is not None else None


def _simplification_claim(task: str, answer: str) -> ClaimProblem | None:

    original = _task_expression(task)
    final = _final_answer(answer) if original else None
    if original is None or final is None:
        return None
    expr, shown = original
    claimed = _parse(final)
    if claimed is None or claimed.free_symbols - expr.free_symbols:
        return None
    found = counterexample(expr, claimed, sorted(expr.free_symbols, key=lambda s: s.name))
    if found is None:
        return None
    point, a, b = found
    where = f" at {_at(point)}" if point else ""
    return ClaimProblem(
        kind="simplification",
        feedback=(
            f"The simplified form {final} is not equal to {shown}: {where.strip() or 'their values differ'}"
            f"{',' if where else ':'} the original gives {_show(a)} but yours gives {_show(b)}. "
            "A simplification must keep the value for every input."
        ).replace(":  at", ": at"),
    )


__all__ = ["ClaimProblem", "check_claims", "counterexample", "math_segments", "plain"]
