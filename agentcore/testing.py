"""Test doubles that feed raw model text through the real parser and loop, and a pytest plugin.

``ScriptedBackend`` returns the completions you give it, in order, so a test exercises exactly what a
real model's output would go through: the streaming parser, tool dispatch, validation feedback,
verification. ``FunctionBackend`` computes each completion from the request. Both record every request.

The pytest plugin (entry point ``pytest11: agentcore``) gives plugin authors two fixtures:

* ``agentcore_plugins`` – hermetic plugin loading: ``agentcore_plugins([...names])`` loads only those
  entry points (none by default) and ``agentcore_plugins.register(obj)`` adds an in-process plugin; the
  previous state comes back after the test.
* ``scripted_agent`` – ``scripted_agent(["<tool_call>…</tool_call>", "The answer is 4."], tools=[...])``
  builds an :class:`~agentcore.Agent` on a :class:`ScriptedBackend`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import pytest

from agentcore.backends.base import Backend, BackendError, Completion, GenerationRequest, Usage


class ScriptedBackend(Backend):
    """A backend that answers with the given raw completions, one per call, in order.

    ``completions`` are raw model texts (``<think>``, ``<tool_call>`` markup and all) or
    :class:`Completion` objects. ``family`` is the chat family the prompts are rendered in (it decides the
    tool-call format: ``qwen3-coder`` for XML calls). ``chunk_size`` cuts streamed text into pieces that
    small, so streaming parsers see markup split across chunks as with a real model.
    """

    name = "scripted"

    def __init__(self, completions: Sequence[str | Completion], *, family: str | None = "qwen2.5", chunk_size: int = 3):
        self.completions = list(completions)
        self.family = family
        self.chunk_size = max(1, chunk_size)
        self.requests: list[GenerationRequest] = []

    @property
    def prompts(self) -> list[str | None]:
        """The rendered prompt of each request, in order."""
        return [r.prompt for r in self.requests]

    def generate(self, request: GenerationRequest) -> Completion:
        self.requests.append(request)
        index = len(self.requests) - 1
        if index >= len(self.completions):
            raise BackendError(
                f"ScriptedBackend has {len(self.completions)} completions but the agent asked for call "
                f"{index + 1}; add completions or lower max_steps"
            )
        item = self.completions[index]
        if isinstance(item, Completion):
            return item
        return Completion(text=item, usage=_usage_for(request, item))

    def stream(self, request: GenerationRequest) -> Iterator[str | Completion]:
        yield from _chunked(self.generate(request), self.chunk_size)

    async def astream(self, request: GenerationRequest) -> AsyncIterator[str | Completion]:
        # Nothing here blocks: stream on the event loop itself rather than through a worker thread.
        for item in self.stream(request):
            yield item


class FunctionBackend(Backend):
    """A backend whose completion is ``fn(request)``: a raw text or a :class:`Completion`.

    ``fn`` may block (it runs in a worker thread for async callers); streams come in ``chunk_size``
    pieces, as with :class:`ScriptedBackend`."""

    name = "function"

    def __init__(self, fn: Callable[[GenerationRequest], str | Completion], *, family: str | None = "qwen2.5",
                 chunk_size: int = 3):
        self.fn = fn
        self.family = family
        self.chunk_size = max(1, chunk_size)
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest) -> Completion:
        self.requests.append(request)
        out = self.fn(request)
        if isinstance(out, Completion):
            return out
        if not isinstance(out, str):
            raise BackendError(f"FunctionBackend's function must return str or Completion, got {type(out).__name__}")
        return Completion(text=out, usage=_usage_for(request, out))

    def stream(self, request: GenerationRequest) -> Iterator[str | Completion]:
        # The function may block (sleep, I/O), so the async forms keep the base class's worker thread.
        completion = self.generate(request)
        yield from _chunked(completion, self.chunk_size)


def _chunked(completion: Completion, size: int) -> Iterator[str | Completion]:
    """The completion's text in pieces of ``size`` characters, then the completion."""
    text = completion.text
    for i in range(0, len(text), size):
        yield text[i : i + size]
    yield completion


def _usage_for(request: GenerationRequest, text: str) -> Usage:
    # Rough whitespace token counts: scripted runs still report usage that adds up.
    prompt = request.prompt or ""
    return Usage(prompt_tokens=len(prompt.split()), completion_tokens=len(text.split()))


# --- pytest plugin --------------------------------------------------------------------------------


class _PluginControl:
    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self._monkeypatch = monkeypatch

    def __call__(self, names: Sequence[str] = ()) -> _PluginControl:
        from agentcore.plugins import PLUGINS_ENV, reset_plugin_manager

        self._monkeypatch.setenv(PLUGINS_ENV, ",".join(names))
        reset_plugin_manager()
        return self

    def register(self, plugin: Any, name: str | None = None) -> str:
        from agentcore.plugins import register_plugin

        return register_plugin(plugin, name)  # gone with the plugin manager, reset after the test


@pytest.fixture
def agentcore_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[_PluginControl]:
    """Hermetic plugins: none load unless named; in-process plugins registered here are removed after."""
    from agentcore.plugins import reset_plugin_manager

    control = _PluginControl(monkeypatch)
    control(())
    yield control
    reset_plugin_manager()


@pytest.fixture
def scripted_agent(agentcore_plugins: _PluginControl) -> Callable[..., Any]:
    """``scripted_agent(completions, **agent_options)`` → an Agent on a ScriptedBackend (hermetic plugins)."""

    def make(completions: Sequence[str | Completion], *, family: str | None = "qwen2.5", **options: Any) -> Any:
        from agentcore.agent import Agent

        return Agent(backend=ScriptedBackend(completions, family=family), **options)

    return make
