"""Fenced code blocks in Markdown (```` ``` ```` and ``~~~``), as a model writes them in an answer.

The Markdown is parsed by markdown-it-py, a CommonMark parser, rather than by hand-written regular
expressions: fence length and indentation rules, fences inside list items and block quotes (their
indentation removed from the content), a longer fence that holds a shorter one, all come out as
CommonMark says. A fence that is never closed runs to the end of its container (the document, or the
list item it is indented under), as CommonMark renders it; such blocks carry ``closed=False``, often
the sign of an answer cut short.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agentcore_code.languages import normalize_language


class CodeBlock(BaseModel):
    """One fenced code block. Content line ``k`` (1-based) is line ``start_line + k`` of the Markdown."""

    language: str | None = Field(
        description="the language tag, normalised (py → python, js → javascript); None when the fence has none"
    )
    info: str = Field(default="", description="the fence's whole info string, as written (e.g. 'python title=x.py')")
    content: str = Field(description="the code, with any list or quote indentation removed")
    start_line: int = Field(ge=1, description="1-based line of the opening fence")
    end_line: int = Field(ge=1, description="1-based line of the closing fence (or the block's last line)")
    closed: bool = Field(default=True, description="False when the fence is never closed")


def extract_code_blocks(markdown: str) -> list[CodeBlock]:
    """The fenced code blocks of ``markdown``, in order (indented code blocks are not fences: left out)."""
    from markdown_it import MarkdownIt  # imported here: ~70 ms, and only this needs it

    blocks: list[CodeBlock] = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type != "fence" or token.map is None:
            continue
        first, end = token.map  # 0-based: the opening fence's line, one past the block's last line
        content_lines = len(token.content.splitlines())
        # Lines between the fences are the content; one more line means a closing fence was found.
        closed = end - first - 1 > content_lines
        info = token.info.strip()
        blocks.append(
            CodeBlock(
                language=normalize_language(info),
                info=info,
                content=token.content,
                start_line=first + 1,
                end_line=max(end, first + 1),
                closed=closed,
            )
        )
    return blocks
