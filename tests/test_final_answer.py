"""extract_final_answer: the 17 labelled rows and the edge cases of the policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentcore.parsing import FinalAnswerResult, extract_final_answer

DATA = Path(__file__).parent / "data" / "math_extract.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("row", ROWS, ids=[str(r["id"]) for r in ROWS])
def test_fixture_row(row: dict) -> None:
    got = extract_final_answer(row["text"])
    if row["expected_answer"] is None:
        assert got is None
    else:
        assert got is not None and got.value == row["expected_answer"], row["note"]
        assert got.fallback == row["fallback"]


def test_fixture_count() -> None:
    assert len(ROWS) == 17


@pytest.mark.parametrize(
    "text, value, method",
    [
        (r"$\boxed{\frac{1}{2}}$", r"\frac{1}{2}", "boxed"),  # nested braces
        (r"so $\boxed 5$.", "5", "boxed"),  # no braces
        (r"\boxed 12.", "12", "boxed"),
        (r"\fbox{7}", "7", "boxed"),
        (r"\boxed{1} then \fbox{2} and finally \boxed{3}", "3", "boxed"),  # last box wins
        (r"\boxed{2} and a broken \boxed{3", "2", "boxed"),  # an unclosed box is not a box
        (r"\boxed{\{1,2\}}", r"\{1,2\}", "boxed"),  # escaped braces do not count
        ("Final answer: 17.", "17", "phrase"),  # trailing period dropped
        ("The final answer is $x^2$.", "x^2", "phrase"),
        ("The answer is 3. Later: the answer is 4.", "4", "phrase"),
        ("So the answer is 12. We are done.", "12", "phrase"),
        ("Natalia sold 48 clips.\n#### 72", "72", "gsm8k"),
        ("#### 1,234", "1234", "gsm8k"),
        ("I got 3 apples and then 5 more, so 8", "8", "last_number"),
        ("The loss was -2.5 percent", "-2.5", "last_number"),
    ],
)
def test_edge_cases(text: str, value: str, method: str) -> None:
    got = extract_final_answer(text)
    assert got == FinalAnswerResult(value=value, method=method, fallback=(method == "last_number"))


def test_nothing_to_extract() -> None:
    assert extract_final_answer("") is None
    assert extract_final_answer("No idea, sorry.") is None
    assert extract_final_answer("I boxed it somewhere") is None


def test_word_boxed_is_not_a_box() -> None:
    got = extract_final_answer(r"It is $\boxed{7}$ (I boxed the answer 9 above)")
    assert got is not None and got.value == "7"
