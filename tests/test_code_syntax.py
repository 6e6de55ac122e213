"""agentcore_code: syntax checking in every supported language, grammar loading and its errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentcore.errors import ConfigurationError
from agentcore_code import (
    GrammarNotInstalledError,
    UnsupportedLanguageError,
    available_languages,
    check_syntax,
    normalize_language,
)
from agentcore_code import languages

# (language, code, [(line, column, message)])
ERRORS = [
    ("python", "def f(x)\n    return x\n", [(1, 9, "expected ':'")]),
    ("python", "print(foo(1, 2)\nx = 3\n", [(1, 6, "'(' was never closed")]),
    # tree-sitter alone accepts this one: the interpreter's compiler catches it
    ("python", "def f():\nreturn 1\n", [(2, 1, "expected an indented block after function definition on line 1")]),
    ("python", "if x = 2:\n    pass\n", [(1, 4, "invalid syntax. Maybe you meant '==' or ':=' instead of '='?")]),
    # compile() stops at the first error; tree-sitter adds the later one
    ("python", "x = 1\ndef g(:\n    pass\ny = [1,\nz = 2\n", [(2, 7, "invalid syntax"), (4, 5, "'[' was never closed")]),
    ("javascript", "function f( {\n  return 1;\n}\n", [(1, 11, "'(' was never closed")]),
    ("javascript", "if (x) {\n  foo(\n}\n", [(2, 6, "'(' was never closed")]),
    ("javascript", "let a = 5 5;\nconsole.log(a))\n", [(1, 11, "unexpected '5'"), (2, 15, "unmatched ')'")]),
    ("typescript", "function f(x: number): string {\n  return x +;\n}\n", [(2, 13, "missing identifier")]),
    ("typescript", "interface A {\n  x: number\n  y: \n}\n", [(3, 4, "unexpected ':'")]),
    ("go", 'package main\nfunc main() {\n\tfmt.Println("hi"\n}\n', [(3, 18, "missing ')'")]),
    ("rust", 'fn main() {\n    let x = 5\n    println!("{}", x);\n}\n', [(2, 13, "unexpected '5'")]),
    ("rust", "fn main() {\n    let x: = 5;\n}\n", [(2, 10, "unexpected ':'")]),
    # a token missing at the very end is shown at the end of the last line
    ("bash", "if [ -f x ]; then\n  echo hi\n", [(2, 10, "missing 'fi'")]),
    ("bash", "for i in 1 2 3\n  echo $i\ndone\n", [(1, 15, "unexpected end of line")]),
    ("sql", "SELEC a FROM t;\n", [(1, 1, "unexpected 'SELEC'")]),
    ("sql", "SELECT * FROM t WHERE (a = 1;\n", [(1, 29, "missing ')'")]),
]

VALID = {
    "python": "import asyncio\n\n@decorator\nasync def f(x: int = 1, *a, **k) -> int:\n    return await g(x)\n",
    "javascript": "const f = async (a) => { await a; };\nclass A { #p = 1; get x() { return this.#p; } }\n",
    "typescript": "export function f<T>(x: T): T[] { return [x]; }\ninterface I { a?: number }\n",
    "tsx": "const A = (p: { n: number }) => <div>{p.n}</div>;\n",
    "go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\n',
    "rust": 'fn main() {\n    let v: Vec<i32> = (1..4).collect();\n    println!("{:?}", v);\n}\n',
    "bash": 'set -e\nfor f in *.txt; do\n  [[ -f "$f" ]] && echo "$f"\ndone\n',
    "sql": "SELECT a, COUNT(*) FROM t WHERE b > 1 GROUP BY a ORDER BY 2 DESC;\n",
}


def _needs(language: str) -> None:
    # SQL's grammar is an optional extra (14 MB installed); the others are dependencies of the plugin.
    if language == "sql" and not languages.grammar_installed("sql"):
        pytest.skip("tree-sitter-sql is not installed")


@pytest.mark.parametrize(("language", "code", "expected"), ERRORS)
def test_syntax_errors_have_exact_positions_and_messages(language, code, expected):
    _needs(language)
    report = check_syntax(code, language)
    assert report.ok is False and report.language == language
    assert [(e.line, e.column, e.message) for e in report.errors] == expected
    lines = code.split("\n")
    for error in report.errors:
        assert error.text == lines[error.line - 1]


@pytest.mark.parametrize("language", sorted(VALID))
def test_valid_code_is_ok(language):
    _needs(language)
    report = check_syntax(VALID[language], language)
    assert report.ok is True and report.errors == []
    assert report.format() == f"{language}: no syntax errors"


def test_columns_count_characters_not_bytes():
    report = check_syntax('let s = "héllo€";\nlet t = (1;\n', "javascript")
    report2 = check_syntax('s = "héllo€"; t = (1\n', "python")
    assert [(e.line, e.column) for e in report2.errors] == [(1, 19)]
    assert report.errors[0].line == 2
    assert report2.errors[0].text[report2.errors[0].column - 1] == "("


def test_format_shows_the_line_and_a_caret():
    report = check_syntax("def f(x)\n    return x\n", "py")
    assert report.format().splitlines() == [
        "line 1, column 9: expected ':'",
        "    1 | def f(x)",
        "                ^",
    ]


def test_python_verdict_follows_the_interpreter():
    # Valid for this interpreter: no error even where tree-sitter's grammar would flag something.
    assert check_syntax("print(f'{x!r:>{width}}')\n", "python").ok
    # Top-level await is allowed (notebook-style snippets); 'return' outside a function is not.
    assert check_syntax("await main()\n", "python").ok
    report = check_syntax("x = 1\nreturn x\n", "python")
    assert [(e.line, e.message) for e in report.errors] == [(2, "'return' outside function")]
    nul = check_syntax("x = 1\ny = '\0'\n", "python")
    assert nul.ok is False
    assert (nul.errors[0].line, nul.errors[0].column) == (2, 6) and "null bytes" in nul.errors[0].message


def test_syntax_warnings_are_not_errors():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_syntax('import re\nre.compile("\\d+")\n', "python").ok


def test_errors_are_capped():
    code = "let a = ;\n" * 30
    assert len(check_syntax(code, "javascript").errors) == 20  # MAX_ERRORS
    report = check_syntax(code, "javascript", max_errors=7)
    assert report.ok is False and [e.line for e in report.errors] == [1, 2, 3, 4, 5, 6, 7]


def test_aliases_and_normalisation():
    assert check_syntax("x = 1\n", "py").language == "python"
    assert check_syntax("let x = 1;\n", "JS").language == "javascript"
    assert check_syntax("echo hi\n", "sh").language == "bash"
    assert normalize_language("Python3") == "python"
    assert normalize_language("{.python .numberLines}") == "python"
    assert normalize_language("python title=x.py") == "python"
    assert normalize_language("rs:src/main.rs") == "rust"
    assert normalize_language("json") == "json"
    assert normalize_language("  ") is None and normalize_language(None) is None


def test_unknown_language_lists_the_supported_ones():
    with pytest.raises(UnsupportedLanguageError) as info:
        check_syntax("x", "cobol")
    message = str(info.value)
    assert "'cobol'" in message
    for name in ("python", "javascript", "typescript", "tsx", "go", "rust", "bash", "sql"):
        assert name in message
    assert isinstance(info.value, ConfigurationError)  # the CLI prints it in one line


@pytest.fixture
def fresh_grammar_cache(monkeypatch):
    monkeypatch.setattr(languages, "_languages", {})
    monkeypatch.setattr(languages, "_parsers", {})


def test_missing_grammar_names_the_pip_package(monkeypatch, fresh_grammar_cache):
    monkeypatch.setitem(languages.GRAMMARS, "go", languages.Grammar("tree-sitter-go", "tree_sitter_go_not_here"))
    with pytest.raises(GrammarNotInstalledError, match=r"grammar for go is not installed: pip install tree-sitter-go"):
        check_syntax("package main\n", "golang")
    assert languages.grammar_installed("go") is False
    assert "go" not in available_languages()


def test_missing_tree_sitter_names_both_packages(monkeypatch, fresh_grammar_cache):
    monkeypatch.setitem(sys.modules, "tree_sitter", None)  # makes `import tree_sitter` fail
    with pytest.raises(GrammarNotInstalledError, match=r"pip install tree-sitter tree-sitter-rust"):
        check_syntax("fn main() {}\n", "rust")


def test_incompatible_grammar_says_to_upgrade(monkeypatch, fresh_grammar_cache):
    import types

    fake = types.ModuleType("tree_sitter_fake")
    fake.language = lambda: (_ for _ in ()).throw(ValueError("Incompatible Language version 99"))
    monkeypatch.setitem(sys.modules, "tree_sitter_fake", fake)
    monkeypatch.setitem(languages.GRAMMARS, "bash", languages.Grammar("tree-sitter-bash", "tree_sitter_fake"))
    with pytest.raises(GrammarNotInstalledError, match=r"pip install -U tree-sitter tree-sitter-bash"):
        check_syntax("echo\n", "bash")


def test_parsers_are_cached_per_language():
    assert languages.get_parser("python") is languages.get_parser("py")
    assert languages.get_parser("typescript") is not languages.get_parser("tsx")


def test_importing_the_plugin_does_not_import_tree_sitter_or_markdown_it():
    code = (
        "import sys, agentcore_code, agentcore_code.plugin\n"
        "bad = [m for m in ('tree_sitter', 'tree_sitter_python', 'markdown_it') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
