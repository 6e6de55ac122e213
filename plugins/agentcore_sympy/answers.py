"""Read a final answer's *shape* before its math: text, base-n numeral, set, tuple, interval, union,
equation, inequality, matrix or a single value with its unit and percent sign.

This is pure string work (no sympy): the grader in :mod:`agentcore_sympy.equivalence` compares two
shapes by the rules of the spec (sets unordered, tuples ordered, interval ends exact, ...) and parses
only the leaves with sympy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agentcore_sympy.expressions import latex_cleanup


@dataclass(frozen=True)
class Scalar:
    text: str
    unit: str | None = None
    percent: bool = False


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class BaseN:
    digits: str
    base: int | None  # None: bare digits with no base written


@dataclass(frozen=True)
class Bracketed:
    """``(a, b)``, ``[a, b)``, ``(a, b, c)``: an ordered tuple, or an interval when it has two items."""

    open: str
    close: str
    items: tuple[object, ...]


@dataclass(frozen=True)
class SetOf:
    """An unordered collection: ``\\{a, b\\}``, a bare comma list, ``a or b``, ``\\pm`` expanded."""

    items: tuple[object, ...]


@dataclass(frozen=True)
class UnionOf:
    parts: tuple[object, ...]


@dataclass(frozen=True)
class Equation:
    lhs: str
    rhs: str


@dataclass(frozen=True)
class Relation:
    """An inequality chain ``a < b <= c``, always written with ``<``/``<=`` (``>`` chains are reversed)."""

    parts: tuple[str, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True)
class Matrix:
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Expression:
    """Something only sympy can read as a whole (a sum of matrices, ...)."""

    text: str
    extra: dict = field(default_factory=dict, compare=False)


Node = object

# Unit words a value may carry; the grader strips one only when the other side has none or the same.
_UNIT_WORDS = {
    "m": "m", "meter": "m", "meters": "m", "metre": "m", "metres": "m",
    "cm": "cm", "centimeter": "cm", "centimeters": "cm", "mm": "mm", "millimeter": "mm", "millimeters": "mm",
    "km": "km", "kilometer": "km", "kilometers": "km",
    "in": "in", "inch": "in", "inches": "in", "ft": "ft", "foot": "ft", "feet": "ft",
    "yd": "yd", "yard": "yd", "yards": "yd", "mi": "mi", "mile": "mi", "miles": "mi", "mph": "mph",
    "s": "s", "sec": "s", "second": "s", "seconds": "s", "min": "min", "minute": "min", "minutes": "min",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "day": "day", "days": "day",
    "week": "week", "weeks": "week", "month": "month", "months": "month", "year": "year", "years": "year",
    "g": "g", "gram": "g", "grams": "g", "kg": "kg", "kilogram": "kg", "kilograms": "kg",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "oz": "oz", "ounce": "oz", "ounces": "oz",
    "l": "l", "liter": "l", "liters": "l", "litre": "l", "litres": "l", "ml": "ml", "milliliter": "ml",
    "milliliters": "ml", "gallon": "gal", "gallons": "gal",
    "dollar": "dollar", "dollars": "dollar", "cent": "cent", "cents": "cent",
    "unit": "unit", "units": "unit", "square units": "unit^2", "sq units": "unit^2", "cubic units": "unit^3",
    "people": "people", "students": "students", "apples": "apples",
}
_GENERIC_UNITS = {"dollar"}  # "$5" and "5" and "5 dollars" are the same answer

_TEXT_WRAP = re.compile(r"\\(?:text|textbf|textit|mbox|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}")
_BASE_N = re.compile(r"^([0-9A-Za-z]+)_\{?(\d+)\}?$")
_LABEL = re.compile(r"^[A-Za-z\\(),:\s'{}_0-9]*$")
_MATRIX_ENV = re.compile(
    r"^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^{}]*\})?((?:(?!\\begin|\\end).)*)\\end\{\1\}$", re.DOTALL
)
_KNOWN_WORDS = {"pi", "infty", "inf", "sin", "cos", "tan", "ln", "log", "sqrt", "exp"}


def normalize(text: str) -> str:
    """Spacing, delimiters and notation variants that never change an answer's meaning."""
    s = text.strip()
    m = re.fullmatch(r"\\boxed\s*\{(.*)\}", s, re.DOTALL)
    if m:
        s = m.group(1)
    s = s.replace("\\$", "").replace("$", "")
    s = s.replace("{,}", "").replace("\\{,\\}", "")
    s = re.sub(r"(\d),\s*\\!\s*(\d)", r"\1\2", s)  # 32,\!349: a thousands separator
    s = latex_cleanup(s)
    s = s.replace("\\!", "")
    s = re.sub(r"\s+", " ", s).strip()
    s = s.rstrip(".").strip() if not re.search(r"\d\.$", s) else s[:-1]
    s = s.replace("≤", "\\leq").replace("≥", "\\geq").replace("−", "-").replace("·", "\\cdot")
    s = s.replace("\\lt", "<").replace("\\gt", ">").replace("\\dots", "").replace("\\ldots", "")
    # a whole number written with thousands separators: 1,000,000 / 1 000 / 1,000.99
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s) or re.fullmatch(r"-?\d{1,3}( \d{3})+(\.\d+)?", s):
        s = s.replace(",", "").replace(" ", "")
    return s


