"""Math answer equivalence: the fixture score (no false positives) and the spec's rules, row by row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentcore_sympy import Equivalence, answers_equal
from agentcore_sympy.limits import SymbolicTimeout, run_limited

ROWS = [json.loads(line) for line in (Path(__file__).parent / "data" / "math_equiv.jsonl").read_text().splitlines() if line.strip()]


def test_fixture_score_with_zero_false_positives():
    verdicts = [(row, answers_equal(row["pred"], row["gold"])) for row in ROWS]
    correct = sum(v.equal == row["equal"] for row, v in verdicts)
    false_positives = [(row["id"], row["pred"], row["gold"]) for row, v in verdicts if v.equal and not row["equal"]]
    assert len(ROWS) == 122
    assert false_positives == []
    assert correct >= 118, [(row["id"], v.reason) for row, v in verdicts if v.equal != row["equal"]]


# One row per kind of the fixture, right and wrong, so a regression names the rule it broke.
_BY_KIND: dict[tuple[str, bool], dict] = {}
for _row in ROWS:
    _BY_KIND.setdefault((_row["kind"], _row["equal"]), _row)


@pytest.mark.parametrize("row", list(_BY_KIND.values()), ids=[f"{k}-{'eq' if e else 'ne'}-{r['id']}" for (k, e), r in _BY_KIND.items()])
def test_fixture_kind(row):
    verdict = answers_equal(row["pred"], row["gold"])
    assert verdict.equal == row["equal"], verdict.reason


SPEC_CASES = [
    # exact decimals and integers
    ("10001", "10000", False), ("16386.17", "16386.20", False), ("0.10000001", "0.1", False), ("2.0", "2", True),
    # decimals approximating irrational / non-terminating references
    ("0.33333", r"\frac{1}{3}", True), ("0.333", r"\frac{1}{3}", False), ("3.14", r"\pi", False),
    ("3.14159", r"\pi", True), ("1.4142", r"\sqrt{2}", True), ("0.50001", r"\frac12", False), ("e", "2.718", False),
    # percent
    (r"10\%", "0.1", True), (r"10\%", "10", True), ("0.125", r"12.5\%", True), ("10", "0.1", False), ("50", r"\frac12", False),
    # sets, tuples, intervals, unions
    (r"\{1,2\}", r"\{2,1\}", True), ("(1,2)", "(2,1)", False), ("[1,2]", "(1,2)", False), ("3, 3", "3", False),
    (r"(-\infty, 3)", "x<3", True), (r"x \le 3", "x<3", False), (r"\pm 2", "2,-2", True), (r"x = \pm 2", "-2, 2", True),
    (r"\infty", r"-\infty", False), (r"\emptyset", r"\{\}", True), ("(1,2,3)", "(1,3,2)", False),
    # equations and inequalities
    ("x^2-1=0", "2x^2-2=0", True), ("x^2-1=0", "x^2+1=0", False), ("y=2x+1", "2x+1", True), ("x=3", "y=3", False),
    ("x=1, y=2", "y=2, x=1", True), ("x=1,y=2", "x=2,y=1", False), ("x > 5", "5 < x", True), ("2x < 6", "x<3", True),
    (r"x \ge 5", "x>5", False), ("-x<-3", "x<3", False),
    # units, mixed numbers, bases
    ("5 m", "5 cm", False), (r"5\text{ m}", r"500\text{ cm}", False), (r"4\text{ cm}^2", r"4\text{ cm}", False),
    (r"\$10", "10", True), (r"10 dollars", r"\$10", True), (r"1\frac12", "3/2", True), (r"2\frac{1}{3}", r"\frac{7}{3}", True),
    ("54", "204_5", False), ("204", "204_5", True), ("204_6", "204_5", False),
    # LaTeX variants and expressions
    ("1,000,000", "1000000", True), (r"\sqrt{2}/2", r"1/\sqrt{2}", True), ("10^{3}", "1000", True), ("999", "10^3", False),
    (r"\dbinom{5}{2}", "10", True), (r"\frac{x}{2}", "0.5x", True), ("sqrt(8)", "2*sqrt(2)", True), ("ab", "ba", True),
    (r"\sqrt{x^2}", "x", False), ("|x|", "x", False), ("i", "-i", False), (r"\log_2 8", "3", True),
    ("3.00001", r"\log_2 8", False), (r"\frac{\sqrt{3}}{2}", r"\sin(60^\circ)", True), ("1e-3", "0.001", True),
    # text answers
    (r"\text{(A)}", "A", True), ("(B)", "(A)", False), ("yes", "Yes", True), ("no", "yes", False), (r"\text{Monday}", "Monday.", True),
]


@pytest.mark.parametrize(("pred", "gold", "expected"), SPEC_CASES, ids=[f"{p} vs {g}" for p, g, _ in SPEC_CASES])
def test_spec_rule(pred, gold, expected):
    verdict = answers_equal(pred, gold)
    assert isinstance(verdict, Equivalence)
    assert verdict.equal is expected, verdict.reason


def test_empty_and_malformed_answers_are_unequal_not_errors():
    assert not answers_equal("", "1")
    assert not answers_equal(r"\frac{1}{", "1")
    assert not answers_equal(r"\frac{1}{0}", "1")


def test_hopeless_symbolic_work_is_not_proven_equal():
    # 9^(9^(9^9)) cannot be evaluated: the child doing it is killed and the answer is "not proven equal".
    verdict = answers_equal("9^{9^{9^{9}}}", "1", timeout_s=1)
    assert verdict.equal is False and "timed out" in verdict.reason


def _spin() -> None:
    while True:
        pass


def test_run_limited_kills_a_runaway_child_and_passes_results_and_errors():
    with pytest.raises(SymbolicTimeout):
        run_limited(_spin, timeout_s=0.5)
    assert run_limited(sum, [1, 2, 3], timeout_s=5) == 6
    with pytest.raises(ZeroDivisionError):
        run_limited(divmod, 1, 0, timeout_s=5)
