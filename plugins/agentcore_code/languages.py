"""The languages agentcore_code understands, their tree-sitter grammars, and a parser cache.

Each language comes from its own small grammar wheel, imported only when that language is first
parsed (never at plugin import). Wheel sizes measured for this choice (manylinux x86_64, download /
installed): tree-sitter-python 0.25.0 108 KB / 0.6 MB, tree-sitter-javascript 0.25.0 100 KB / 0.6 MB,
tree-sitter-typescript 0.23.2 345 KB / 3.1 MB (TypeScript and TSX), tree-sitter-go 0.25.0 66 KB /
0.3 MB, tree-sitter-rust 0.24.2 165 KB / 1.3 MB, tree-sitter-bash 0.25.1 232 KB / 1.5 MB,
tree-sitter-sql 0.3.13 1.0 MB / 14 MB. Each imports in about 1 ms. The individual wheels were taken
over ``tree-sitter-language-pack``, whose current releases download grammars at run time (and so fail
offline) and whose last self-contained wheel (0.13.0) is 20 MB. SQL is the heavy one, so it is meant
as an optional extra; a grammar that is not installed raises :class:`GrammarNotInstalledError` naming
the pip package to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from agentcore.errors import ConfigurationError

if TYPE_CHECKING:  # tree-sitter is imported lazily, in get_parser
    import tree_sitter

#: The canonical language names (what tools accept and reports carry).
LanguageName = Literal["python", "javascript", "typescript", "tsx", "go", "rust", "bash", "sql"]
LANGUAGES: tuple[str, ...] = get_args(LanguageName)


@dataclass(frozen=True)
class Grammar:
    """Where a language's grammar lives: the pip package, its module, and the function giving the language."""

    package: str
    module: str
    function: str = "language"


GRAMMARS: dict[str, Grammar] = {
    "python": Grammar("tree-sitter-python", "tree_sitter_python"),
    "javascript": Grammar("tree-sitter-javascript", "tree_sitter_javascript"),
    "typescript": Grammar("tree-sitter-typescript", "tree_sitter_typescript", "language_typescript"),
    "tsx": Grammar("tree-sitter-typescript", "tree_sitter_typescript", "language_tsx"),
    "go": Grammar("tree-sitter-go", "tree_sitter_go"),
    "rust": Grammar("tree-sitter-rust", "tree_sitter_rust"),
    "bash": Grammar("tree-sitter-bash", "tree_sitter_bash"),
    "sql": Grammar("tree-sitter-sql", "tree_sitter_sql"),
}

#: Tags seen on fenced code blocks (and names people use) → canonical language.
#: Deliberately absent: "console"/"pycon"/"ipython" (prompts and output, not code) and "zsh"/"fish"
#: (not bash syntax).
ALIASES: dict[str, str] = {
    "py": "python",
    "py3": "python",
    "python3": "python",
    "js": "javascript",
    "jsx": "javascript",  # tree-sitter-javascript parses JSX
    "mjs": "javascript",
    "cjs": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "ts": "typescript",
    "mts": "typescript",
    "cts": "typescript",
    "golang": "go",
    "rs": "rust",
    "sh": "bash",
    "shell": "bash",
    "shellscript": "bash",
    "postgresql": "sql",
    "postgres": "sql",
    "pgsql": "sql",
    "mysql": "sql",
    "sqlite": "sql",
}


class UnsupportedLanguageError(ConfigurationError):
    """The language is not one agentcore_code can parse; the message lists those it can."""


class GrammarNotInstalledError(ConfigurationError):
    """The language is known but its grammar wheel is not installed; the message names the pip package."""


