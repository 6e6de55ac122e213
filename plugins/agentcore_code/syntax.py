"""Syntax checking: tree-sitter for every language, plus the interpreter's own parser for Python.

tree-sitter marks what it cannot parse with ERROR nodes (tokens it had to skip) and MISSING nodes (a
token it inserted to recover). Those become messages a person or a model can act on: ``missing ')'``,
``'(' was never closed``, ``unexpected 'return'``. tree-sitter alone misses some Python errors (a body
that is not indented parses without complaint) and its ERROR spans are vague, so for Python the code is
also compiled with the running interpreter, whose verdict decides: its message (``expected ':'``) comes
first, and tree-sitter adds errors it finds on later lines (``compile()`` stops at the first one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from agentcore_code.languages import parse, resolve_language

if TYPE_CHECKING:
    import tree_sitter

#: Errors reported at most per check (one mistake can make a parser complain many times).
MAX_ERRORS = 20

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}


class SyntaxProblem(BaseModel):
    """One syntax error: where it is (1-based line and column, in characters) and what is wrong."""

    line: int = Field(ge=1, description="1-based line of the error")
    column: int = Field(ge=1, description="1-based column of the error, in characters")
    message: str = Field(description="what is wrong, e.g. \"missing ')'\" or \"expected ':'\"")
    text: str = Field(description="the text of the offending line")

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class SyntaxReport(BaseModel):
    """The result of :func:`check_syntax`: ``ok`` when the code parses, else its ``errors`` in order."""

    language: str
    ok: bool
    errors: list[SyntaxProblem] = Field(default_factory=list)

    def format(self) -> str:
        """The errors as text: each one, then the offending line with its number and a caret."""
        if self.ok:
            return f"{self.language}: no syntax errors"
        out: list[str] = []
        for err in self.errors:
            out.append(str(err))
            prefix = f"    {err.line} | "
            out.append(prefix + err.text.expandtabs(4))
            caret_at = len(err.text[: err.column - 1].expandtabs(4))
            out.append(" " * (len(prefix) + caret_at) + "^")
        return "\n".join(out)


def check_syntax(code: str, language: str, *, max_errors: int = MAX_ERRORS) -> SyntaxReport:
    """Check ``code`` for syntax errors in ``language`` (a canonical name or an alias such as ``py``).

    Raises :class:`~agentcore_code.languages.UnsupportedLanguageError` for an unknown language and
    :class:`~agentcore_code.languages.GrammarNotInstalledError` when its grammar wheel is missing.
    """
    name = resolve_language(language)
    lines = code.split("\n")
    tree = parse(code, name)
    problems = _tree_problems(tree.root_node, lines)
    if name == "python":
        first = _python_compile_problem(code, lines)
        if first is None:
            # The interpreter accepts it: what tree-sitter flags is a gap in the grammar, not an error.
            problems = []
        else:
            problems = [first] + [p for p in problems if p.line > first.line]
    problems.sort(key=lambda p: (p.line, p.column))
    return SyntaxReport(language=name, ok=not problems, errors=problems[:max_errors])


# --- tree-sitter ---------------------------------------------------------------------------------


def _tree_problems(root: tree_sitter.Node, lines: list[str]) -> list[SyntaxProblem]:
    problems: list[SyntaxProblem] = []
    seen: set[tuple[int, int, str]] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error:
            # The whole ERROR node is one mistake: do not report the errors nested inside it.
            point, message = _describe_error(node)
        elif node.is_missing:
            point, message = node.start_point, _describe_missing(node)
        else:
            if node.has_error:
                stack.extend(reversed(node.children))
            continue
        problem = _problem_at(point.row, point.column, message, lines)
        key = (problem.line, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return problems


def _describe_missing(node: tree_sitter.Node) -> str:
    kind = node.type
    if node.is_named:
        return f"missing {kind.lstrip('_').replace('_', ' ')}"
    return f"missing {_quote(kind)}"


def _describe_error(node: tree_sitter.Node) -> tuple[tree_sitter.Point, str]:
    raw = node.text or b""
    children = node.children
    # Bytes the parser skipped before the ERROR node's first token are what it could not use at all.
    skipped = raw[: children[0].start_byte - node.start_byte] if children else raw
    if skipped.strip():
        return node.start_point, f"unexpected {_quote(_decode(skipped).split()[0])}"
    leaves = _leaves(node)
    # An unbalanced bracket explains most multi-token ERROR spans better than the span itself.
    stack: list[tree_sitter.Node] = []
    for leaf in leaves:
        if leaf.type in _OPENERS:
            stack.append(leaf)
        elif leaf.type in _CLOSERS:
            if stack and stack[-1].type == _CLOSERS[leaf.type]:
                stack.pop()
            else:
                return leaf.start_point, f"unmatched {_quote(leaf.type)}"
    if stack:
        return stack[0].start_point, f"{_quote(stack[0].type)} was never closed"
    # A smaller ERROR inside marks the exact token the parser choked on.
    inner = next((leaf for leaf in leaves if leaf.is_error), None)
    if inner is not None:
        return inner.start_point, f"unexpected {_quote(_decode(inner.text or b''))}"
    first = leaves[0] if leaves else node
    return first.start_point, f"unexpected {_quote(_decode(first.text or b''))}"


def _leaves(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    out: list[tree_sitter.Node] = []
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if child.child_count == 0:
            if child.end_byte > child.start_byte:  # skip zero-width (MISSING) tokens
                out.append(child)
        else:
            stack.extend(reversed(child.children))
    return out


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _quote(text: str, limit: int = 40) -> str:
    if not text.strip():
        return "end of line" if "\n" in text else "whitespace"
    first = text.strip().split("\n", 1)[0]
    if len(first) > limit:
        first = first[: limit - 3] + "..."
    return f"'{first}'"


def _problem_at(row: int, byte_column: int, message: str, lines: list[str]) -> SyntaxProblem:
    """A problem at tree-sitter's (row, byte column), turned into 1-based line and character column."""
    # A token missing at the very end (after the last newline) is shown at the end of the last line.
    while row > 0 and (row >= len(lines) or (row == len(lines) - 1 and lines[row] == "")):
        row -= 1
        byte_column = len(lines[row].encode("utf-8", errors="surrogatepass"))
    text = lines[row] if row < len(lines) else ""
    raw = text.encode("utf-8", errors="surrogatepass")
    column = len(raw[:byte_column].decode("utf-8", errors="replace")) + 1
    return SyntaxProblem(line=row + 1, column=column, message=message, text=text.rstrip("\r"))


