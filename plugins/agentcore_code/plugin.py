"""Hook implementations of agentcore_code: three tools and the Coder-loop syntax verifier.

Importing this module imports neither tree-sitter nor markdown-it: they load on the first check.
"""

from __future__ import annotations

from typing import Any

from agentcore.hookspecs import hookimpl
from agentcore.tools import tool

from agentcore_code import fences, symbols, syntax, verifier
from agentcore_code.fences import CodeBlock
from agentcore_code.languages import LanguageName
from agentcore_code.symbols import Symbol
from agentcore_code.syntax import SyntaxReport


@tool(name="check_syntax")
def check_syntax_tool(code: str, language: LanguageName) -> SyntaxReport:
    """Check source code for syntax errors without running it.

    Returns ok=true when it parses; otherwise each error with its 1-based line and column, a message
    such as "missing ')'" or "expected ':'", and the text of the offending line.

    Args:
        code: The source code to check.
        language: The language the code is written in.
    """
    return syntax.check_syntax(code, language)


@tool(name="code_outline")
def code_outline_tool(code: str, language: LanguageName) -> list[Symbol]:
    """List the functions, classes and other definitions in source code, methods nested under their class.

    Each symbol has its kind, name, 1-based start and end lines and its signature line. Works on code
    with syntax errors too.

    Args:
        code: The source code to outline.
        language: The language the code is written in.
    """
    return symbols.outline(code, language)


@tool(name="extract_code_blocks")
def extract_code_blocks_tool(markdown: str) -> list[CodeBlock]:
    """Extract the fenced code blocks (``` or ~~~) from Markdown text.

    Each block has its language tag (normalised: py becomes python), its content, the 1-based line of
    its opening fence, and whether the fence was closed.

    Args:
        markdown: The Markdown text, e.g. an answer that contains code.
    """
    return fences.extract_code_blocks(markdown)


@hookimpl
def agentcore_register_tools(register: Any) -> None:
    register(check_syntax_tool)
    register(code_outline_tool)
    register(extract_code_blocks_tool)


@hookimpl
def agentcore_verify_answer(task: str, answer: str, context: Any) -> Any:
    """For the coder specialist: reject an answer whose code blocks have syntax errors."""
    if getattr(context, "specialist", None) != "coder" or not answer:
        return None
    return verifier.verify_code_answer(answer)
