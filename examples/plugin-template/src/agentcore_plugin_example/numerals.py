"""Roman numerals, both ways: the work behind the ``roman_numerals`` tool. Plain Python, no agentcore."""

from __future__ import annotations

import re

_VALUES = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
# The canonical form: at most three of a symbol in a row, subtractive pairs only where allowed.
_CANONICAL = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")


def to_roman(number: int) -> str:
    """``1994`` → ``"MCMXCIV"``; numbers from 1 to 3999 have a Roman form."""
    if not 1 <= number <= 3999:
        raise ValueError(f"{number} has no standard Roman form: give a whole number from 1 to 3999")
    out = []
    for value, symbol in _VALUES:
        count, number = divmod(number, value)
        out.append(symbol * count)
    return "".join(out)


def from_roman(text: str) -> int:
    """``"MCMXCIV"`` → ``1994``; case and surrounding spaces are ignored, non-canonical forms rejected."""
    numeral = text.strip().upper()
    if not numeral or not _CANONICAL.fullmatch(numeral):
        raise ValueError(
            f"{text!r} is not a standard Roman numeral (symbols I V X L C D M, e.g. XIV, MCMXCIV; "
            "at most three of a symbol in a row)"
        )
    total, i = 0, 0
    for value, symbol in _VALUES:
        while numeral.startswith(symbol, i):
            total += value
            i += len(symbol)
    return total