# --- Python's own parser ---------------------------------------------------------------------------


def _python_compile_problem(code: str, lines: list[str]) -> SyntaxProblem | None:
    """The first error the running interpreter's compiler finds, or None when the code compiles."""
    import ast
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning (e.g. invalid escapes) is not an error
        try:
            # Top-level await is allowed: answers often show notebook-style snippets.
            compile(code, "<code>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            if "\0" in code:  # "source code string cannot contain null bytes" (ValueError before 3.12)
                return _null_byte_problem(code, lines, str(getattr(exc, "msg", exc)))
            if not isinstance(exc, SyntaxError):
                raise
            line = min(max(exc.lineno or 1, 1), max(len(lines), 1))
            text = lines[line - 1] if lines else ""
            column = min(max(exc.offset or 1, 1), len(text) + 1)
            return SyntaxProblem(line=line, column=column, message=exc.msg, text=text.rstrip("\r"))
        except (RecursionError, MemoryError):  # absurdly nested code: leave it to tree-sitter
            return None
    return None


def _null_byte_problem(code: str, lines: list[str], message: str) -> SyntaxProblem:
    index = code.index("\0")
    row = code.count("\n", 0, index)
    column = index - (code.rfind("\n", 0, index) + 1) + 1
    return SyntaxProblem(line=row + 1, column=column, message=message, text=lines[row].rstrip("\r"))
