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
