"""End to end: ``agentcore run`` offline on the embedded model, through the real tool loop.

A required tool call (constrained by the grammar, so even the 135M model makes a valid one), the tool
runs, and the model answers. This is the README's main-job command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers.embedded import embedded_cache_dir

pytestmark = pytest.mark.slow


def test_agentcore_run_offline_on_the_embedded_model():
    env = dict(os.environ)
    env.update({
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "AGENTCORE_CACHE_DIR": str(embedded_cache_dir()),
        "AGENTCORE_PLUGINS": "sympy",
    })
    env.pop("AGENTCORE_MODEL", None)
    cmd = [
        sys.executable, "-m", "agentcore", "run", "--model", "embedded", "--specialist", "general",
        "--tool-choice", "required", "--tool", "math_factor", "--greedy", "--max-new-tokens", "96",
        "--max-steps", "3", "--json", "Factor 391 into primes. Use the math_factor tool.",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    calls = [c for step in result["steps"] for c in step["tool_calls"]]
    results = [r for step in result["steps"] for r in step["tool_results"]]
    assert calls and calls[0]["name"] == "math_factor"
    assert any(r.get("ok") for r in results), results  # the tool ran
    assert "17 * 23" in json.dumps(results)  # the tool really factored 391
    assert result["status"] in ("final", "max_steps") and result["answer"], result
    assert result["usage"]["completion_tokens"] > 0 and result["usage"]["calls"] >= 2


def _makefile_main_job() -> tuple[list[str], str]:
    """The README's main-job command, as the Makefile's ``run`` target spells it."""
    import re
    import shlex
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    flags = re.search(r"^RUN_FLAGS\s*:=\s*(.+)$", makefile, re.M).group(1)
    task = re.search(r"^TASK\s*\?=\s*(.+)$", makefile, re.M).group(1).strip()
    assert '$(VENV)/bin/agentcore run $(RUN_FLAGS) "$(TASK)"' in makefile
    return shlex.split(flags), task


def test_the_readme_main_job_routes_falls_back_and_calls_a_tool():
    flags, task = _makefile_main_job()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               AGENTCORE_CACHE_DIR=str(embedded_cache_dir()))
    for name in [k for k in env if k.startswith("AGENTCORE_") and k != "AGENTCORE_CACHE_DIR"]:
        env.pop(name)  # every installed plugin, no configured model: what a fresh machine has
    cmd = [sys.executable, "-m", "agentcore", "run", *flags, "--json", task]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "specialist: math" in proc.stderr
    assert "using the embedded default model instead" in proc.stderr  # one-line fallback notice
    assert "Traceback" not in proc.stderr
    result = json.loads(proc.stdout)
    first = result["steps"][0]
    assert first["tool_calls"] and first["tool_calls"][0]["name"].startswith("math_")
    assert first["tool_results"][0]["ok"], first["tool_results"]
    assert result["status"] in ("final", "max_steps") and result["answer"]
