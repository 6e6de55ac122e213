"""A code-assistant bot: it writes a function, tree-sitter catches its syntax error, the sandbox runs its
tests, and it fixes what fails until the tests pass.

What it shows
- The Coder specialist (``specialist="coder"``) with the ``code`` and ``sandbox`` plugins
  (``AGENTCORE_PLUGINS=code,sandbox``): tools ``run_python``, ``check_syntax``, ``code_outline``,
  ``extract_code_blocks``, and the code plugin's verifier, which syntax-checks every code block of a final
  answer with tree-sitter before the run may end.
- Step 1: the model answers with code that does not parse (a missing colon). The verifier rejects it with
  the line, column and a caret; the feedback goes back to the model.
- Step 2: the model runs the corrected function with its tests in the sandbox (``run_python``: a separate
  process with no network and limits on time and memory). One assertion fails: punctuation is not ignored.
- Step 3: the model fixes the logic and runs the tests again; they pass.
- Step 4: the final answer; its code block parses, so the verifier lets the run end.

Run it (offline, a few seconds; the model's text is scripted, tree-sitter and the sandbox are real):

    AGENTCORE_PLUGINS=code,sandbox .venv/bin/python examples/code_assistant.py

Against a real Qwen model (the Coder specialist's default family is Qwen2.5-Coder):

    AGENTCORE_PLUGINS=code,sandbox .venv/bin/python examples/code_assistant.py --model Qwen/Qwen2.5-Coder-7B-Instruct
    AGENTCORE_PLUGINS=code,sandbox .venv/bin/python examples/code_assistant.py \\
        --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-Coder-7B-Instruct     # vLLM
    AGENTCORE_PLUGINS=code,sandbox .venv/bin/python examples/code_assistant.py --embedded   # SmolLM2-135M, offline

See docs/sandbox.md for what the sandbox isolates and how.
"""

from __future__ import annotations

import json
import sys

from _common import make_backend, parse_args, sampling, show

from agentcore import Agent

TASK = (
    "Write a Python function is_palindrome(text) that says whether a string reads the same backwards, "
    "ignoring case, spaces and punctuation. Test it before you answer."
)

SIGNATURE_TYPO = "def is_palindrome(text: str) -> bool\n"
SIGNATURE = "def is_palindrome(text: str) -> bool:\n"
FIRST_BODY = '    """Whether text reads the same backwards, ignoring case."""\n' \
             "    cleaned = text.replace(' ', '').lower()\n" \
             "    return cleaned == cleaned[::-1]\n"
FIXED_BODY = '    """Whether text reads the same backwards, ignoring case, spaces and punctuation."""\n' \
             "    cleaned = [c.lower() for c in text if c.isalnum()]\n" \
             "    return cleaned == cleaned[::-1]\n"
TESTS = (
    "\n"
    "assert is_palindrome('racecar')\n"
    "assert is_palindrome('Never odd or even')\n"
    "assert is_palindrome('A man, a plan, a canal: Panama!')\n"
    "assert not is_palindrome('hello')\n"
    "assert is_palindrome('')\n"
    "print('all 5 tests passed')\n"
)


def _call(name: str, **arguments: object) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


# What the scripted model (Qwen2.5-Coder's format: no thinking, hermes tool calls) says at each step.
SCRIPT = [
    "Here is the function:\n\n```python\n" + SIGNATURE_TYPO + FIRST_BODY + "```\n\n"
    "It lower-cases the text, drops the spaces and compares it with its reverse.",
    "You're right, the `def` line is missing its colon. Let me run the fixed version with some tests.\n"
    + _call("run_python", code=SIGNATURE + FIRST_BODY + TESTS),
    "The third test fails: punctuation (the commas, colon and '!') is still there. I'll keep only "
    "letters and digits.\n" + _call("run_python", code=SIGNATURE + FIXED_BODY + TESTS),
    "All tests pass.\n\n```python\n" + SIGNATURE + FIXED_BODY + "```\n\n"
    "It keeps only letters and digits (`str.isalnum`), lower-cased, and compares the sequence with its "
    "reverse. Tested on 'racecar', 'Never odd or even', 'A man, a plan, a canal: Panama!', 'hello' and ''.",
]


def main() -> int:
    args = parse_args(__doc__)
    agent = Agent(backend=make_backend(args, SCRIPT, family="qwen2.5"), specialist="coder", max_steps=8,
                  sampling=sampling(args))
    missing = {"run_python", "check_syntax"} - set(agent.tools)
    if missing:
        print(f"missing tools {sorted(missing)}: run with AGENTCORE_PLUGINS=code,sandbox (or leave it unset)")
        return 2
    print(f"task: {TASK}")
    print(f"tools offered: {', '.join(sorted(agent.tools))}\n")
    final = show(agent.stream(TASK))
    return 0 if final is not None and final.status == "final" else 1


if __name__ == "__main__":
    sys.exit(main())
