"""examples/plugin-template is a working third-party plugin: installed with pip, agentcore finds it.

The package is installed offline into a temporary folder (``pip install --no-deps --no-build-isolation
--target``: hatchling, its build backend, is already in agentcore's environment) and used from
subprocesses with that folder on ``PYTHONPATH``, exactly as an installed plugin is found: by its entry
point in the ``agentcore`` group. Nothing is installed into the test environment itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "examples" / "plugin-template"
AGENTCORE = [sys.executable, "-m", "agentcore"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("plugin-site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(TEMPLATE)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout}\n{proc.stderr}"
    return target


def _env(site: Path, plugins: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    env.pop("AGENTCORE_PLUGINS", None)
    if plugins is not None:
        env["AGENTCORE_PLUGINS"] = plugins
    return env


def _run(cmd: list[str], site: Path, plugins: str | None = "example", cwd: Path = ROOT) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=_env(site, plugins), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_the_package_installs_with_its_entry_point(installed: Path) -> None:
    (dist,) = installed.glob("agentcore_plugin_example-*.dist-info")
    entry_points = (dist / "entry_points.txt").read_text()
    assert "[agentcore]" in entry_points and "example = agentcore_plugin_example.plugin" in entry_points


def test_agentcore_plugins_lists_it(installed: Path) -> None:
    out = _run([*AGENTCORE, "plugins"], installed)
    assert "example (agentcore-plugin-example 0.1.0)" in out
    assert "tools: roman_numerals" in out
    report = json.loads(_run([*AGENTCORE, "plugins", "--json"], installed))
    (entry,) = [e for e in report if e["name"] == "example"]
    assert entry["hooks"] == ["agentcore_register_specialists", "agentcore_register_tools"]


def test_it_loads_beside_every_other_plugin(installed: Path) -> None:
    """With AGENTCORE_PLUGINS unset every installed plugin loads, the example among them, without a clash."""
    out = _run([*AGENTCORE, "tools"], installed, plugins=None)
    assert "roman_numerals  [example]" in out


def test_an_agent_uses_its_tool_and_specialist(installed: Path) -> None:
    script = r'''
import json
from agentcore import Agent, route
from agentcore.testing import ScriptedBackend

decision = route("Write 1994 in Roman numerals.")
call = '<tool_call>\n{"name": "roman_numerals", "arguments": {"value": "1994"}}\n</tool_call>'
agent = Agent(backend=ScriptedBackend([call, "1994 is MCMXCIV."], family="qwen3"), specialist=decision.specialist)
result = agent.run("Write 1994 in Roman numerals.")
print(json.dumps({"specialist": decision.specialist, "tools": sorted(agent.tools),
                  "tool_result": result.steps[0].tool_results[0].content, "answer": result.answer}))
'''
    out = json.loads(_run([sys.executable, "-c", script], installed))
    assert out == {"specialist": "numerals", "tools": ["roman_numerals"], "tool_result": "1994 = MCMXCIV",
                   "answer": "1994 is MCMXCIV."}


def test_the_templates_own_tests_pass(installed: Path) -> None:
    out = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], installed, cwd=TEMPLATE)
    assert " passed" in out and "skipped" not in out  # the entry-point test ran: the plugin is installed
