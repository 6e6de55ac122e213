"""Is a predicted final answer the same as the reference? The grading policy of
``spec/parsing-and-grading.md`` ("Math equivalence"), built to make no false positives.

The rules, in the order they apply:

- Both answers are read into a *shape* (:mod:`agentcore_sympy.answers`); shapes compare by kind:
  comma lists and ``\\{…\\}`` are unordered sets, ``(a, b)`` is ordered, a union's order does not matter,
  interval ends must match (open vs closed), ``x = 3`` matches ``3``, equations are equal up to a non-zero
  factor, inequalities keep their direction, a base-n numeral stays in base n, text compares as text.
- Values: exact decimals and integers must be exactly equal. A decimal *prediction* approximating an
  irrational or non-terminating reference is equal when its relative error is at most 1e-4.
  ``%`` on either side allows x% = x and x% = x/100; bare numbers are never rescaled.
- Units are dropped only when one side has none or both have the same one (5 m ≠ 5 cm).
- Symbolic values are equal when ``simplify`` proves the difference zero, or when it vanishes at every
  one of several random points (any point where they differ proves them different).
- All sympy work runs in a forked child under a hard time limit (:mod:`agentcore_sympy.limits`); running
  out of time means "not proven equal", never a crash or a hang.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from agentcore_sympy.answers import (
    BaseN,
    Bracketed,
    Equation,
    Expression,
    Matrix,
    Node,
    Relation,
    Scalar,
    SetOf,
    Text,
    UnionOf,
    is_label,
    normalize,
    parse_answer,
)

#: A decimal approximating an irrational or non-terminating reference may be off by this much, relatively.
REL_TOL = 1e-4
DEFAULT_TIMEOUT_S = 5.0


class Equivalence(BaseModel):
    """The grader's verdict: ``equal`` and a short ``reason`` that says which rule decided."""

    equal: bool
    reason: str

    def __bool__(self) -> bool:
        return self.equal


