"""``agentcore serve``: an OpenAI-compatible HTTP server over agentcore's models and agents.

:func:`create_app` builds the ASGI app around any backends (by name) and agents (``agent:<name>``);
:func:`serve` runs it with uvicorn; :class:`ServerThread` runs it in the background. :class:`ServerSettings`
holds API keys and limits.
"""

from agentcore.server.app import AGENT_PREFIX, ApiError, ModelRegistry, create_app
from agentcore.server.runner import ServerThread, serve
from agentcore.server.settings import ServerSettings

__all__ = ["AGENT_PREFIX", "ApiError", "ModelRegistry", "ServerSettings", "ServerThread", "create_app", "serve"]
