"""Terminal output helpers shared by commands: dim/bold when writing to a terminal, plain otherwise."""

from __future__ import annotations

import os
import sys
from typing import TextIO


def styled(text: str, style: str, stream: TextIO | None = None) -> str:
    """``text`` wrapped in an ANSI style (``dim``, ``bold``, ``red``, ``green``, ``cyan``) on a terminal.

    ``stream`` is where the text goes (default: the current ``sys.stdout``, looked up at each call).
    """
    stream = sys.stdout if stream is None else stream
    codes = {"dim": "2", "bold": "1", "red": "31", "green": "32", "cyan": "36", "yellow": "33"}
    if not stream.isatty() or os.environ.get("NO_COLOR"):
        return text
    return f"\033[{codes[style]}m{text}\033[0m"


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain-text table with aligned columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)
