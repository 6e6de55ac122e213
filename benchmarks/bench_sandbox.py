"""Start-to-result latency of the sandbox: ``print(1)`` under each isolation level vs a plain subprocess.

Usage: ``python benchmarks/bench_sandbox.py [-n 30]``. Prints a table of median / p90 milliseconds.
Target: the ``full`` level under 100 ms per run on a developer machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from agentcore_sandbox import ISOLATION_ORDER, default_python, detect, run_python

TARGET_MS = 100.0


def _time(fn, n: int) -> list[float]:
    fn()  # warm-up: the first run also probes the machine
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="runs per row (default 30)")
    args = parser.parse_args()
    python = default_python()
    report = detect(python)

    def plain() -> None:
        proc = subprocess.run([python, "-c", "print(1)"], capture_output=True, text=True)
        assert proc.stdout == "1\n"

    rows: list[tuple[str, list[float]]] = [(f"plain subprocess ({python} -c)", _time(plain, args.n))]
    for level in reversed(ISOLATION_ORDER):
        if level not in report.available:
            rows.append((f"sandbox {level} (unavailable: {report.problems.get(level, '?')[:40]})", []))
            continue

        def sandboxed(level: str = level) -> None:
            result = run_python("print(1)", isolation=level, min_isolation="rlimits")
            assert result.stdout == "1\n", result

        rows.append((f"sandbox {level}", _time(sandboxed, args.n)))

    width = max(len(name) for name, _ in rows)
    print(f"{'what':<{width}}  {'median ms':>9}  {'p90 ms':>7}  {'runs':>4}")
    print("-" * (width + 27))
    for name, times in rows:
        if not times:
            print(f"{name:<{width}}  {'-':>9}  {'-':>7}  {0:>4}")
            continue
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
        print(f"{name:<{width}}  {statistics.median(times):>9.1f}  {p90:>7.1f}  {len(times):>4}")
    full = dict(rows).get("sandbox full")
    if full:
        verdict = "meets" if statistics.median(full) < TARGET_MS else "MISSES"
        print(f"\nfull isolation {verdict} the {TARGET_MS:.0f} ms target (median {statistics.median(full):.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
