"""The Coder-loop verifier: reject a final answer whose code does not parse, or whose tests fail.

Each fenced block in a language with an installed grammar is syntax-checked; any error rejects the
answer with feedback naming the block, each error's line and column, and the offending line, so the
model can fix exactly that. When the Python code parses and carries its own tests (``assert`` lines or
``test_`` functions), the Python blocks run together, in order, in the sandbox of the ``agentcore_sandbox``
plugin when it is installed and can isolate at its required level; a failing assertion, a traceback or
a timeout rejects the answer with what went wrong. No opinion (``None``) when there is nothing to check.

Left unchecked on purpose, because a syntax error there would not be a sure sign of a wrong answer:
blocks without a language tag or in other languages; SQL (dialects differ more than the grammar
covers: Postgres's ``ON CONFLICT``, T-SQL's ``TOP n``); interactive sessions (``>>>`` prompts, IPython
``%magic``/``!shell`` lines), which are transcripts rather than programs. JavaScript and TypeScript
blocks pass when any of the JavaScript, TypeScript and TSX grammars accepts them, since models often
label JSX or typed code loosely; the errors shown are those of the block's own label.
"""

from __future__ import annotations

import re

from agentcore.verification import Verdict

from agentcore_code.fences import CodeBlock, extract_code_blocks
from agentcore_code.languages import GrammarNotInstalledError, grammar_installed
from agentcore_code.syntax import SyntaxReport, check_syntax

#: Languages whose blocks the verifier checks.
VERIFIED_LANGUAGES = ("python", "javascript", "typescript", "tsx", "go", "rust", "bash")

#: Also accepted for a block whose own grammar rejects it (loose labels on JS-family code).
_ALTERNATIVES = {
    "javascript": ("tsx", "typescript"),
    "typescript": ("tsx",),
    "tsx": ("typescript",),
}

#: Errors shown per block: the first ones matter; later ones are often consequences.
MAX_ERRORS_PER_BLOCK = 5

#: Wall-clock limit for running an answer's own tests in the sandbox.
TEST_TIMEOUT_S = 10.0

_HAS_TESTS = re.compile(r"^\s*assert\b|^\s*def test_\w*\s*\(", re.MULTILINE)

_TRANSCRIPT = re.compile(r"^\s*(>>>|In \[\d+\]:|[%!]\w)", re.MULTILINE)


def verify_code_answer(answer: str) -> Verdict | None:
    """Syntax-check the code blocks of ``answer``: a rejecting verdict with feedback, an accepting one,
    or ``None`` when no block could be checked."""
    failures: list[tuple[int, CodeBlock, SyntaxReport]] = []
    checked: list[CodeBlock] = []
    for number, block in enumerate(extract_code_blocks(answer), 1):
        report = _check_block(block)
        if report is None:
            continue
        checked.append(block)
        if not report.ok:
            failures.append((number, block, report))
    if not checked:
        return None
    if failures:
        return Verdict(ok=False, feedback=_feedback(failures))
    test_failure = _run_tests([b for b in checked if b.language == "python"])
    if test_failure is not None:
        return Verdict(ok=False, feedback=test_failure)
    return Verdict(ok=True)


def _run_tests(blocks: list[CodeBlock]) -> str | None:
    """Run the answer's Python (blocks joined in order) when it has tests; feedback if they fail."""
    program = "\n\n".join(b.content for b in blocks)
    if not _HAS_TESTS.search(program):
        return None
    if re.search(r"^\s*def test_\w*\s*\(", program, re.MULTILINE):
        # pytest-style functions: call each one, as a test runner would, after the code has loaded
        program += (
            "\n\nfor _name, _fn in list(globals().items()):\n"
            "    if _name.startswith('test_') and callable(_fn):\n"
            "        _fn()\n"
        )
    try:
        from agentcore_sandbox import SandboxUnavailableError, run_python
    except ImportError:  # the sandbox plugin is not installed: syntax is all we can check
        return None
    try:
        result = run_python(program, timeout_s=TEST_TIMEOUT_S)
    except SandboxUnavailableError:  # never run model code without the isolation the user requires
        return None
    if result.ok:
        return None
    if result.timed_out:
        return (f"Running your code and its tests did not finish within {TEST_TIMEOUT_S:g} s "
                "(an endless loop?). Fix it and give the complete corrected code.")
    tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
    reason = f" ({result.killed_reason})" if result.killed_reason else ""
    return (f"Your code's own tests failed when run (exit code {result.exit_code}{reason}):\n{tail}\n"
            "Fix the code (not the tests, unless they are wrong) and give the complete corrected code.")


def _check_block(block: CodeBlock) -> SyntaxReport | None:
    language = block.language
    if language not in VERIFIED_LANGUAGES or not block.content.strip() or not grammar_installed(language):
        return None
    if language == "python" and _TRANSCRIPT.search(block.content):
        return None
    try:
        report = check_syntax(block.content, language)
        if not report.ok:
            for other in _ALTERNATIVES.get(language, ()):
                if grammar_installed(other) and check_syntax(block.content, other).ok:
                    return SyntaxReport(language=language, ok=True)
    except GrammarNotInstalledError:  # installed but unusable (e.g. built for another tree-sitter)
        return None
    return report


def _feedback(failures: list[tuple[int, CodeBlock, SyntaxReport]]) -> str:
    lines = ["The code in your answer has syntax errors."]
    for number, block, report in failures:
        lines.append(
            f"Code block {number} ({report.language}, opening fence on line {block.start_line} of your answer):"
        )
        shown = report.model_copy(update={"errors": report.errors[:MAX_ERRORS_PER_BLOCK]})
        lines.extend("  " + line for line in shown.format().splitlines())
        hidden = len(report.errors) - len(shown.errors)
        if hidden > 0:
            lines.append(f"  ... and {hidden} more")
        if not block.closed:
            lines.append("  (this code block is never closed: was the answer cut off?)")
    lines.append("Fix these errors and give the complete corrected code.")
    return "\n".join(lines)
