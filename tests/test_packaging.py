"""The wheel: templates inside it, first-party plugins as their own packages, entry points registered."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    (path,) = out.glob("qwen_agentcore-*.whl")
    return path


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for family in ("qwen2.5", "qwen2.5-math", "qwen2.5-vl", "qwq", "qwen3", "qwen3-coder", "chatml"):
        assert f"agentcore/prompts/chat/{family}.jinja" in names
    for plugin in ("agentcore_sympy", "agentcore_sandbox", "agentcore_code"):
        assert f"{plugin}/plugin.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[agentcore]" in text and "sympy = agentcore_sympy.plugin" in text
    assert "[pytest11]" in text and "[console_scripts]" in text


def test_installed_wheel_finds_its_templates(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    code = (
        "import agentcore, agentcore.prompting as p; "
        "print(agentcore.__file__); print(p.prompts_dir()); "
        "print(p.render_prompt([{'role': 'user', 'content': 'hi'}], family='qwen3', add_generation_prompt=True))"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    module_file, prompts, *prompt = out.stdout.splitlines()
    assert module_file.startswith(str(target)) and prompts.startswith(str(target))
    assert "\n".join(prompt) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
