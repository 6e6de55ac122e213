"""agentcore_code: outlines of definitions, nested as written, in each supported language."""

from __future__ import annotations

import pytest

from agentcore_code import Symbol, UnsupportedLanguageError, outline
from agentcore_code import languages


def _flat(symbols: list[Symbol], depth: int = 0) -> list[tuple]:
    out = []
    for s in symbols:
        out.append((depth, s.kind, s.name, s.start_line, s.end_line))
        out.extend(_flat(s.children, depth + 1))
    return out


PYTHON = '''import x

@dataclass(frozen=True)
class A(Base):
    """doc"""
    x: int = 1

    @property
    def p(self) -> int:
        return 1

    async def fetch(
        self,
        url: str,
    ) -> bytes:
        def inner():
            pass
        return b""

    class Inner:
        def m(self): ...

async def main():
    pass
'''


def test_python_outline_nests_methods_classes_and_inner_functions():
    symbols = outline(PYTHON, "python")
    assert _flat(symbols) == [
        (0, "class", "A", 3, 21),
        (1, "method", "p", 8, 10),
        (1, "method", "fetch", 12, 18),
        (2, "function", "inner", 16, 17),
        (1, "class", "Inner", 20, 21),
        (2, "method", "m", 21, 21),
        (0, "function", "main", 23, 24),
    ]
    a, main = symbols
    assert a.decorators == ["dataclass(frozen=True)"] and a.signature == "class A(Base):"
    prop, fetch = a.children[0], a.children[1]
    assert prop.decorators == ["property"] and prop.signature == "def p(self) -> int:"
    # a multi-line signature comes back on one line
    assert fetch.is_async and fetch.signature == "async def fetch(self, url: str) -> bytes:"
    assert main.is_async and main.signature == "async def main():" and not prop.is_async


def test_outline_of_broken_code_still_finds_definitions():
    symbols = outline("def ok():\n    return 1\n\ndef broken(:\n    pass\n\nclass C:\n    def m(self): pass\n", "py")
    names = [s.name for s in symbols]
    assert "ok" in names and "C" in names
    assert outline("", "python") == []


def test_javascript_outline():
    code = (
        "class A extends B {\n  static async *gen(a) {}\n  handle = (e) => {};\n  get x() { return 1; }\n}\n"
        "export const f = async (a) => { function inner() {} };\n"
    )
    symbols = outline(code, "js")
    assert _flat(symbols) == [
        (0, "class", "A", 1, 5),
        (1, "method", "gen", 2, 2),
        (1, "method", "handle", 3, 3),
        (1, "method", "x", 4, 4),
        (0, "function", "f", 6, 6),
        (1, "function", "inner", 6, 6),
    ]
    assert symbols[0].children[0].is_async
    assert symbols[1].signature == "const f = async (a) =>" and symbols[1].is_async


def test_typescript_outline_with_decorators_interfaces_and_enums():
    code = (
        "@dec()\nexport abstract class A<T> implements I {\n  private m(x: number): void {}\n  abstract n(): void;\n}\n"
        "interface I { m(x: number): void; }\nenum E { A }\ntype T = string;\n"
        "declare function g(a: number): void;\nnamespace NS { function h() {} }\n"
    )
    symbols = outline(code, "typescript")
    assert _flat(symbols) == [
        (0, "class", "A", 1, 5),
        (1, "method", "m", 3, 3),
        (1, "method", "n", 4, 4),
        (0, "interface", "I", 6, 6),
        (1, "method", "m", 6, 6),
        (0, "enum", "E", 7, 7),
        (0, "type", "T", 8, 8),
        (0, "function", "g", 9, 9),
        (0, "module", "NS", 10, 10),
        (1, "function", "h", 10, 10),
    ]
    assert symbols[0].decorators == ["dec()"]
    assert symbols[0].children[0].signature == "private m(x: number): void"


def test_go_methods_go_under_their_receiver_type():
    code = (
        "package main\ntype S struct { a int }\ntype I interface { M() int }\ntype F func()\n"
        "func (s *S[T]) M() int { return 1 }\nfunc (o Other) N() {}\nfunc main() {}\n"
    )
    symbols = outline(code, "go")
    assert _flat(symbols) == [
        (0, "struct", "S", 2, 2),
        (1, "method", "M", 5, 5),
        (0, "interface", "I", 3, 3),
        (1, "method", "M", 3, 3),
        (0, "type", "F", 4, 4),
        (0, "method", "N", 6, 6),  # receiver type not in this code: stays at the top
        (0, "function", "main", 7, 7),
    ]
    assert symbols[0].signature == "type S struct"
    assert symbols[0].children[0].signature == "func (s *S[T]) M() int"


def test_rust_outline_with_impls_traits_and_attributes():
    code = (
        "mod m { pub fn f() {} }\nstruct S;\nenum E { A }\ntrait T { fn m(&self); fn d(&self) {} }\n"
        "impl<T> T for S<T> { async fn m(&self) {} }\n#[test]\n#[ignore]\nfn t() {}\n"
    )
    symbols = outline(code, "rust")
    assert _flat(symbols) == [
        (0, "module", "m", 1, 1),
        (1, "function", "f", 1, 1),
        (0, "struct", "S", 2, 2),
        (0, "enum", "E", 3, 3),
        (0, "trait", "T", 4, 4),
        (1, "method", "m", 4, 4),
        (1, "method", "d", 4, 4),
        (0, "impl", "T for S<T>", 5, 5),
        (1, "method", "m", 5, 5),
        (0, "function", "t", 6, 8),
    ]
    assert symbols[-2].children[0].is_async
    assert symbols[-1].decorators == ["test", "ignore"] and symbols[-1].signature == "fn t()"


def test_bash_outline():
    symbols = outline("f() { echo; }\nfunction g {\n  echo\n}\n", "bash")
    assert _flat(symbols) == [(0, "function", "f", 1, 1), (0, "function", "g", 2, 4)]


def test_sql_outline():
    if not languages.grammar_installed("sql"):
        pytest.skip("tree-sitter-sql is not installed")
    code = "CREATE TABLE t (\n  a int\n);\nCREATE VIEW v AS SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n"
    symbols = outline(code, "sql")
    assert _flat(symbols) == [(0, "table", "t", 1, 3), (0, "view", "v", 4, 4), (0, "function", "f", 5, 5)]
    assert symbols[0].signature == "CREATE TABLE t ("


def test_deeply_nested_code_does_not_overflow():
    code = "x = " + "+".join(["1"] * 5000) + "\ndef f():\n    pass\n"
    assert [s.name for s in outline(code, "python")] == ["f"]


def test_outline_unknown_language():
    with pytest.raises(UnsupportedLanguageError, match="supported|can parse"):
        outline("x", "brainfuck")
