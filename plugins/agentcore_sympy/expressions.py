"""Turn one math expression, written as LaTeX or plain sympy syntax, into a sympy object.

Plain syntax (``x**2 + 1``, ``x^2+1``, ``2x``, ``sin x``, ``5!``) goes through sympy's own parser with
implicit multiplication; anything with a backslash or braces is LaTeX and goes through
latex2sympy2_extended (an ANTLR grammar kept up by the Math-Verify authors), after the small rewrites
it does not do itself (``\\frac12``, ``\\sqrt 2``, ``\\dfrac``).

Decimal literals become exact rationals (``0.1`` is 1/10, not a binary float), so exact decimals compare
exactly and approximations are recognised as such by the grader. ``e`` is Euler's number and ``i`` the
imaginary unit. Every import of sympy happens inside functions: this module is imported at startup.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


class MathParseError(ValueError):
    """An expression could not be read; the message says what and why."""


_PLAIN_ALLOWED = re.compile(r"^[A-Za-z0-9_\s+\-*/^().,!=<>|]*$")
_DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d*|\.\d+)(?![\w.])|(?<![\w.])(\d+\.\d+)(?=[A-Za-z\\(])")
_SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([+-]?\d+)(?![\w.])")
_REPEATING = re.compile(r"(\d*)\.(\d*)\\overline\{(\d+)\}")
_LEADING_ZEROS = re.compile(r"(?<![\w.])0+(?=\d)")


def is_latex(text: str) -> bool:
    return "\\" in text or "{" in text or "}" in text


def exact_decimals(text: str, latex: bool) -> str:
    """Rewrite decimal literals (``0.25``, ``1.5e-3``, ``0.\\overline{3}``) as exact fractions."""

    def frac(num: int, den: int) -> str:
        return rf"(\frac{{{num}}}{{{den}}})" if latex else f"({num}/{den})"

    def repeating(m: re.Match[str]) -> str:
        whole, fixed, rep = m.group(1) or "0", m.group(2), m.group(3)
        # x = whole.fixed(rep)(rep)... = (whole fixed rep - whole fixed) / (10^|fixed| (10^|rep| - 1))
        num = int(whole + fixed + rep) - int(whole + fixed)
        den = (10 ** len(rep) - 1) * 10 ** len(fixed)
        return frac(num, den)

    def scientific(m: re.Match[str]) -> str:
        mantissa, exponent = m.group(1), int(m.group(2))
        whole, _, fraction = mantissa.partition(".")
        num = int(whole + fraction)
        den = 10 ** len(fraction)
        if exponent >= 0:
            num *= 10**exponent
        else:
            den *= 10 ** (-exponent)
        return frac(num, den)

    def decimal(m: re.Match[str]) -> str:
        literal = m.group(1) or m.group(2)
        whole, _, fraction = literal.partition(".")
        if not fraction:
            return whole
        return frac(int((whole or "0") + fraction), 10 ** len(fraction))

    text = _REPEATING.sub(repeating, text)
    text = _SCIENTIFIC.sub(scientific, text)
    text = _DECIMAL.sub(decimal, text)
    return _LEADING_ZEROS.sub("", text)


def latex_cleanup(text: str) -> str:
    """Rewrites latex2sympy does not do: shorthand ``\\frac12``/``\\sqrt 2``, spacing, ``\\left``."""
    s = text
    s = re.sub(r"\\[dt]frac", r"\\frac", s)
    s = re.sub(r"\\(left|right|bigl|bigr|Bigl|Bigr|big|Big)\b\.?", "", s)
    s = re.sub(r"(?<!\\)\\[,;:!> ]|\\quad|\\qquad|~", " ", s)
    s = re.sub(r"\\displaystyle", "", s)
    # \frac12 -> \frac{1}{2}; \frac1{72} -> \frac{1}{72}; \frac{a}2 -> \frac{a}{2}
    s = re.sub(r"\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\s*([0-9a-zA-Z])\s*\{", r"\\frac{\1}{", s)
    s = re.sub(r"\\frac\s*(\{(?:[^{}]|\{[^{}]*\})*\})\s*([0-9a-zA-Z])", r"\\frac\1{\2}", s)
    s = re.sub(r"\\sqrt\s*([0-9a-zA-Z])", r"\\sqrt{\1}", s)
    s = s.replace("\\le ", "\\leq ").replace("\\ge ", "\\geq ")
    s = re.sub(r"\\(?:le|leqslant)(?![a-z])", r"\\leq", s)
    s = re.sub(r"\\(?:ge|geqslant)(?![a-z])", r"\\geq", s)
    return s.strip()


@lru_cache(maxsize=1)
def _plain_transformations() -> tuple[Any, ...]:
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        standard_transformations,
    )

    return standard_transformations + (implicit_multiplication_application, convert_xor)


def _plain_locals() -> dict[str, Any]:
    import sympy

    names: dict[str, Any] = {"e": sympy.E, "i": sympy.I, "pi": sympy.pi, "ln": sympy.log}
    # Single capital letters are variables (multiple-choice letters, points), not sympy's E/N/O/Q/S.
    for letter in "ABCDEFGHJKLMNOPQRSTUVWXYZ":
        names[letter] = sympy.Symbol(letter)
    names["I"] = sympy.I
    return names


def _parse_plain(text: str) -> Any:
    from sympy.parsing.sympy_parser import parse_expr

    # parse_expr evaluates Python: only arithmetic characters, no attribute access or dunder names.
    if not _PLAIN_ALLOWED.match(text) or "__" in text or re.search(r"\.\s*[A-Za-z_]", text):
        raise MathParseError(f"{text!r} has characters that are not plain math syntax")
    return parse_expr(text, local_dict=_plain_locals(), transformations=_plain_transformations(), evaluate=True)


def _parse_latex(text: str) -> Any:
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig

    config = ConversionConfig(interpret_as_mixed_fractions=True, lowercase_symbols=False)
    return latex2sympy(text, conversion_config=config)


def canonical(expr: Any) -> Any:
    """Plain symbols (no assumptions), ``e``→E, ``i``→I, unevaluated objects evaluated, floats exact."""
    import sympy

    if isinstance(expr, (sympy.MatrixBase, sympy.matrices.expressions.MatrixExpr)):
        expr = expr.doit() if hasattr(expr, "doit") else expr
        if isinstance(expr, sympy.MatrixBase):
            return expr.applyfunc(canonical)
        return expr
    if not isinstance(expr, sympy.Basic):
        return sympy.sympify(expr)
    mapping: dict[Any, Any] = {}
    for sym in expr.free_symbols:
        if sym.name == "e":
            mapping[sym] = sympy.E
        elif sym.name == "i":
            mapping[sym] = sympy.I
        elif sym.assumptions0:
            mapping[sym] = sympy.Symbol(sym.name)
    if mapping:
        expr = expr.xreplace(mapping)
    floats = {f: sympy.Rational(str(f)) for f in expr.atoms(sympy.Float)}
    if floats:
        expr = expr.xreplace(floats)
    try:
        expr = expr.doit()
    except Exception:  # an object that cannot be evaluated stays as it is
        pass
    return expr


def parse_math(text: str) -> Any:
    """One expression (or relation, or matrix) as a sympy object. Raises :class:`MathParseError`."""
    source = text.strip()
    if not source:
        raise MathParseError("the expression is empty")
    errors: list[str] = []
    if not is_latex(source):
        try:
            return canonical(_parse_plain(exact_decimals(source, latex=False)))
        except Exception as exc:  # fall back to the LaTeX grammar, which also reads plain math
            errors.append(f"{type(exc).__name__}: {exc}")
    try:
        result = _parse_latex(exact_decimals(latex_cleanup(source), latex=True))
    except Exception as exc:
        errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise MathParseError(f"cannot read {source!r} as math ({'; '.join(errors)})") from None
    if isinstance(result, (list, tuple)):
        raise MathParseError(f"{source!r} is a list of {len(result)} expressions, expected one")
    return canonical(result)
