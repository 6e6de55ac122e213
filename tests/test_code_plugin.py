"""agentcore_code's plugin: its tools (schemas, outputs, errors as feedback) and the Coder verifier."""

from __future__ import annotations

import asyncio
import json

import pytest

from agentcore.messages import ToolCall
from agentcore.plugins import register_plugin, registered_tools, reset_plugin_manager
from agentcore.verification import Verdict, VerificationContext

from agentcore_code import plugin as code_plugin
from agentcore_code import languages
from agentcore_code.verifier import verify_code_answer

LANGS = ["python", "javascript", "typescript", "tsx", "go", "rust", "bash", "sql"]


@pytest.fixture
def tools(monkeypatch):
    monkeypatch.setenv("AGENTCORE_PLUGINS", "code")  # the real entry point
    reset_plugin_manager()
    return registered_tools()


def _call(tools, name, **arguments):
    from agentcore.dispatch import execute_call

    call = ToolCall(id="c1", name=name, arguments=arguments)
    return asyncio.run(execute_call(call, tools))


def test_tools_are_registered_from_the_entry_point(tools):
    assert {"check_syntax", "code_outline", "extract_code_blocks"} <= set(tools)
    assert all(tools[name].source == "code" for name in ("check_syntax", "code_outline", "extract_code_blocks"))


def test_tool_schemas(tools):
    for name in ("check_syntax", "code_outline"):
        params = tools[name].parameters_schema()
        assert params["required"] == ["code", "language"]
        assert params["properties"]["language"]["enum"] == LANGS
        assert params["properties"]["code"]["type"] == "string" and params["properties"]["code"]["description"]
        assert params["additionalProperties"] is False
    blocks = tools["extract_code_blocks"].openai_schema()["function"]
    assert blocks["parameters"]["required"] == ["markdown"]
    assert blocks["parameters"]["properties"]["markdown"]["description"]
    assert "fenced code blocks" in blocks["description"]


def test_check_syntax_tool_output(tools):
    result = _call(tools, "check_syntax", code="def f(x)\n    return x\n", language="python")
    assert result.ok
    data = json.loads(result.content)
    assert data == {
        "language": "python",
        "ok": False,
        "errors": [{"line": 1, "column": 9, "message": "expected ':'", "text": "def f(x)"}],
    }


def test_code_outline_tool_output(tools):
    result = _call(tools, "code_outline", code="class A:\n    def m(self):\n        pass\n", language="python")
    data = json.loads(result.content)
    assert [(s["kind"], s["name"], s["start_line"], s["end_line"]) for s in data] == [("class", "A", 1, 3)]
    assert data[0]["children"][0]["name"] == "m" and data[0]["children"][0]["signature"] == "def m(self):"


def test_extract_code_blocks_tool_output(tools):
    result = _call(tools, "extract_code_blocks", markdown="Hi\n```ts\nlet x: number = 1;\n```\n")
    assert json.loads(result.content) == [
        {"language": "typescript", "info": "ts", "content": "let x: number = 1;\n", "start_line": 2, "end_line": 4,
         "closed": True}
    ]


def test_unsupported_language_goes_back_to_the_model_as_feedback(tools):
    result = _call(tools, "check_syntax", code="x", language="cobol")
    assert not result.ok
    assert "language" in result.content and "python" in result.content


# --- the verifier -------------------------------------------------------------------------------------

GOOD = "Here you go:\n\n```python\ndef add(a, b):\n    return a + b\n```\n"
BAD = (
    "Here is the fix:\n\n"
    "```python\n"
    "def add(a, b)\n"
    "    return a + b\n"
    "```\n"
    "And in JS:\n"
    "```js\n"
    "function add(a, b) {\n"
    "  return a + b;\n"
    "```\n"
)


def _verify(answer: str, specialist: str | None = "coder") -> Verdict | None:
    return code_plugin.agentcore_verify_answer(
        task="write add", answer=answer, context=VerificationContext(specialist=specialist)
    )


def test_verifier_accepts_good_code():
    assert _verify(GOOD) == Verdict(ok=True)


def test_verifier_rejects_bad_code_with_line_and_text():
    verdict = _verify(BAD)
    assert verdict is not None and verdict.ok is False
    feedback = verdict.feedback
    assert "Code block 1 (python, opening fence on line 3 of your answer):" in feedback
    assert "line 1, column 14: expected ':'" in feedback
    assert "1 | def add(a, b)" in feedback
    assert "Code block 2 (javascript, opening fence on line 8 of your answer):" in feedback
    assert "missing '}'" in feedback
    assert "never closed" not in feedback
    assert feedback.rstrip().endswith("Fix these errors and give the complete corrected code.")


def test_verifier_has_no_opinion_without_checkable_blocks():
    assert _verify("The answer is 42.") is None
    assert _verify("```\nno language\n```\n") is None
    assert _verify("```text\nnot code (\n```\n") is None
    assert _verify("```sql\nINSERT INTO t VALUES (1) ON CONFLICT (id) DO NOTHING;\n```\n") is None  # SQL unverified
    assert _verify("```python\n>>> 1 +\n```\n") is None  # a REPL transcript
    assert _verify("```python\n%timeit f(\n```\n") is None  # IPython magic
    assert _verify("```python\n\n```\n") is None


def test_verifier_only_for_the_coder_specialist():
    assert _verify(BAD, specialist="general") is None
    assert _verify(BAD, specialist=None) is None
    assert code_plugin.agentcore_verify_answer(task="t", answer=BAD, context=None) is None


