"""Prompt rendering and output parsing speed.

Rendering: agentcore's ``render_prompt`` against transformers' own chat-template renderer
(``render_jinja_template``, what ``apply_chat_template`` calls) running the same template text on the same
conversations (every golden conversation of tests/data/chatml_golden.jsonl), time per conversation.
Parsing: ``parse_output`` throughput in MB/s over the tool-call fixture, and over 1 MB of pathological
input (thousands of unclosed tags, deep braces).

Run: .venv/bin/python benchmarks/bench_render_parse.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentcore.families import get_family  # noqa: E402
from agentcore.parsing import parse_output  # noqa: E402
from agentcore.prompting import prompts_dir, render_prompt  # noqa: E402


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (ROOT / "tests" / "data" / name).read_text().splitlines() if line.strip()]


def per_call(fn, rows, repeats: int = 5) -> float:
    """Median over repeats of the mean seconds per row."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for row in rows:
            fn(row)
        samples.append((time.perf_counter() - start) / len(rows))
    return statistics.median(samples)


def bench_render() -> None:
    rows = load("chatml_golden.jsonl")
    for row in rows:  # warm both template caches
        render_prompt(row["messages"], family=row["template_family"], tools=row["tools"], **row["kwargs"])

    def ours(row):
        render_prompt(row["messages"], family=row["template_family"], tools=row["tools"], **row["kwargs"])

    try:
        from transformers.utils.chat_template_utils import render_jinja_template
    except ImportError:
        render_jinja_template = None

    sources = {}
    for row in rows:
        fam = get_family(row["template_family"])
        sources[fam.name] = (prompts_dir() / "chat" / fam.template).read_text()

    def theirs(row):
        # transformers 5's own preprocessing: None-valued keys dropped, as apply_chat_template does
        messages = [{k: v for k, v in m.items() if v is not None} for m in row["messages"]]
        render_jinja_template(
            conversations=[messages], tools=row["tools"], chat_template=sources[row["template_family"]],
            **row["kwargs"],
        )

    print(f"Prompt rendering, {len(rows)} golden conversations, time per conversation (median of 5 passes)")
    ours_s = per_call(ours, rows)
    print(f"  {'agentcore render_prompt':<44}{ours_s * 1e6:>9.1f} µs")
    if render_jinja_template is None:
        print("  transformers: not installed")
        return
    for row in rows:
        theirs(row)
    theirs_s = per_call(theirs, rows)
    print(f"  {'transformers render_jinja_template':<44}{theirs_s * 1e6:>9.1f} µs")
    print(f"  {'speed-up':<44}{theirs_s / ours_s:>9.2f}x")


def bench_parse() -> None:
    rows = load("toolcalls.jsonl")
    texts = [(r["raw"], r["format"]) for r in rows]
    size = sum(len(t.encode()) for t, _ in texts)
    loops = max(1, 2_000_000 // size)
    start = time.perf_counter()
    for _ in range(loops):
        for text, fmt in texts:
            parse_output(text, format=fmt)
    elapsed = time.perf_counter() - start
    print(f"\nParsing throughput ({len(rows)} fixture outputs x {loops})")
    print(f"  {'fixture outputs':<44}{size * loops / elapsed / 1e6:>9.2f} MB/s")
    patho = {
        "1 MB of unclosed <tool_call>": "<tool_call>{" * (1_000_000 // 12),
        "1 MB of unclosed <think>": "<think>" * (1_000_000 // 7),
        "1 MB of nested braces in a call": "<tool_call>" + "{" * 500_000 + "}" * 499_000 + "</tool_call>",
        "1 MB of XML parameters": "<tool_call><function=f>" + "<parameter=p>x" * (1_000_000 // 14),
    }
    for name, text in patho.items():
        fmt = "qwen3_coder" if "XML" in name else "hermes"
        start = time.perf_counter()
        parse_output(text, format=fmt)
        elapsed = time.perf_counter() - start
        print(f"  {name:<44}{len(text) / elapsed / 1e6:>9.2f} MB/s")


if __name__ == "__main__":
    bench_render()
    bench_parse()
