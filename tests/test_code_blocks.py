"""agentcore_code: fenced code blocks from Markdown, edge cases included."""

from __future__ import annotations

from agentcore_code import CodeBlock, extract_code_blocks


def _summary(markdown: str) -> list[tuple]:
    return [(b.language, b.content, b.start_line, b.end_line, b.closed) for b in extract_code_blocks(markdown)]


def test_backtick_and_tilde_fences_with_normalised_tags():
    md = "Intro\n```py\nx = 1\n```\nafter\n~~~js title=a.js\nlet y;\n~~~\n```\nplain\n```\n"
    blocks = extract_code_blocks(md)
    assert _summary(md) == [
        ("python", "x = 1\n", 2, 4, True),
        ("javascript", "let y;\n", 6, 8, True),
        (None, "plain\n", 9, 11, True),
    ]
    assert blocks[1].info == "js title=a.js" and blocks[0].info == "py"
    # content line k is Markdown line start_line + k
    assert md.splitlines()[blocks[0].start_line + 1 - 1] == "x = 1"


def test_indented_fences_inside_lists_lose_the_list_indentation():
    md = "1. Step one:\n   ```python\n   def f():\n       return 1\n   ```\n2. Step two\n\n- item\n\n    ```bash\n    echo hi\n    ```\n"
    assert _summary(md) == [
        ("python", "def f():\n    return 1\n", 2, 5, True),
        ("bash", "echo hi\n", 10, 12, True),
    ]


def test_unclosed_fences():
    # at the top level it runs to the end of the text
    assert _summary("text\n```python\nx = 1\ny = 2\n") == [("python", "x = 1\ny = 2\n", 2, 4, False)]
    assert _summary("```py\nx") == [("python", "x", 1, 2, False)]
    assert _summary("```py\n") == [("python", "", 1, 1, False)]
    # inside a list item it ends where the item does
    assert _summary("1. Step:\n   ```python\n   x = 1\nmore\n") == [("python", "x = 1\n", 2, 3, False)]
    # an empty but closed block
    assert _summary("```py\n```") == [("python", "", 1, 2, True)]


def test_longer_fence_holds_a_shorter_one_and_quotes_work():
    md = "````markdown\n```python\nx\n```\n````\n> ```js\n> let a;\n> ```\n"
    assert _summary(md) == [
        ("markdown", "```python\nx\n```\n", 1, 5, True),
        ("javascript", "let a;\n", 6, 8, True),
    ]


def test_closing_fence_must_match_the_opening_kind():
    # ~~~ does not close ```: the block runs on
    assert _summary("```python\nx = 1\n~~~\ny = 2\n```\n") == [("python", "x = 1\n~~~\ny = 2\n", 1, 5, True)]


def test_pandoc_style_tags_and_indented_code_is_not_a_fence():
    assert _summary("```{.python .numberLines}\nx\n```\n")[0][0] == "python"
    assert _summary("```Rust\nfn main(){}\n```\n")[0][0] == "rust"
    assert extract_code_blocks("Some text\n\n    indented code\n") == []
    assert extract_code_blocks("") == []


def test_code_block_is_a_pydantic_model():
    block = extract_code_blocks("```go\npackage main\n```\n")[0]
    assert isinstance(block, CodeBlock)
    assert block.model_dump() == {
        "language": "go", "info": "go", "content": "package main\n", "start_line": 1, "end_line": 3, "closed": True,
    }
