"""The first-party plugins in one run, side by side: sandbox latency and verifier throughput.

1. Sandbox: start-to-result latency of ``print(1)`` in the sandbox (each isolation level) against a
   plain subprocess (target: under 100 ms at the ``full`` level).
2. Verifier: pairs per second, correct answers and false positives of ``answers_equal`` against
   Math-Verify on tests/data/math_equiv.jsonl.

Run: .venv/bin/python benchmarks/bench_plugins.py  (each part alone: bench_sandbox.py, bench_verifier.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_sandbox  # noqa: E402
import bench_verifier  # noqa: E402


def main() -> int:
    print("== Sandbox: start-to-result latency of print(1)")
    sys.argv = [sys.argv[0], "-n", "20"]
    code = bench_sandbox.main()
    print("\n== Verifier: answers_equal against Math-Verify")
    return code or bench_verifier.main([])


if __name__ == "__main__":
    raise SystemExit(main())
