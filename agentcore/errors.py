"""Errors a user (or the model) can fix: each says what went wrong and what to do.

Every agentcore error that comes from bad input derives from :class:`AgentcoreError`, so the command line
prints its message in one line instead of a traceback.
"""

from __future__ import annotations


class AgentcoreError(Exception):
    """Base of agentcore's errors about input, configuration or the environment."""


class ConfigurationError(AgentcoreError, ValueError):
    """A setting, file or option is wrong; the message names it and the fix."""


class ModelUnavailableError(AgentcoreError, RuntimeError):
    """A model could not be loaded or reached; the message says which and what to use instead."""


def is_user_error(exc: BaseException) -> bool:
    """True for errors whose message is the whole story (no traceback needed)."""
    return isinstance(exc, (AgentcoreError, ValueError, FileNotFoundError, PermissionError))