def _split_top(s: str, separators: tuple[str, ...]) -> list[str]:
    """Split on separators that are outside every bracket (``(``, ``[``, ``{``, ``\\{``)."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(s):
        ch = s[i]
        if s.startswith("\\{", i):
            depth += 1
            i += 2
            continue
        if s.startswith("\\}", i):
            depth -= 1
            i += 2
            continue
        if s.startswith("\\begin", i):
            depth += 1
        elif s.startswith("\\end", i):
            depth -= 1
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            for sep in separators:
                if s.startswith(sep, i) and _is_separator(s, i, sep):
                    parts.append(s[start:i])
                    i += len(sep)
                    start = i
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    parts.append(s[start:])
    return [p.strip() for p in parts]


def _is_separator(s: str, i: int, sep: str) -> bool:
    if sep in ("=", "<", ">"):
        # not part of <=, >=, \neq, ==
        before = s[i - 1] if i else ""
        after = s[i + len(sep)] if i + len(sep) < len(s) else ""
        if sep == "=" and (before in "<>!=" or after == "="):
            return False
        if sep in "<>" and after == "=":
            return False
    if sep.startswith("\\") and sep[-1].isalpha():
        after = s[i + len(sep)] if i + len(sep) < len(s) else ""
        return not after.isalpha()
    return True


def _enclosed(s: str, open_: str, close: str) -> bool:
    """Whether ``s`` is one bracket group from its first to its last character."""
    if not (s.startswith(open_) and s.endswith(close)):
        return False
    depth = 0
    i = 0
    while i < len(s):
        if s.startswith("\\{", i) or s.startswith("\\}", i):
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
        else:
            if s[i] in "([{":
                depth += 1
            elif s[i] in ")]}":
                depth -= 1
            i += 1
        if depth == 0 and i < len(s):
            return False
    return depth == 0


def _strip_units(s: str) -> tuple[str, str | None, bool]:
    """Split ``value unit`` into the value, a normalised unit (or None) and whether it was a percent."""
    percent = False
    # a degree sign ending the answer is a unit; inside an expression (\sin 60^\circ) it means pi/180
    s = re.sub(r"(?:\^\s*\{?\s*\\circ\s*\}?|°|\\text\{\s*degrees?\s*\}|\s+degrees?)\s*$", "", s).strip()
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|°", r"\\cdot\\frac{\\pi}{180}", s)
    new = re.sub(r"\\%|%|\\text\{\s*percent\s*\}|\s+percent$", "", s).strip()
    if new != s:
        percent, s = True, new
    unit = None
    m = re.match(r"^(.*?)\s*\\(?:text|mbox|mathrm)\s*\{\s*([A-Za-z][A-Za-z .]*?)\s*\}\s*(\^\s*\{?\d\}?)?$", s)
    if m and m.group(1).strip():
        word = m.group(2).strip().lower().rstrip(".")
        unit = _UNIT_WORDS.get(word, word) + (re.sub(r"[^\d]", "", m.group(3)) and "^" + re.sub(r"[^\d]", "", m.group(3)) if m.group(3) else "")
        s = m.group(1).strip()
    else:
        m = re.match(r"^(.*?[\d})])\s+([A-Za-z][A-Za-z ]*?)(\^\s*\{?\d\}?)?$", s)
        if m and m.group(2).strip().lower() in _UNIT_WORDS:
            unit = _UNIT_WORDS[m.group(2).strip().lower()]
            if m.group(3):
                unit += "^" + re.sub(r"[^\d]", "", m.group(3))
            s = m.group(1).strip()
    if unit in _GENERIC_UNITS:
        unit = None
    return s, unit, percent


def _is_text(raw: str) -> str | None:
    m = re.fullmatch(r"\\(?:text|textbf|textit|mbox|mathrm)\s*\{([^{}]*)\}", raw)
    if m:
        return m.group(1).strip()
    if re.fullmatch(r"\(?[A-Za-z][A-Za-z ]*[A-Za-z]\)?", raw) and len(raw.replace(" ", "")) >= 3:
        word = raw.strip("() ")
        if word.lower() not in _KNOWN_WORDS and not re.fullmatch(r"[a-z]\s?[a-z]", word):
            return word
    return None


def is_label(lhs: str) -> bool:
    """Whether the left side of ``lhs = value`` only names the answer (``x``, ``f(x)``, ``(p,q,r)``)."""
    bare = re.sub(r"_\{[^{}]*\}|_\w", "", lhs)
    return bool(_LABEL.match(lhs)) and not re.search(r"\d", bare) and bool(re.search(r"[A-Za-z]", bare))


def parse_answer(text: str) -> Node:
    """The shape of one answer (see the module doc)."""
    return _parse(normalize(text), top=True)


def _parse(s: str, top: bool = False) -> Node:
    s = s.strip()
    text = _is_text(s)
    if text is not None:
        return Text(text)
    # "or" / "and" written out separate solutions
    s = re.sub(r"\\(?:text|mbox)\{\s*(?:or|and)\s*\}", ",", s)
    s = re.sub(r"\s+(?:or|and)\s+", ",", s)
    s = re.sub(r",\s*(?:,\s*)+", ",", s).strip(" ,")
    s = _TEXT_WRAP.sub(lambda m: m.group(0) if _looks_like_unit(m.group(1)) else m.group(1), s)
    m = _BASE_N.match(s)
    if m and _valid_base(m.group(1), int(m.group(2))):
        return BaseN(m.group(1).upper(), int(m.group(2)))
    m = re.match(r"^[A-Za-z](?:_\{?\w+\}?)?\s*\\in\s*(.+)$", s)
    if m:
        return _parse(m.group(1))
    if s in ("\\emptyset", "\\varnothing", "∅", "\\{\\}"):
        return SetOf(())
    union = _split_top(s, ("\\cup", "∪"))
    if len(union) > 1:
        return UnionOf(tuple(_parse(p) for p in union))
    items = _split_top(s, (",", ";"))
    if len(items) > 1:
        return _set_of(items)
    if _enclosed(s, "\\{", "\\}"):
        return _set_of(_split_top(s[2:-2].strip(), (",", ";")))
    for open_ in "([":
        for close in ")]":
            if _enclosed(s, open_, close) if open_ + close in ("()", "[]") else _loose_enclosed(s, open_, close):
                inner = s[1:-1].strip()
                parts = _split_top(inner, (",",))
                if len(parts) > 1:
                    return Bracketed(open_, close, tuple(_parse(p) for p in parts))
                if open_ + close == "()" or (open_ + close == "[]" and "\\begin" in inner):
                    return _parse(inner)
    m = _MATRIX_ENV.match(s)
    if m:
        body = m.group(2).strip()
        rows = [r for r in re.split(r"\\\\", body) if r.strip()]
        return Matrix(tuple(tuple(c.strip() for c in r.split("&")) for r in rows))
    if _enclosed(s, "(", ")") and "\\begin" in s:
        return _parse(s[1:-1])
    if "\\begin" in s:
        return Expression(s)
    if "\\pm" in s or "±" in s or "\\mp" in s:
        plus = re.sub(r"\\pm|±|\\mp", "+", s, count=1)
        minus = re.sub(r"\\pm|±|\\mp", "-", s, count=1)
        return SetOf((_parse(plus), _parse(minus)))
    ineq = _split_top(s, ("\\leq", "\\geq", "<=", ">=", "<", ">", "\\neq"))
    if len(ineq) > 1:
        ops = re.findall(r"\\leq|\\geq|<=|>=|\\neq|<|>", _outside_brackets(s))
        if len(ops) == len(ineq) - 1:
            return _relation(ineq, ops)
    eq = _split_top(s, ("=",))
    if len(eq) == 2:
        return Equation(eq[0], eq[1])
    if len(eq) > 2:
        return Equation(eq[-2], eq[-1])  # a = b = value: the last two carry the answer
    value, unit, percent = _strip_units(s)
    m = re.fullmatch(r"(-?\d+)(?:\s*\\frac\{(\d+)\}\{(\d+)\}|\s+(\d+)/(\d+))", value)
    if m:  # a mixed number 1\frac12 or "1 1/2"
        num, den = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
        whole = int(m.group(1))
        sign = -1 if m.group(1).startswith("-") else 1
        value = f"{sign}*({abs(whole)}+{num}/{den})"
    return Scalar(value, unit, percent)


def _set_of(items: list[str]) -> SetOf:
    """An unordered set; a ``\\pm`` element contributes both of its values."""
    out: list[Node] = []
    for item in items:
        if not item:
            continue
        node = _parse(item)
        out.extend(node.items if isinstance(node, SetOf) else [node])
    return SetOf(tuple(out))


def _loose_enclosed(s: str, open_: str, close: str) -> bool:
    """Half-open interval brackets ``[a, b)`` / ``(a, b]``: match them as one group."""
    if not (s.startswith(open_) and s.endswith(close)):
        return False
    probe = "(" + s[1:-1] + ")"
    return _enclosed(probe, "(", ")")


def _outside_brackets(s: str) -> str:
    out = []
    depth = 0
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
            continue
        out.append(" ")
    return "".join(out)


def _relation(parts: list[str], ops: list[str]) -> Relation:
    canon = {"\\leq": "<=", "\\geq": ">=", "<=": "<=", ">=": ">=", "<": "<", ">": ">", "\\neq": "!="}
    ops = [canon[o] for o in ops]
    if ops and all(o in (">", ">=") for o in ops):
        parts = parts[::-1]
        ops = [{">": "<", ">=": "<="}[o] for o in ops[::-1]]
    return Relation(tuple(parts), tuple(ops))


def _looks_like_unit(word: str) -> bool:
    return word.strip().lower() in _UNIT_WORDS or word.strip().lower() in {"degrees", "degree", "percent"}


def _valid_base(digits: str, base: int) -> bool:
    if not 2 <= base <= 36:
        return False
    try:
        int(digits, base)
    except ValueError:
        return False
    return True
