"""The plugin manager: entry-point discovery, the ``AGENTCORE_PLUGINS`` switch, and the registries.

Plugins are found through the ``agentcore`` entry-point group, as pytest and llm find theirs. The
environment variable ``AGENTCORE_PLUGINS`` restricts which entry points load: unset loads all of them,
an empty value loads none (hermetic test runs), ``a,b`` loads only the entry points named ``a`` and ``b``.

The plugin manager is the one piece of global state: :func:`get_plugin_manager` creates it on first use.
Registries (tools, specialists, backends) are read from it on demand, so registering or unregistering a
plugin takes effect at once.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Callable
from typing import Any

import pluggy

from agentcore import hookspecs
from agentcore.tools import Tool, as_tool

ENTRY_POINT_GROUP = "agentcore"
PLUGINS_ENV = "AGENTCORE_PLUGINS"

_pm: pluggy.PluginManager | None = None
_lock = threading.Lock()


class PluginError(RuntimeError):
    """A plugin could not be loaded or registered something invalid."""


class ToolNameCollisionError(PluginError):
    """Two plugins registered tools with the same name (never silently renamed)."""


def get_plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, with entry-point plugins loaded (as ``AGENTCORE_PLUGINS`` allows)."""
    global _pm
    with _lock:
        if _pm is None:
            pm = pluggy.PluginManager("agentcore")
            pm.add_hookspecs(hookspecs)
            load_entry_point_plugins(pm)
            _pm = pm
        return _pm


def reset_plugin_manager() -> None:
    """Forget the plugin manager, so the next use rediscovers plugins (tests; after installing a plugin)."""
    global _pm
    with _lock:
        _pm = None


def allowed_plugin_names() -> set[str] | None:
    """The entry-point names ``AGENTCORE_PLUGINS`` allows, or ``None`` when it is unset (all allowed)."""
    value = os.environ.get(PLUGINS_ENV)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def load_entry_point_plugins(pm: pluggy.PluginManager) -> list[str]:
    """Load the ``agentcore`` entry points that ``AGENTCORE_PLUGINS`` allows; return their names.

    A plugin that fails to import raises :class:`PluginError` naming it and its package, rather than
    disappearing silently.
    """
    allowed = allowed_plugin_names()
    loaded: list[str] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            dist = ep.dist.name if ep.dist else "?"
            raise PluginError(
                f"plugin {ep.name!r} (from package {dist}) failed to load: {type(exc).__name__}: {exc}. "
                f"Fix or uninstall it, or leave it out with {PLUGINS_ENV}=<names to load>."
            ) from exc
        pm.register(plugin, name=ep.name)
        loaded.append(ep.name)
    return loaded


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object or module by hand (in-process plugins, tests). Returns its name."""
    pm = get_plugin_manager()
    return pm.register(plugin, name=name) or (name or "")


def unregister_plugin(name_or_plugin: Any) -> None:
    """Remove a plugin registered earlier (by name or object)."""
    pm = get_plugin_manager()
    if isinstance(name_or_plugin, str):
        pm.unregister(name=name_or_plugin)
    else:
        pm.unregister(plugin=name_or_plugin)


def _plugin_name(pm: pluggy.PluginManager, impl: Any) -> str:
    return pm.get_name(impl.plugin) or repr(impl.plugin)


def _collect(hook_name: str, pm: pluggy.PluginManager | None = None) -> list[tuple[str, Any]]:
    """Call a ``register``-style hook on each plugin; return ``(plugin name, registered item)`` pairs."""
    pm = pm or get_plugin_manager()
    hook = getattr(pm.hook, hook_name)
    out: list[tuple[str, Any]] = []
    # Call each implementation on its own so every item is attributed to the plugin that gave it.
    for impl in reversed(hook.get_hookimpls()):
        source = _plugin_name(pm, impl)

        def register(*item: Any, _source: str = source) -> None:
            out.append((_source, item[0] if len(item) == 1 else item))

        impl.function(register=register)
    return out


def registered_tools(pm: pluggy.PluginManager | None = None) -> dict[str, Tool]:
    """Every tool the loaded plugins register, by name; a name registered twice raises."""
    tools: dict[str, Tool] = {}
    for source, item in _collect("agentcore_register_tools", pm):
        t = as_tool(item)
        t.source = source
        if t.name in tools:
            raise ToolNameCollisionError(
                f"tool name {t.name!r} is registered by two plugins: {tools[t.name].source!r} and {source!r}. "
                "Rename one of the tools, or leave one plugin out with "
                f"{PLUGINS_ENV}=<names to load>."
            )
        tools[t.name] = t
    return tools


def registered_backends(pm: pluggy.PluginManager | None = None) -> dict[str, Callable[..., Any]]:
    """Backend factories registered by plugins, by name."""
    backends: dict[str, Callable[..., Any]] = {}
    for source, item in _collect("agentcore_register_backends", pm):
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and callable(item[1])):
            raise PluginError(f"plugin {source!r}: register(name, factory) takes a name and a callable")
        name, factory = item
        if name in backends:
            raise PluginError(f"backend {name!r} is registered twice (the second by plugin {source!r})")
        backends[name] = factory
    return backends


def registered_specialist_items(pm: pluggy.PluginManager | None = None) -> list[tuple[str, Any]]:
    """``(plugin name, specialist)`` pairs from ``agentcore_register_specialists``, in load order."""
    return _collect("agentcore_register_specialists", pm)


def plugin_report(pm: pluggy.PluginManager | None = None) -> list[dict[str, Any]]:
    """For ``agentcore plugins``: each loaded plugin with the hooks it implements and the tools it gives."""
    pm = pm or get_plugin_manager()
    tools_by_source: dict[str, list[str]] = {}
    for t in registered_tools(pm).values():
        tools_by_source.setdefault(t.source, []).append(t.name)
    dists = {name: dist for name, dist in _distributions(pm)}
    report = []
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        report.append(
            {
                "name": name,
                "package": dists.get(name),
                "hooks": hooks,
                "tools": sorted(tools_by_source.get(name, [])),
            }
        )
    return report


def _distributions(pm: pluggy.PluginManager) -> list[tuple[str, str]]:
    out = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is not None:
            out.append((ep.name, f"{ep.dist.name} {ep.dist.version}"))
    return out
