"""agentcore: an agent and tool-calling framework for the Qwen model family.

The public API, re-exported here. Names that pull in heavy libraries (the transformers backend, the
OpenAI-compatible backend, the server) are imported on first use, so ``import agentcore`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access.
_EXPORTS: dict[str, str] = {
    "Agent": "agentcore.agent",
    "RunResult": "agentcore.result",
    "StepRecord": "agentcore.result",
    "Message": "agentcore.messages",
    "ToolCall": "agentcore.messages",
    "TextPart": "agentcore.messages",
    "ImagePart": "agentcore.messages",
    "Tool": "agentcore.tools",
    "tool": "agentcore.tools",
    "ToolArgumentsError": "agentcore.tools",
    "hookimpl": "agentcore.hookspecs",
    "Verdict": "agentcore.verification",
    "VerificationContext": "agentcore.verification",
    "render_prompt": "agentcore.prompting",
    "render_template": "agentcore.prompting",
    "TemplateError": "agentcore.prompting",
    "parse_output": "agentcore.parsing",
    "ParsedOutput": "agentcore.parsing",
    "StreamParser": "agentcore.parsing",
    "extract_final_answer": "agentcore.parsing",
    "family_for_model": "agentcore.families",
    "get_family": "agentcore.families",
    "Backend": "agentcore.backends.base",
    "GenerationRequest": "agentcore.backends.base",
    "Completion": "agentcore.backends.base",
    "SamplingParams": "agentcore.backends.base",
    "Usage": "agentcore.backends.base",
    "TransformersBackend": "agentcore.backends.transformers",
    "OpenAIBackend": "agentcore.backends.openai",
    "VisionBackend": "agentcore.backends.vision",
    "load_image": "agentcore.images",
    "to_data_url": "agentcore.images",
    "ImageError": "agentcore.images",
    "run_batch": "agentcore.batch",
    "arun_batch": "agentcore.batch",
    "create_app": "agentcore.server",
    "ServerSettings": "agentcore.server",
    "Specialist": "agentcore.specialists",
    "ThinkingPolicy": "agentcore.specialists",
    "get_specialist": "agentcore.specialists",
    "all_specialists": "agentcore.specialists",
    "route": "agentcore.router",
    "RouteDecision": "agentcore.router",
    "ModelRouter": "agentcore.router",
    "select_model": "agentcore.catalogue",
    "ModelChoice": "agentcore.catalogue",
    "ModelVariant": "agentcore.catalogue",
    "CATALOGUE": "agentcore.catalogue",
    "ModelPool": "agentcore.pool",
    "default_pool": "agentcore.pool",
    "load_config": "agentcore.config",
    "AgentcoreError": "agentcore.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentcore' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
