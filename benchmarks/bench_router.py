"""Router speed and accuracy: the rule router over the labelled fixture (and its own extra tasks).

Run: ``python benchmarks/bench_router.py``. Prints a table: tasks, accuracy, and microseconds per route
(median of several passes), for the fixture and for the extra English/Chinese/Spanish tasks of the tests.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rows() -> dict[str, list[tuple[str, int, str]]]:
    fixture = [
        (r["task"], r["images"], r["specialist"])
        for r in map(json.loads, (ROOT / "tests" / "data" / "routing.jsonl").read_text(encoding="utf-8").splitlines())
    ]
    sys.path.insert(0, str(ROOT / "tests"))
    from test_router import EXTRA_TASKS  # the tests' hand-labelled tasks

    return {"fixture": fixture, "extra (en/zh/es)": [(t, i, s) for t, i, s, _ in EXTRA_TASKS]}


def main() -> None:
    os.environ.setdefault("AGENTCORE_PLUGINS", "")
    from agentcore.router import route_by_rules
    from agentcore.specialists import all_specialists

    specialists = all_specialists()
    print(f"{'set':<18} {'tasks':>5} {'right':>5} {'accuracy':>8} {'us/route':>9}")
    for name, rows in _rows().items():
        right = sum(route_by_rules(t, i, specialists).specialist == s for t, i, s in rows)
        passes = []
        for _ in range(5):
            start = time.perf_counter()
            for t, i, _s in rows:
                route_by_rules(t, i, specialists)
            passes.append((time.perf_counter() - start) / len(rows) * 1e6)
        print(f"{name:<18} {len(rows):>5} {right:>5} {right / len(rows):>8.1%} {statistics.median(passes):>9.0f}")


if __name__ == "__main__":
    main()