def normalize_language(tag: str | None) -> str | None:
    """The canonical name for a language tag or alias (``py`` → ``python``), else the tag cleaned up.

    Cleaning: lower case, the first word of an info string (``python title=x`` → ``python``), pandoc's
    ``{.python}`` and ``{python}`` forms, a ``:file`` suffix (``python:main.py``). Returns ``None`` for an
    empty tag. Unknown languages come back cleaned but otherwise as they are (``json``, ``text``).
    """
    if tag is None:
        return None
    words = tag.strip().strip("{}").replace(",", " ").split()
    if not words:
        return None
    word = words[0].lstrip(".").split(":", 1)[0].lower()
    if not word:
        return None
    return ALIASES.get(word, word)


def resolve_language(language: str) -> str:
    """The canonical name of ``language`` (aliases accepted); raises :class:`UnsupportedLanguageError`."""
    name = normalize_language(language) if isinstance(language, str) else None
    if name not in GRAMMARS:
        aliases = ", ".join(f"{alias}→{canon}" for alias, canon in sorted(ALIASES.items()))
        raise UnsupportedLanguageError(
            f"unsupported language {language!r}: agentcore_code can parse {', '.join(LANGUAGES)} "
            f"(aliases: {aliases})"
        )
    return name


def grammar_installed(language: str) -> bool:
    """Whether the grammar wheel for ``language`` (canonical or alias) is importable; imports nothing."""
    try:
        name = resolve_language(language)
    except UnsupportedLanguageError:
        return False
    return (
        importlib.util.find_spec("tree_sitter") is not None
        and importlib.util.find_spec(GRAMMARS[name].module) is not None
    )


def available_languages() -> list[str]:
    """The canonical languages whose grammar is installed here."""
    return [name for name in LANGUAGES if grammar_installed(name)]


_parsers: dict[str, tree_sitter.Parser] = {}
_languages: dict[str, tree_sitter.Language] = {}
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # Tools run in forked children: a fork taken while another thread held the lock (or was mid-parse)
    # must not leave the child with a lock nobody will release or a parser in an unknown state.
    global _lock
    _lock = threading.Lock()
    _parsers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def get_language(language: str) -> tree_sitter.Language:
    """The tree-sitter ``Language`` for ``language``, loaded once per process."""
    name = resolve_language(language)
    with _lock:
        if name not in _languages:
            _languages[name] = _load_language(name)
        return _languages[name]


def get_parser(language: str) -> tree_sitter.Parser:
    """A tree-sitter parser for ``language``, created once per language and reused.

    Raises :class:`UnsupportedLanguageError` for an unknown language and
    :class:`GrammarNotInstalledError` (naming the pip package) when its grammar is missing.
    """
    name = resolve_language(language)
    lang = get_language(name)
    with _lock:
        parser = _parsers.get(name)
        if parser is None:
            import tree_sitter

            parser = _parsers[name] = tree_sitter.Parser(lang)
        return parser


def _load_language(name: str) -> Any:
    grammar = GRAMMARS[name]
    try:
        import tree_sitter
    except ImportError:
        raise GrammarNotInstalledError(
            f"parsing {name} needs tree-sitter, which is not installed: pip install tree-sitter {grammar.package}"
        ) from None
    try:
        module = importlib.import_module(grammar.module)
    except ImportError:
        raise GrammarNotInstalledError(
            f"the tree-sitter grammar for {name} is not installed: pip install {grammar.package}"
        ) from None
    try:
        return tree_sitter.Language(getattr(module, grammar.function)())
    except (ValueError, AttributeError) as exc:  # grammar ABI newer/older than the tree-sitter runtime
        raise GrammarNotInstalledError(
            f"the installed {grammar.package} does not work with tree-sitter {_version('tree-sitter')} "
            f"({exc}): pip install -U tree-sitter {grammar.package}"
        ) from None


def _version(dist: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def parse(code: str, language: str) -> tree_sitter.Tree:
    """Parse ``code`` with the cached parser for ``language``.

    A tree-sitter parser is not safe to share between threads, so the parse runs under the cache's lock
    (parses take milliseconds; tools may run on threads).
    """
    parser = get_parser(language)
    data = code.encode("utf-8", errors="surrogatepass")
    with _lock:
        return parser.parse(data)