def answers_equal(pred: str, gold: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Equivalence:
    """Whether ``pred`` (a model's final answer) is the same answer as ``gold`` (the reference).

    ``timeout_s`` bounds the symbolic work (a hard limit: the child doing it is killed); on timeout the
    answer is "not proven equal".
    """
    from agentcore_sympy.limits import ChildFailed, SymbolicTimeout, can_fork, run_limited

    pred, gold = str(pred), str(gold)
    if not pred.strip():
        return Equivalence(equal=False, reason="the prediction is empty")
    if normalize(pred) == normalize(gold):
        return Equivalence(equal=True, reason="identical after normalisation")
    if can_fork():
        warm_up()  # import sympy and the LaTeX grammar once here, so each forked child starts warm
    try:
        equal, reason = run_limited(compare, pred, gold, timeout_s=timeout_s)
    except SymbolicTimeout:
        return Equivalence(equal=False, reason=f"not proven equal: symbolic check timed out after {timeout_s:g} s")
    except ChildFailed as exc:
        return Equivalence(equal=False, reason=f"not proven equal: {exc}")
    return Equivalence(equal=equal, reason=reason)


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Import the heavy libraries (sympy, latex2sympy2_extended) and parse once."""
    from agentcore_sympy.expressions import parse_math

    parse_math(r"\frac{1}{2}+x")
    parse_math("x^2")


def compare(pred: str, gold: str) -> tuple[bool, str]:
    """The comparison itself, in-process and without a time limit (``answers_equal`` bounds it)."""
    try:
        p, g = parse_answer(pred), parse_answer(gold)
    except Exception as exc:  # malformed input is an unequal answer, never a crash
        return False, f"could not read the answers: {exc}"
    return _Grader().equal(p, g)


class _Grader:
    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    # --- shapes ---------------------------------------------------------------------------------

    def equal(self, p: Node, g: Node) -> tuple[bool, str]:
        if p == g:
            return True, "same answer"
        # ``x = 3`` vs ``3``: a left side that only names the answer is dropped
        if isinstance(p, Equation) and not isinstance(g, Equation) and is_label(p.lhs):
            return self.equal(parse_answer(p.rhs), g)
        if isinstance(g, Equation) and not isinstance(p, Equation) and is_label(g.lhs):
            return self.equal(p, parse_answer(g.rhs))
        if isinstance(p, Text) or isinstance(g, Text):
            return self._text(p, g)
        if isinstance(p, BaseN) or isinstance(g, BaseN):
            return self._base_n(p, g)
        if isinstance(p, SetOf) and len(p.items) == 1 and not isinstance(g, SetOf):
            return self.equal(p.items[0], g)
        if isinstance(g, SetOf) and len(g.items) == 1 and not isinstance(p, SetOf):
            return self.equal(p, g.items[0])
        if isinstance(p, Relation) and not isinstance(g, Relation):
            interval = _relation_as_interval(p)
            return self.equal(interval, g) if interval is not None else (False, "an inequality vs another kind of answer")
        if isinstance(g, Relation) and not isinstance(p, Relation):
            interval = _relation_as_interval(g)
            return self.equal(p, interval) if interval is not None else (False, "another kind of answer vs an inequality")
        if isinstance(p, UnionOf) and isinstance(g, UnionOf):
            return self._unordered(p.parts, g.parts, "union")
        if isinstance(p, SetOf) and isinstance(g, SetOf):
            return self._unordered(p.items, g.items, "set")
        if isinstance(p, Bracketed) and isinstance(g, Bracketed):
            return self._bracketed(p, g)
        if isinstance(p, Equation) and isinstance(g, Equation):
            return self._equation(p, g)
        if isinstance(p, Relation) and isinstance(g, Relation):
            return self._relation(p, g)
        if isinstance(p, (Matrix, Expression)) and isinstance(g, (Matrix, Expression)):
            return self._values(self._matrix_value(p), self._matrix_value(g), pred_decimal=False)
        if isinstance(p, Scalar) and isinstance(g, Scalar):
            return self._scalar(p, g)
        return False, f"different kinds of answer ({_kind(p)} vs {_kind(g)})"

    def _text(self, p: Node, g: Node) -> tuple[bool, str]:
        a, b = _as_text(p), _as_text(g)
        if a is None or b is None:
            return False, "text vs a mathematical answer"
        if len(a) <= 1 or len(b) <= 1:
            return (a == b), ("same text" if a == b else "different text")
        same = a.casefold() == b.casefold()
        return same, ("same text (ignoring case)" if same else "different text")

    def _base_n(self, p: Node, g: Node) -> tuple[bool, str]:
        def digits(n: Node) -> tuple[str, int | None] | None:
            if isinstance(n, BaseN):
                return n.digits, n.base
            if isinstance(n, Scalar) and re.fullmatch(r"[0-9]+", n.text) and not n.unit and not n.percent:
                return n.text, None
            return None

        a, b = digits(p), digits(g)
        if a is None or b is None:
            return False, "a base-n numeral vs another kind of answer"
        if a[1] is not None and b[1] is not None and a[1] != b[1]:
            return False, f"numerals in different bases ({a[1]} vs {b[1]})"
        same = a[0].lstrip("0") == b[0].lstrip("0")
        return same, ("same base-n digits" if same else "different base-n digits (not converted to base 10)")

    def _unordered(self, ps: tuple[Node, ...], gs: tuple[Node, ...], what: str) -> tuple[bool, str]:
        if len(ps) != len(gs):
            return False, f"{what} sizes differ ({len(ps)} vs {len(gs)})"
        matrix = [[self.equal(a, b)[0] for b in gs] for a in ps]
        if _perfect_matching(matrix):
            return True, f"same {what} elements (order ignored)"
        return False, f"the {what} elements differ"

    def _bracketed(self, p: Bracketed, g: Bracketed) -> tuple[bool, str]:
        if len(p.items) != len(g.items):
            return False, f"tuple lengths differ ({len(p.items)} vs {len(g.items)})"
        ends_p, ends_g = self._ends(p), self._ends(g)
        if ends_p != ends_g:
            return False, "interval ends differ (open vs closed)"
        for a, b in zip(p.items, g.items):
            ok, why = self.equal(a, b)
            if not ok:
                return False, f"elements differ in order: {why}"
        return True, "same ordered elements and brackets"

    def _ends(self, node: Bracketed) -> tuple[str, str]:
        # a bracket at an infinite end carries no meaning: (-oo, 3] == [-oo, 3]
        left, right = node.open, node.close
        if len(node.items) == 2:
            if self._is_infinite(node.items[0]):
                left = "("
            if self._is_infinite(node.items[1]):
                right = ")"
        return left, right

    def _is_infinite(self, node: Node) -> bool:
        if not isinstance(node, Scalar):
            return False
        value = self._parse(node.text)
        return value is not None and getattr(value, "is_infinite", False) is True

    def _equation(self, p: Equation, g: Equation) -> tuple[bool, str]:
        if normalize(p.lhs) == normalize(g.lhs) and is_label(p.lhs):
            ok, why = self.equal(parse_answer(p.rhs), parse_answer(g.rhs))
            if ok:
                return True, f"same left side, {why}"
        import sympy

        sides = [self._parse(x) for x in (p.lhs, p.rhs, g.lhs, g.rhs)]
        if any(s is None or not isinstance(s, sympy.Expr) for s in sides):
            return False, "could not read the equations"
        e1, e2 = sides[0] - sides[1], sides[2] - sides[3]
        ratio = _constant_ratio(e1, e2)
        if ratio is not None and ratio != 0:
            return True, "equations equal up to a non-zero factor"
        return False, "the equations are not equivalent"

    def _relation(self, p: Relation, g: Relation) -> tuple[bool, str]:
        if p.ops != g.ops:
            return False, f"different relations ({' '.join(p.ops)} vs {' '.join(g.ops)})"
        if len(p.parts) == 2:
            import sympy

            sides = [self._parse(x) for x in (*p.parts, *g.parts)]
            if all(isinstance(s, sympy.Expr) for s in sides):
                ratio = _constant_ratio(sides[0] - sides[1], sides[2] - sides[3])
                if ratio is not None and (ratio > 0 if p.ops[0] != "!=" else ratio != 0):
                    return True, "inequalities equal up to a positive factor"
        for a, b in zip(p.parts, g.parts):
            ok, _ = self.equal(parse_answer(a), parse_answer(b))
            if not ok:
                return False, "the inequalities differ"
        return True, "same inequality chain"

    # --- values ---------------------------------------------------------------------------------

    def _parse(self, text: str) -> Any:
        if text not in self._cache:
            from agentcore_sympy.expressions import parse_math

            try:
                self._cache[text] = parse_math(text)
            except Exception:
                self._cache[text] = None
        return self._cache[text]

    def _matrix_value(self, node: Node) -> Any:
        import sympy

        if isinstance(node, Matrix):
            cells = [[self._parse(c) for c in row] for row in node.rows]
            if any(c is None for row in cells for c in row) or len({len(r) for r in cells}) != 1:
                return None
            return sympy.Matrix(cells)
        return self._parse(node.text) if isinstance(node, Expression) else None

    def _scalar(self, p: Scalar, g: Scalar) -> tuple[bool, str]:
        if p.unit and g.unit and p.unit != g.unit:
            return False, f"different units ({p.unit} vs {g.unit})"
        pv, gv = self._parse(p.text), self._parse(g.text)
        if pv is None or gv is None:
            return False, "could not read " + ("the prediction" if pv is None else "the reference") + " as math"
        pred_decimal = _is_decimal_literal(p.text)
        candidates = [(pv, gv, "")]
        if p.percent and not g.percent:
            candidates.append((pv / 100, gv, " (reading the % as /100)"))
        elif g.percent and not p.percent:
            candidates.append((pv, gv / 100, " (reading the % as /100)"))
        reason = ""
        for a, b, note in candidates:
            ok, reason = self._values(a, b, pred_decimal=pred_decimal)
            if ok:
                return True, reason + note
        return False, reason

    def _values(self, a: Any, b: Any, *, pred_decimal: bool) -> tuple[bool, str]:
        import sympy

        if a is None or b is None:
            return False, "could not read the answers as math"
        if isinstance(a, sympy.MatrixBase) or isinstance(b, sympy.MatrixBase):
            if not (isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase)) or a.shape != b.shape:
                return False, "a matrix vs a value of another shape"
            for x, y in zip(a, b):
                ok, _ = self._values(x, y, pred_decimal=False)
                if not ok:
                    return False, "the matrix entries differ"
            return True, "same matrix entries"
        if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
            same = a == b
            return same, ("same value" if same else "different values")
        if a.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan) or b.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            same = a == b and not a.has(sympy.nan)
            return same, ("same infinite value" if same else "different values (infinite)")
        diff = a - b
        if diff == 0:
            return True, "same value"
        if not a.free_symbols and not b.free_symbols:
            return _numbers_equal(a, b, pred_decimal)
        return _symbolic_equal(a, b)


# --- helpers --------------------------------------------------------------------------------------


def _numbers_equal(a: Any, b: Any, pred_decimal: bool) -> tuple[bool, str]:
    import sympy

    try:
        d = complex(sympy.N(a - b, 60))
        scale = max(1.0, abs(complex(sympy.N(b, 30))))
    except (TypeError, ValueError):
        d, scale = None, 1.0
    if d is not None and abs(d) <= 1e-40 * scale:
        return True, "same value"
    if d is None:
        if sympy.simplify(a - b) == 0:
            return True, "same value (simplified)"
        return False, "could not evaluate the values"
    if pred_decimal and _non_terminating(b):
        rel = abs(d) / abs(complex(sympy.N(b, 30)))
        if rel <= REL_TOL:
            return True, f"decimal within relative {rel:.1e} of an irrational/non-terminating value"
        return False, f"decimal off by relative {rel:.1e} (more than {REL_TOL:g})"
    return False, "different values"


def _non_terminating(value: Any) -> bool:
    """Whether ``value`` is a real number with no finite decimal expansion (sympy must prove it)."""

    if value.is_Rational:
        q = int(value.q)
        for prime in (2, 5):
            while q % prime == 0:
                q //= prime
        return q != 1
    return value.is_real is True and value.is_rational is False


def _symbolic_equal(a: Any, b: Any) -> tuple[bool, str]:
    import sympy
    from sympy.core.function import AppliedUndef

    diff = a - b
    symbols = sorted(diff.free_symbols | a.free_symbols | b.free_symbols, key=lambda s: s.name)
    agreeing = 0
    if not (a.atoms(AppliedUndef) or b.atoms(AppliedUndef)):
        rng = random.Random(1234)
        for _ in range(8):
            point = {s: sympy.Rational(rng.choice([-1, 1]) * rng.randint(3, 47), rng.choice([7, 11, 13])) for s in symbols}
            try:
                x = complex(sympy.N(a.subs(point), 30))
                y = complex(sympy.N(b.subs(point), 30))
            except (TypeError, ValueError, ZeroDivisionError):
                continue
            if not all(map(_finite, (x, y))):
                continue
            if abs(x - y) > 1e-12 * max(1.0, abs(y)):
                return False, "the expressions differ at a sample point"
            agreeing += 1
    try:
        if sympy.simplify(diff) == 0:
            return True, "the difference simplifies to 0"
    except Exception:
        pass
    if agreeing >= 6:
        return True, f"the expressions agree at {agreeing} random points"
    return False, "not proven equal"


def _finite(z: complex) -> bool:
    return z == z and abs(z) != float("inf")


def _constant_ratio(e1: Any, e2: Any) -> Any:
    """``e1 / e2`` when it is a finite constant (both non-zero), else None."""
    import sympy

    if e1 == 0 or e2 == 0:
        return None
    ratio = sympy.cancel(sympy.together(e1 / e2))
    if ratio.free_symbols:
        ratio = sympy.simplify(ratio)
    if ratio.free_symbols or not ratio.is_finite:
        return None
    return ratio


def _relation_as_interval(r: Relation) -> Node | None:
    """``x <= 3`` → ``(-oo, 3]``; ``a < x <= b`` → ``(a, b]``: a one-variable inequality as an interval."""
    var = re.compile(r"[A-Za-z](?:_\{?\w+\}?)?")
    if "!=" in r.ops:
        return None
    closes = {"<": (")", "("), "<=": ("]", "[")}
    if len(r.parts) == 2:
        left, right = r.parts
        if var.fullmatch(left) and not var.fullmatch(right):
            return Bracketed("(", closes[r.ops[0]][0], (Scalar("-\\infty"), parse_answer(right)))
        if var.fullmatch(right) and not var.fullmatch(left):
            return Bracketed(closes[r.ops[0]][1], ")", (parse_answer(left), Scalar("\\infty")))
        return None
    if len(r.parts) == 3 and var.fullmatch(r.parts[1]):
        return Bracketed(
            closes[r.ops[0]][1], closes[r.ops[1]][0], (parse_answer(r.parts[0]), parse_answer(r.parts[2]))
        )
    return None


def _perfect_matching(matrix: list[list[bool]]) -> bool:
    """Whether each row can be paired with a distinct column it matches (Kuhn's augmenting paths)."""
    n = len(matrix)
    owner: list[int | None] = [None] * n

    def augment(row: int, seen: set[int]) -> bool:
        for col in range(n):
            if matrix[row][col] and col not in seen:
                seen.add(col)
                if owner[col] is None or augment(owner[col], seen):  # type: ignore[arg-type]
                    owner[col] = row
                    return True
        return False

    return all(augment(row, set()) for row in range(n))


def _is_decimal_literal(text: str) -> bool:
    return bool(re.fullmatch(r"-?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?", text.strip()))


def _as_text(node: Node) -> str | None:
    if isinstance(node, Text):
        return re.sub(r"\s+", "", node.text.strip("() ."))
    if isinstance(node, Scalar) and not node.unit and not node.percent:
        return re.sub(r"\s+", "", node.text.strip("() ."))
    return None


def _kind(node: Node) -> str:
    return type(node).__name__.lower()
