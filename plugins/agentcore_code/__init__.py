"""agentcore_code: code analysis with tree-sitter, a first-party agentcore plugin.

Syntax checking with human error messages (:func:`check_syntax`), outlines of definitions
(:func:`outline`) and fenced code blocks from Markdown (:func:`extract_code_blocks`), for Python,
JavaScript, TypeScript/TSX, Go, Rust, bash and SQL (each through its own grammar wheel: see
:mod:`agentcore_code.languages`). The plugin (:mod:`agentcore_code.plugin`) offers them as tools and
syntax-checks the Coder specialist's answers. tree-sitter is imported on the first parse, not here.
"""

from agentcore_code.fences import CodeBlock, extract_code_blocks
from agentcore_code.languages import (
    LANGUAGES,
    GrammarNotInstalledError,
    LanguageName,
    UnsupportedLanguageError,
    available_languages,
    normalize_language,
)
from agentcore_code.symbols import Symbol, outline
from agentcore_code.syntax import SyntaxProblem, SyntaxReport, check_syntax

__all__ = [
    "LANGUAGES",
    "CodeBlock",
    "GrammarNotInstalledError",
    "LanguageName",
    "Symbol",
    "SyntaxProblem",
    "SyntaxReport",
    "UnsupportedLanguageError",
    "available_languages",
    "check_syntax",
    "extract_code_blocks",
    "normalize_language",
    "outline",
]
