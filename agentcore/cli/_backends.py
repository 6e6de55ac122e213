"""The backend a command's ``--backend`` / ``--base-url`` / ``--model`` options ask for (shared by run and batch)."""

from __future__ import annotations

import argparse
from typing import Any


def backend_from_args(args: argparse.Namespace, *, vision: bool = False, max_concurrency: int | None = None) -> Any:
    """A plugin's backend (``--backend``), a server (``--base-url`` + ``--model``), a local model
    (``--model``; a vision model when ``vision``), or ``None`` for the configured default."""
    name = getattr(args, "backend", None)
    if name:
        from agentcore.plugins import registered_backends

        factories = registered_backends()
        if name not in factories:
            raise ValueError(f"no backend named {name!r}; plugins register: {', '.join(sorted(factories)) or 'none'}")
        return factories[name](**({"model": args.model} if args.model else {}))
    if args.base_url:
        if not args.model:
            raise ValueError("--base-url needs --model: the name the server knows the model by")
        from agentcore.backends.openai import OpenAIBackend

        extra = {} if max_concurrency is None else {"max_concurrency": max(1, max_concurrency)}
        return OpenAIBackend(args.base_url, args.model, api_key=args.api_key, mode=args.mode, family=args.family,
                             **extra)
    if args.model:
        if vision:
            from agentcore.backends.vision import VisionBackend

            return VisionBackend(args.model)
        from agentcore.backends.transformers import TransformersBackend

        return TransformersBackend(args.model, family=args.family)
    return None