def test_verifier_accepts_loosely_labelled_js_family_code():
    assert verify_code_answer("```js\nconst x: number = 1;\n```\n") == Verdict(ok=True)  # TS labelled js
    assert verify_code_answer("```typescript\nconst A = () => <div>hi</div>;\n```\n") == Verdict(ok=True)  # TSX
    bad = verify_code_answer("```ts\nconst x: number = ;\n```\n")
    assert bad is not None and not bad.ok and "(typescript," in bad.feedback


def test_verifier_checks_every_language_it_supports():
    answer = (
        "```go\npackage main\nfunc main() {\n\tfmt.Println(\"hi\"\n}\n```\n"
        "```rust\nfn main() {\n    let x: = 5;\n}\n```\n"
        "```bash\nif true; then\n  echo hi\n```\n"
        "```python\nprint('ok')\n```\n"
    )
    verdict = verify_code_answer(answer)
    assert verdict is not None and not verdict.ok
    assert "line 3, column 18: missing ')'" in verdict.feedback
    assert "line 2, column 10: unexpected ':'" in verdict.feedback
    assert "missing 'fi'" in verdict.feedback
    assert "Code block 4" not in verdict.feedback


def test_verifier_skips_languages_whose_grammar_is_missing(monkeypatch):
    monkeypatch.setattr(languages, "_languages", {})
    monkeypatch.setattr(languages, "_parsers", {})
    monkeypatch.setitem(languages.GRAMMARS, "rust", languages.Grammar("tree-sitter-rust", "tree_sitter_rust_absent"))
    assert verify_code_answer("```rust\nfn main( {}\n```\n") is None


def test_verifier_points_out_an_unclosed_block():
    verdict = verify_code_answer("Sure:\n```python\ndef f(x):\n    return (x +\n")
    assert verdict is not None and not verdict.ok
    assert "'(' was never closed" in verdict.feedback
    assert "this code block is never closed: was the answer cut off?" in verdict.feedback


def test_verifier_caps_errors_per_block():
    verdict = verify_code_answer("```js\n" + "let a = ;\n" * 12 + "```\n")
    assert verdict is not None and "... and 7 more" in verdict.feedback


def test_coder_run_gets_syntax_feedback_then_accepts():
    from agentcore import Agent
    from agentcore.testing import ScriptedBackend

    register_plugin(code_plugin, name="code")
    backend = ScriptedBackend([BAD, GOOD])
    result = Agent(backend=backend, tools=[], specialist="coder").run("write add")
    assert result.answer.strip() == GOOD.strip() and result.verified is True
    assert "line 1, column 14: expected ':'" in backend.prompts[1]
    assert result.steps[0].verdicts[0].verifier == "code" and result.steps[0].verdicts[0].ok is False


def test_verifier_skips_a_grammar_that_is_installed_but_unusable(monkeypatch):
    import sys
    import types

    fake = types.ModuleType("tree_sitter_broken")
    fake.language = lambda: (_ for _ in ()).throw(ValueError("Incompatible Language version 99"))
    monkeypatch.setitem(sys.modules, "tree_sitter_broken", fake)
    monkeypatch.setattr(languages, "_languages", {})
    monkeypatch.setattr(languages, "_parsers", {})
    monkeypatch.setitem(languages.GRAMMARS, "go", languages.Grammar("tree-sitter-go", "tree_sitter_broken"))
    monkeypatch.setattr(languages.importlib.util, "find_spec", lambda name: object())
    assert verify_code_answer("```go\nfunc main( {}\n```\n") is None


def test_a_forked_child_gets_a_fresh_lock_and_parsers():
    import os

    languages.get_parser("python")
    read, write = os.pipe()
    with languages._lock:  # held in the parent while forking, as another thread might
        pid = os.fork()
        if pid == 0:  # the child: must be able to parse at once
            try:
                import signal

                signal.alarm(20)  # a child stuck on the inherited lock dies instead of hanging the test
                ok = languages.parse("x = 1\n", "python").root_node.has_error is False
                os.write(write, b"1" if ok else b"0")
            finally:
                os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    os.close(read)


# --- running the answer's own tests in the sandbox ----------------------------------------------------


def _sandbox_available() -> bool:
    try:
        from agentcore_sandbox import default_python, detect

        return detect(default_python()).best == "full"
    except Exception:
        return False


needs_sandbox = pytest.mark.skipif(not _sandbox_available(), reason="bubblewrap sandbox unavailable")


@needs_sandbox
def test_verifier_runs_the_answers_tests_and_reports_failures():
    from agentcore_code.verifier import verify_code_answer

    wrong = "```python\ndef add(a, b):\n    return a - b\n\nassert add(2, 3) == 5\n```"
    verdict = verify_code_answer(wrong)
    assert verdict is not None and not verdict.ok
    assert "tests failed" in verdict.feedback and "AssertionError" in verdict.feedback
    right = "```python\ndef add(a, b):\n    return a + b\n```\n\n```python\nassert add(2, 3) == 5\n```"
    assert verify_code_answer(right).ok


@needs_sandbox
def test_verifier_calls_pytest_style_test_functions():
    from agentcore_code.verifier import verify_code_answer

    code = "```python\ndef double(x):\n    return x * 3\n\ndef test_double():\n    assert double(2) == 4\n```"
    verdict = verify_code_answer(code)
    assert verdict is not None and not verdict.ok and "test_double" in verdict.feedback


def test_code_without_tests_is_only_syntax_checked(monkeypatch):
    import agentcore_code.verifier as verifier

    monkeypatch.setattr(verifier, "_HAS_TESTS", __import__("re").compile(r"(?!)"))
    assert verifier.verify_code_answer("```python\nwhile True:\n    pass\n```").ok
