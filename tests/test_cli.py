"""The command line: instant --help, render, plugins, tools, run on a scripted backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


from agentcore.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_help_imports_nothing_heavy():
    code = (
        "import sys; from agentcore.cli import build_parser; build_parser().format_help(); "
        "heavy = [m for m in ('torch', 'transformers', 'tree_sitter', 'sympy', 'xgrammar', 'httpx', 'uvicorn') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "agentcore", "--help"], capture_output=True, text=True, check=True)
    for command in ("run", "render", "plugins", "tools"):
        assert command in out.stdout


def test_render_prints_the_exact_prompt(tmp_path, capsys):
    rows = [json.loads(line) for line in (ROOT / "tests/data/chatml_golden.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["tools"] and r["template_family"] == "qwen3")
    path = tmp_path / "conv.json"
    path.write_text(json.dumps({"messages": row["messages"], "tools": row["tools"]}))
    flags = ["--generation-prompt"] if row["kwargs"].get("add_generation_prompt") else []
    if row["kwargs"].get("enable_thinking") is False:
        flags.append("--no-thinking")
    assert main(["render", str(path), "--model", "Qwen/Qwen3-8B", *flags]) == 0
    assert capsys.readouterr().out == row["expected"]


def test_render_errors_are_one_line(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["render", str(path), "--family", "qwen3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("agentcore: error:") and "not valid JSON" in err and "Traceback" not in err
    path.write_text("[]")
    assert main(["render", str(path), "--model", "acme/unknown-7b"]) == 1
    assert "pass family=" in capsys.readouterr().err


def test_plugins_and_tools_list_sources(capsys):
    from agentcore.hookspecs import hookimpl
    from agentcore.plugins import register_plugin
    from agentcore.tools import tool

    @tool
    def ping(host: str) -> str:
        """Ping a host."""
        return host

    class P:
        @hookimpl
        def agentcore_register_tools(self, register):
            register(ping)

    register_plugin(P(), name="netplug")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "netplug" in out and "agentcore_register_tools" in out and "ping" in out
    assert main(["tools", "--json"]) == 0
    tools = json.loads(capsys.readouterr().out)
    assert tools[0]["function"]["name"] == "ping" and tools[0]["source"] == "netplug"


def test_first_party_plugins_listed_when_allowed():
    env = dict(os.environ, AGENTCORE_PLUGINS="sympy,code,sandbox")
    out = subprocess.run([sys.executable, "-m", "agentcore", "plugins", "--json"], capture_output=True, text=True,
                         env=env, check=True)
    names = {p["name"] for p in json.loads(out.stdout)}
    assert {"sympy", "code", "sandbox"} <= names


def _scripted_backend_plugin(completions):
    from agentcore.hookspecs import hookimpl
    from agentcore.testing import ScriptedBackend
    from agentcore.tools import tool

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    class P:
        @hookimpl
        def agentcore_register_backends(self, register):
            register("scripted", lambda **kw: ScriptedBackend(completions))

        @hookimpl
        def agentcore_register_tools(self, register):
            register(add)

    return P()


def test_run_streams_calls_results_and_answer(capsys):
    from agentcore.plugins import register_plugin

    call = '<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>'
    register_plugin(_scripted_backend_plugin([call, "The sum is 5."]), name="t")
    assert main(["run", "--backend", "scripted", "--specialist", "general", "What is 2 + 3?"]) == 0
    captured = capsys.readouterr()
    assert '→ add({"a": 2, "b": 3})' in captured.out
    assert "← add: 5" in captured.out
    assert captured.out.rstrip().endswith("The sum is 5.")
    assert "specialist: general" in captured.err


def test_run_json_routes_and_reports(capsys):
    from agentcore.plugins import register_plugin

    register_plugin(_scripted_backend_plugin(["x = 2"]), name="t")
    assert main(["run", "--backend", "scripted", "--json", "Solve 3x + 1 = 7 for x."]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["status"] == "final" and result["answer"] == "x = 2" and result["specialist"] == "math"
    assert "specialist: math" in captured.err


def test_unknown_backend_is_a_clear_error(capsys):
    assert main(["run", "--backend", "nope", "--specialist", "general", "hi"]) == 1
    assert "no backend named 'nope'" in capsys.readouterr().err


def test_a_missing_image_is_reported_before_any_model_loads(capsys, tmp_path):
    missing = tmp_path / "chart.png"
    assert main(["run", "--image", str(missing), "What trends do you see?"]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and str(missing) in err and "Traceback" not in err


def test_an_unexpected_error_is_one_line_unless_debug(capsys):
    from agentcore.hookspecs import hookimpl
    from agentcore.plugins import register_plugin

    class Broken:
        @hookimpl
        def agentcore_register_backends(self, register):
            register("broken", lambda **kw: (_ for _ in ()).throw(ZeroDivisionError("oops")))

    register_plugin(Broken(), name="broken")
    assert main(["run", "--backend", "broken", "--specialist", "general", "hi"]) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError: oops" in err and "--debug" in err and "Traceback" not in err
    import pytest

    with pytest.raises(ZeroDivisionError):
        main(["--debug", "run", "--backend", "broken", "--specialist", "general", "hi"])
