"""The plugin system: entry-point discovery, the AGENTCORE_PLUGINS switch, registries, collisions."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agentcore.hookspecs import hookimpl
from agentcore.plugins import (
    PluginError,
    ToolNameCollisionError,
    get_plugin_manager,
    plugin_report,
    register_plugin,
    registered_backends,
    registered_tools,
    reset_plugin_manager,
)
from agentcore.tools import tool


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install (on sys.path) a distribution with two agentcore entry points, like a pip-installed plugin."""

    def make(name: str, modules: dict[str, str], entry_points: dict[str, str]) -> None:
        for mod, code in modules.items():
            (tmp_path / f"{mod}.py").write_text(textwrap.dedent(code))
        info = tmp_path / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
        (info / "entry_points.txt").write_text(f"[agentcore]\n{lines}\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        for mod in modules:
            sys.modules.pop(mod, None)

    return make


PLUGIN_A = """
from agentcore import hookimpl, tool

@tool
def shout(text: str) -> str:
    '''Upper-case text.'''
    return text.upper()

@hookimpl
def agentcore_register_tools(register):
    register(shout)
"""

PLUGIN_B = """
from agentcore import hookimpl, tool

@tool
def shout(text: str) -> str:
    '''Another shout.'''
    return text + "!"

@hookimpl
def agentcore_register_tools(register):
    register(shout)
"""


def test_entry_point_plugins_load_and_register_tools(fake_dist, monkeypatch):
    fake_dist("plugin-a", {"plug_a": PLUGIN_A}, {"a": "plug_a"})
    monkeypatch.delenv("AGENTCORE_PLUGINS")
    reset_plugin_manager()
    tools = registered_tools()
    assert "shout" in tools and tools["shout"].source == "a"
    entry = next(e for e in plugin_report() if e["name"] == "a")
    assert entry["tools"] == ["shout"] and "agentcore_register_tools" in entry["hooks"]
    assert entry["package"] == "plugin-a 1.0"


def test_switch_restricts_and_empty_loads_none(fake_dist, monkeypatch):
    fake_dist("plugin-a", {"plug_a": PLUGIN_A, "plug_b": PLUGIN_B}, {"a": "plug_a", "b": "plug_b"})
    monkeypatch.setenv("AGENTCORE_PLUGINS", "")
    reset_plugin_manager()
    assert get_plugin_manager().list_name_plugin() == []
    monkeypatch.setenv("AGENTCORE_PLUGINS", "b")
    reset_plugin_manager()
    assert [n for n, _ in get_plugin_manager().list_name_plugin()] == ["b"]
    assert registered_tools()["shout"].description == "Another shout."


def test_collision_is_loud_and_names_both(fake_dist, monkeypatch):
    fake_dist("plugin-a", {"plug_a": PLUGIN_A, "plug_b": PLUGIN_B}, {"a": "plug_a", "b": "plug_b"})
    monkeypatch.setenv("AGENTCORE_PLUGINS", "a,b")
    reset_plugin_manager()
    with pytest.raises(ToolNameCollisionError) as info:
        registered_tools()
    assert "'a'" in str(info.value) and "'b'" in str(info.value) and "shout" in str(info.value)


def test_broken_plugin_says_which(fake_dist, monkeypatch):
    fake_dist("plugin-bad", {"plug_bad": "raise ImportError('needs numpy 9')\n"}, {"bad": "plug_bad"})
    monkeypatch.setenv("AGENTCORE_PLUGINS", "bad")
    reset_plugin_manager()
    with pytest.raises(PluginError, match="'bad'.*needs numpy 9"):
        get_plugin_manager()


def test_in_process_plugin_object_and_backends():
    class MyPlugin:
        @hookimpl
        def agentcore_register_tools(self, register):
            @tool
            def ping() -> str:
                """Ping."""
                return "pong"

            register(ping)

        @hookimpl
        def agentcore_register_backends(self, register):
            register("echo", lambda **kw: kw)

    register_plugin(MyPlugin(), name="mine")
    assert registered_tools()["ping"].source == "mine"
    assert registered_backends()["echo"](x=1) == {"x": 1}


def test_first_party_plugins_are_entry_points():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="agentcore")}
    assert names.get("sympy") == "agentcore_sympy.plugin"
    assert names.get("sandbox") == "agentcore_sandbox.plugin"
    assert names.get("code") == "agentcore_code.plugin"
