"""The ``agentcore`` command line.

Each subcommand is a module in this package that defines ``register(subparsers)`` (adds its parser and
sets ``func`` to a function taking the parsed arguments and returning an exit code). Modules are found
by listing the package, so a new command is a new file. Command modules import nothing heavy at import
time: ``agentcore --help`` must answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from agentcore import __version__

    parser = argparse.ArgumentParser(
        prog="agentcore",
        description="Agents and tool calling for the Qwen model family.",
    )
    parser.add_argument("--version", action="version", version=f"agentcore {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI's promise: a clear one-line error, never a traceback
        from agentcore.errors import is_user_error

        if is_user_error(exc):
            print(f"agentcore: error: {exc}", file=sys.stderr)
        elif args.debug:
            raise
        else:  # a bug, not bad input: one line still, and how to see more
            print(f"agentcore: error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
                  file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
