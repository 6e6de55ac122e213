"""``agentcore serve``: an OpenAI-compatible HTTP server over local models and agents.

    agentcore serve                                  # the embedded SmolLM2 on 127.0.0.1:8000
    agentcore serve --model Qwen/Qwen2.5-7B-Instruct --agent math --agent coder
    agentcore serve --base-url http://gpu1:8000 --base-url http://gpu2:8000 --upstream-model Qwen/Qwen3-8B \\
        --mode raw --agent general                   # agents in front of vLLM servers
    agentcore serve --host 0.0.0.0 --api-key "$KEY" --rate-limit 60 --max-concurrency 4

Agents are listed as ``agent:<name>`` and run on the first served model.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

API_KEYS_ENV = "AGENTCORE_API_KEYS"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve models and agents over an OpenAI-compatible HTTP API",
        description="Serve models and agents at /v1/chat/completions, /v1/completions, /v1/models and /health.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--model", action="append", default=[], metavar="[NAME=]MODEL",
                   help="a local model to serve: Hugging Face id, folder or GGUF, optionally named NAME= "
                        "(repeatable; default: the embedded SmolLM2)")
    p.add_argument("--base-url", action="append", default=[],
                   help="serve a model of OpenAI-compatible server(s) instead (repeatable: load is spread)")
    p.add_argument("--upstream-model", help="the model id the --base-url servers know")
    p.add_argument("--upstream-key", help="API key for the --base-url servers")
    p.add_argument("--mode", choices=["chat", "raw"], default="raw",
                   help="how to call --base-url servers (default: raw: agentcore renders and parses)")
    p.add_argument("--family", help="chat family of the served model (default: guessed from its id)")
    p.add_argument("--agent", action="append", default=[], metavar="SPECIALIST",
                   help="also serve an agent (general, coder, math, ...) as model 'agent:<name>' (repeatable)")
    p.add_argument("--api-key", action="append", default=[],
                   help=f"accept this API key (repeatable; also ${API_KEYS_ENV}, comma-separated). Default: no keys")
    p.add_argument("--max-body-bytes", type=int, default=2_000_000, help="largest request body (default: 2 MB)")
    p.add_argument("--max-input-chars", type=int, default=200_000, help="longest input text (default: 200000)")
    p.add_argument("--max-tokens-limit", type=int, default=8192, help="largest max_tokens a request may ask")
    p.add_argument("--default-max-tokens", type=int, default=1024, help="max_tokens when a request sets none")
    p.add_argument("--rate-limit", type=float, default=0, metavar="PER_MINUTE",
                   help="requests a minute per API key (0: no limit)")
    p.add_argument("--rate-burst", type=int, help="burst size of the rate limit (default: one minute's worth)")
    p.add_argument("--max-concurrency", type=int, default=8,
                   help="requests generating at once; more get 429 (default: 8)")
    p.add_argument("--timeout", type=float, default=600, help="seconds a request may take (default: 600)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> Any:
    from agentcore.server.settings import ServerSettings

    keys = set(args.api_key)
    keys.update(k.strip() for k in os.environ.get(API_KEYS_ENV, "").split(",") if k.strip())
    return ServerSettings(
        api_keys=frozenset(keys),
        max_body_bytes=args.max_body_bytes,
        max_input_chars=args.max_input_chars,
        max_tokens_limit=args.max_tokens_limit,
        default_max_tokens=args.default_max_tokens,
        rate_limit_per_minute=args.rate_limit or None,
        rate_limit_burst=args.rate_burst,
        max_concurrency=args.max_concurrency,
        request_timeout_s=args.timeout,
    )


def backends_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The served backends by name (loads local models: this is the slow part)."""
    from agentcore.errors import ConfigurationError

    backends: dict[str, Any] = {}
    if args.base_url:
        if not args.upstream_model:
            raise ConfigurationError("--base-url needs --upstream-model: the model id those servers know")
        from agentcore.backends.openai import OpenAIBackend

        backends[args.upstream_model] = OpenAIBackend(
            args.base_url, args.upstream_model, api_key=args.upstream_key, mode=args.mode, family=args.family
        )
    specs = list(args.model) or ([] if args.base_url else [None])
    for spec in specs:
        name, _, source = spec.partition("=") if spec and "=" in spec else ("", "", spec)
        from agentcore.backends.transformers import TransformersBackend

        backend = TransformersBackend(source or None, family=args.family)
        served = name or getattr(backend, "model_id", None) or str(source)
        if served in backends:
            raise ConfigurationError(f"two served models are called {served!r}: name them with --model NAME=MODEL")
        backends[served] = backend
    return backends


def agents_from_args(args: argparse.Namespace, backends: dict[str, Any]) -> dict[str, Any]:
    """One agent factory per ``--agent``: each request gets a fresh Agent on the first served backend."""
    from agentcore.specialists import get_specialist

    first = next(iter(backends.values()))
    agents: dict[str, Any] = {}
    for name in args.agent:
        specialist = get_specialist(name)  # a clear error for an unknown name, before anything is served

        def make(specialist: Any = specialist) -> Any:
            from agentcore.agent import Agent

            return Agent(backend=first, specialist=specialist)

        agents[name] = make
    return agents


def run(args: argparse.Namespace) -> int:
    import logging

    from agentcore.server.runner import serve

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_from_args(args)
    backends = backends_from_args(args)
    agents = agents_from_args(args, backends)
    names = [*backends, *(f"agent:{a}" for a in agents)]
    logging.getLogger("agentcore.server").info(
        "serving %s on http://%s:%d/v1 (%s)", ", ".join(names), args.host, args.port,
        f"{len(settings.api_keys)} API key(s)" if settings.api_keys else "no API keys")
    serve(backends, agents, settings, host=args.host, port=args.port, log_level=args.log_level)
    return 0
