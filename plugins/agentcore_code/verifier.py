"""The Coder-loop verifier: reject a final answer whose code blocks do not parse.

Each fenced block in a language with an installed grammar is syntax-checked; any error rejects the
answer with feedback naming the block, each error's line and column, and the offending line, so the
model can fix exactly that. No opinion (``None``) when there is nothing it can check.

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

_TRANSCRIPT = re.compile(r"^\s*(>>>|In \[\d+\]:|[%!]\w)", re.MULTILINE)


def verify_code_answer(answer: str) -> Verdict | None:
    """Syntax-check the code blocks of ``answer``: a rejecting verdict with feedback, an accepting one,
    or ``None`` when no block could be checked."""
    failures: list[tuple[int, CodeBlock, SyntaxReport]] = []
    checked = 0
    for number, block in enumerate(extract_code_blocks(answer), 1):
        report = _check_block(block)
        if report is None:
            continue
        checked += 1
        if not report.ok:
            failures.append((number, block, report))
    if not checked:
        return None
    if not failures:
        return Verdict(ok=True)
    return Verdict(ok=False, feedback=_feedback(failures))


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
