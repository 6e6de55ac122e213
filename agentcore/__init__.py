"""agentcore: an agent and tool-calling framework for the Qwen model family."""

__version__ = "0.1.0"
