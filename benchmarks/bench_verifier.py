"""Math answer verifiers on the equivalence fixture: speed, correct verdicts and false positives.

Compares agentcore_sympy's ``answers_equal`` with Math-Verify (``pip install math-verify``; skipped
when it is not installed). Run: ``python benchmarks/bench_verifier.py [path/to/math_equiv.jsonl]``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / "math_equiv.jsonl"


def ours() -> Callable[[str, str], bool]:
    from agentcore_sympy import answers_equal
    from agentcore_sympy.equivalence import warm_up

    warm_up()
    return lambda pred, gold: answers_equal(pred, gold).equal


def math_verify() -> Callable[[str, str], bool] | None:
    try:
        from math_verify import parse, verify
    except ImportError:
        return None

    def judge(pred: str, gold: str) -> bool:
        try:
            # Math-Verify expects delimited LaTeX; verify(gold, pred) is its documented argument order.
            return bool(verify(parse(f"${gold}$"), parse(f"${pred}$")))
        except Exception:
            return False

    judge("1", "1")  # warm up its imports
    return judge


def run(name: str, judge: Callable[[str, str], bool], rows: list[dict]) -> tuple[str, float, int, int, int]:
    start = time.perf_counter()
    verdicts = [judge(row["pred"], row["gold"]) for row in rows]
    elapsed = time.perf_counter() - start
    correct = sum(v == row["equal"] for v, row in zip(verdicts, rows))
    false_pos = sum(v and not row["equal"] for v, row in zip(verdicts, rows))
    false_neg = sum(not v and row["equal"] for v, row in zip(verdicts, rows))
    return name, len(rows) / elapsed, correct, false_pos, false_neg


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else FIXTURE
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    results = [run("agentcore_sympy", ours(), rows)]
    mv = math_verify()
    if mv is None:
        print("math-verify is not installed: pip install math-verify (its row is skipped)\n")
    else:
        results.append(run("math-verify", mv, rows))
    print(f"{len(rows)} pairs from {path.name}\n")
    print(f"{'verifier':<18}{'pairs/s':>10}{'correct':>10}{'false pos':>11}{'false neg':>11}")
    for name, rate, correct, fp, fn in results:
        print(f"{name:<18}{rate:>10.1f}{correct:>7}/{len(rows):<3}{fp:>10}{fn:>11}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
