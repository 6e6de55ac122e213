"""Generated sections of hand-written docs: the text between two markers is rewritten from the code.

Both doc generators (``gen_hooks_doc.py``, ``gen_cli_doc.py``) use :func:`updated` to fill their
section and :func:`main` for the command line (rewrite, or ``--check`` for CI).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def updated(text: str, doc: Path, start: str, end: str, render: Callable[[], str]) -> str:
    """``text`` with the section between ``start`` and ``end`` replaced by ``render()``'s."""
    if start not in text or end not in text:
        raise SystemExit(f"{doc} has no {start} ... {end} section to fill")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + render() + tail


def main(argv: list[str] | None, *, description: str, doc: Path, script: str, fill: Callable[[str], str]) -> int:
    """Rewrite ``doc``'s section with ``fill`` (or, with ``--check``, exit 1 when it is stale)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when the section is stale")
    args = parser.parse_args(argv)
    text = doc.read_text(encoding="utf-8")
    new = fill(text)
    if args.check:
        if new != text:
            print(f"{doc.relative_to(ROOT)} is out of date: run scripts/{script}", file=sys.stderr)
            return 1
        return 0
    if new != text:
        doc.write_text(new, encoding="utf-8")
        print(f"updated {doc.relative_to(ROOT)}")
    return 0
