"""parse_output: the 60 labelled fixture rows, each leniency and rejection rule, and robustness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentcore.parsing import ParsedOutput, parse_output, split_reasoning

DATA = Path(__file__).parent / "data" / "toolcalls.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def calls(p: ParsedOutput) -> list[dict]:
    return [{"name": c.name, "arguments": c.arguments} for c in p.tool_calls]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['id']}-{r['format']}" for r in ROWS])
def test_fixture_row(row: dict) -> None:
    p = parse_output(row["raw"], format=row["format"], tools=row.get("tools"))
    assert calls(p) == row["expected_calls"], row["note"]
    assert p.content == row["expected_content"], row["note"]
    assert p.reasoning == row["expected_reasoning"], row["note"]


def test_fixture_count() -> None:
    assert len(ROWS) == 60


# --- hermes leniency: each of these is recovered as a call ---------------------------------------------

def one(text: str, **kw) -> dict:
    p = parse_output(text, **kw)
    assert len(p.tool_calls) == 1, p
    assert not p.problems
    return calls(p)[0]


@pytest.mark.parametrize(
    "body, expected",
    [
        ('{"name": "w", "arguments": {"t": "a\nb\tc"}}', {"t": "a\nb\tc"}),  # literal newline and tab
        ('{"name": "w", "arguments": {"a": 1, "b": [1, 2,],},}', {"a": 1, "b": [1, 2]}),  # trailing commas
        ('{name: "w", arguments: {city: "Quito"}}', {"city": "Quito"}),  # unquoted keys
        ("{'name': 'w', 'arguments': {'ok': True, 'x': None, 'f': False}}", {"ok": True, "x": None, "f": False}),
        ('{"name": "w", "arguments": {"a": 1}}}', {"a": 1}),  # extra closing brace
        ('{"name": "w", "arguments": {"a": 1}} I hope this helps!', {"a": 1}),  # prose after the object
        ('{"name": "w", "parameters": {"a": 1}}', {"a": 1}),  # "parameters" instead of "arguments"
        ('{"name": "w"}', {}),  # missing arguments
        ('{"name": "w", "arguments": null}', {}),  # null arguments
        ('{"name": "w", "arguments": "{\\"a\\": 1}"}', {"a": 1}),  # JSON-encoded string, decoded once
        ('{"type": "function", "function": {"name": "w", "arguments": {"a": 1}}}', {"a": 1}),  # OpenAI wrapper
        ('{"name": "w", "arguments": {"big": 123456789012345678901234567890}}', {"big": 123456789012345678901234567890}),
    ],
)
def test_hermes_leniency(body: str, expected: dict) -> None:
    got = one(f"<tool_call>\n{body}\n</tool_call>")
    assert got == {"name": "w", "arguments": expected}


def test_several_objects_and_arrays_are_several_calls() -> None:
    p = parse_output('<tool_call>\n[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"x": 1}}]\n</tool_call>')
    assert calls(p) == [{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"x": 1}}]
    p = parse_output('<tool_call>{"name": "a"}\n{"name": "b"}</tool_call>')
    assert [c.name for c in p.tool_calls] == ["a", "b"]


def test_string_arguments_are_decoded_only_once() -> None:
    # a doubly encoded object decodes to a string the first time: not an object, so rejected
    p = parse_output('<tool_call>{"name": "w", "arguments": "\\"{\\\\\\"a\\\\\\": 1}\\""}</tool_call>')
    assert p.tool_calls == [] and len(p.problems) == 1


# --- hermes rejections: the block stays text and a problem explains --------------------------------------

@pytest.mark.parametrize(
    "raw, reason",
    [
        ('<tool_call>\n{"name": "w", "arguments": "hello"}\n</tool_call>', "must be a JSON object"),
        ('<tool_call>\n{"name": "w", "arguments": [1, 2]}\n</tool_call>', "must be a JSON object"),
        ('<tool_call>\n{"arguments": {"a": 1}}\n</tool_call>', '"name"'),
        ('<tool_call>\n{"name": "", "arguments": {}}\n</tool_call>', '"name"'),
        ('<tool_call>\n{"name": "w", "arguments": {"a": 1,, }}\n</tool_call>', "invalid JSON"),
        ('<tool_call>\n{"name": "w", "arguments": {"a": 1', "cut off"),
        ('<tool_call>\n<function=w>\n<parameter=a>\n1\n</parameter>\n</function>\n</tool_call>', "XML"),
    ],
)
def test_hermes_rejections_stay_text_with_problem(raw: str, reason: str) -> None:
    p = parse_output(raw)
    assert p.tool_calls == []
    assert p.content == raw.strip()
    assert len(p.problems) == 1
    prob = p.problems[0]
    assert reason in prob.message
    assert prob.raw == raw  # the block's own text
    # actionable: says nothing ran and shows the correct format
    assert "Nothing was executed" in prob.message
    assert '<tool_call>\n{"name": ' in prob.message and "</tool_call>" in prob.message


@pytest.mark.parametrize(
    "raw",
    [
        '<tools>\n{"name": "w", "arguments": {}}\n</tools>',  # wrong tag
        '{"name": "w", "arguments": {"a": 1}}',  # bare JSON without tags
        '<function_call>{"name": "w", "arguments": {}}</function_call>',
        "Wrap the JSON in a <tool_call> tag.",  # a mention: text, and no problem either
    ],
)
def test_no_call_without_the_tag(raw: str) -> None:
    p = parse_output(raw)
    assert p.tool_calls == [] and p.problems == [] and p.content == raw


def test_bad_block_does_not_discard_good_ones() -> None:
    raw = (
        'A\n<tool_call>{"name": "a", "arguments": {}}</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": "oops"}</tool_call>\n'
        '<tool_call>{"name": "c", "arguments": {"x": 1}}</tool_call>'
    )
    p = parse_output(raw)
    assert [c.name for c in p.tool_calls] == ["a", "c"]
    assert p.content == 'A\n\n<tool_call>{"name": "b", "arguments": "oops"}</tool_call>'
    assert len(p.problems) == 1


def test_block_structure() -> None:
    # final block without </tool_call>, implicit close by a new <tool_call>, stray </tool_call> dropped
    p = parse_output('x </tool_call> y\n<tool_call>{"name": "a"}\n<tool_call>{"name": "b"}')
    assert [c.name for c in p.tool_calls] == ["a", "b"]
    assert p.content == "x  y"
    # a cut-off final block is never executed
    p = parse_output('<tool_call>{"name": "a"}</tool_call><tool_call>{"name": "b", "arguments": {"q": "x"')
    assert [c.name for c in p.tool_calls] == ["a"]
    assert len(p.problems) == 1 and "cut off" in p.problems[0].message


def test_ids_are_fresh_and_unique() -> None:
    raw = '<tool_call>{"name": "a"}</tool_call>' * 20
    p1, p2 = parse_output(raw), parse_output(raw)
    ids = [c.id for c in p1.tool_calls + p2.tool_calls]
    assert len(ids) == 40 and len(set(ids)) == 40


# --- reasoning ------------------------------------------------------------------------------------------

def test_reasoning_rules() -> None:
    p = parse_output('<think>\nplan <tool_call>{"name": "x"}</tool_call>\n</think>\n\nDone.')
    assert p.reasoning.startswith("plan") and p.tool_calls == [] and p.content == "Done."
    # only </think>: the text before it is reasoning
    assert split_reasoning("thinking...</think>rest") == ("thinking...", 19)
    # <think> without </think>: all reasoning, no calls
    p = parse_output('<think>\nhmm <tool_call>{"name": "x"}</tool_call>')
    assert p.tool_calls == [] and p.content is None and p.reasoning.startswith("hmm")
    # ... except <tool_call> immediately followed by <function= (the implicit end of reasoning)
    raw = "<think>\nI will look it up.\n<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n</function>\n</tool_call>"
    p = parse_output(raw, format="qwen3_coder")
    assert p.reasoning == "I will look it up." and calls(p) == [{"name": "f", "arguments": {"a": "1"}}]
    # but not when a </think> comes later: then it was an example inside the reasoning
    p = parse_output(raw.replace("</tool_call>", "</tool_call>\n</think>\nok"), format="qwen3_coder")
    assert p.tool_calls == [] and p.content == "ok"
    assert parse_output("   ") == ParsedOutput()
    assert parse_output("<think></think>") == ParsedOutput()


# --- documentation is not action ------------------------------------------------------------------------

def test_code_is_documentation() -> None:
    call = '<tool_call>{"name": "a", "arguments": {}}</tool_call>'
    for raw in (f"Use `{call}` like that.", f"~~~\n{call}\n~~~", f"  ````md\n{call}\n````"):
        p = parse_output(raw)
        assert p.tool_calls == [] and p.problems == [] and p.content == raw.strip()
    # inline code that closes before the tag does not hide the call
    p = parse_output(f"Calling `a`: {call}")
    assert [c.name for c in p.tool_calls] == ["a"] and p.content == "Calling `a`:"
    # after the fence closes, calls count again
    p = parse_output(f"```\n{call}\n```\n{call}")
    assert len(p.tool_calls) == 1


# --- Qwen3-Coder XML --------------------------------------------------------------------------------------

def tool(name: str, props: dict) -> dict:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": props}}}


def xml(name: str, params: dict[str, str]) -> str:
    body = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in params.items())
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


def test_xml_typing_from_schema() -> None:
    schema = tool(
        "f",
        {
            "i": {"type": "integer"},
            "n": {"type": "number"},
            "b": {"type": "boolean"},
            "o": {"type": "object"},
            "a": {"type": "array"},
            "py": {"type": "array"},
            "nul": {"type": ["string", "null"]},
            "nul2": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "nb": {"type": "integer", "nullable": True},
            "s": {"type": "string"},
            "bad": {"type": "integer"},
        },
    )
    params = {
        "i": "-7", "n": "2.5", "b": "FALSE", "o": '{"k": [1, 2]}', "a": "[1, 2]", "py": "['x', None, True]",
        "nul": "null", "nul2": "None", "nb": "3", "s": "  42  ", "bad": "many", "extra": "5",
    }
    got = one(xml("f", params), format="qwen3_coder", tools=[schema])["arguments"]
    assert got == {
        "i": -7, "n": 2.5, "b": False, "o": {"k": [1, 2]}, "a": [1, 2], "py": ["x", None, True],
        "nul": None, "nul2": None, "nb": 3, "s": "  42  ", "bad": "many", "extra": "5",
    }


def test_tools_may_be_objects_with_openai_schema() -> None:
    class T:
        def openai_schema(self) -> dict:
            return tool("f", {"k": {"type": "integer"}})

    assert one(xml("f", {"k": "3"}), format="qwen3_coder", tools=[T()])["arguments"] == {"k": 3}


def test_xml_values_are_verbatim_minus_one_newline_each_side() -> None:
    raw = "<tool_call>\n<function=f>\n<parameter=v>\n\n  a &amp; <b>\n\n</parameter>\n</function>\n</tool_call>"
    assert one(raw, format="qwen3_coder")["arguments"] == {"v": "\n  a &amp; <b>\n"}


def test_xml_closing_tags_inside_values() -> None:
    code = 's = "</parameter>"\nt = "</function>"\nu = "<tool_call>"'
    got = one(xml("f", {"code": code, "n": "1"}), format="qwen3_coder")
    assert got["arguments"] == {"code": code, "n": "1"}


def test_xml_cut_mid_value_is_not_executed() -> None:
    p = parse_output("<tool_call>\n<function=f>\n<parameter=a>\nhal", format="qwen3_coder")
    assert p.tool_calls == [] and len(p.problems) == 1 and "cut off" in p.problems[0].message
    assert "<function=FUNCTION_NAME>" in p.problems[0].message  # shows the XML format


def test_xml_json_body_is_reported() -> None:
    p = parse_output('<tool_call>{"name": "f"}</tool_call>', format="qwen3_coder")
    assert p.tool_calls == [] and len(p.problems) == 1 and "XML" in p.problems[0].message


# --- robustness ---------------------------------------------------------------------------------------------

FRAGMENTS = [
    "<tool_call>", "</tool_call>", "<think>", "</think>", "<function=f>", "<function=", "</function>",
    "<parameter=p>", "</parameter>", "{", "}", "[", "]", '"', "'", ":", ",", '"name"', '"arguments"', "name",
    "\n", " ", "```", "`", "x", "1", "true", "None", "\\", "<", ">", "<tool_", "\\u00e9", "{'a': 1}",
]


@settings(max_examples=200, deadline=None)
@given(st.text(), st.sampled_from(["hermes", "qwen3_coder"]))
def test_never_raises_on_any_text(text: str, fmt: str) -> None:
    p = parse_output(text, format=fmt)
    assert isinstance(p, ParsedOutput)
    assert not any("internal parser error" in x.message for x in p.problems)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40), st.sampled_from(["hermes", "qwen3_coder"]))
def test_never_raises_on_tag_soup(parts: list[str], fmt: str) -> None:
    p = parse_output("".join(parts), format=fmt, tools=[tool("f", {"p": {"type": "integer"}})])
    assert not any("internal parser error" in x.message for x in p.problems)


MB = 1_000_000


@pytest.mark.parametrize(
    "unit, fmt",
    [
        ("<tool_call>", "hermes"), ("<think>", "qwen3_coder"), ("</think>", "hermes"), ("<tool_call>{", "hermes"),
        ("<tool_call>[", "qwen3_coder"), ("`<tool_call>{", "hermes"), ("<function=a>", "qwen3_coder"),
        ("<tool_call><function=a><parameter=b>", "qwen3_coder"), ('<tool_call>{"a": "', "hermes"),
        ("<", "qwen3_coder"), ("{", "hermes"), ("<think>\n<tool_call>\n", "qwen3_coder"),
    ],
)
def test_pathological_megabyte_inputs(unit: str, fmt: str) -> None:
    text = unit * (MB // len(unit))
    p = parse_output(text, format=fmt)
    assert isinstance(p, ParsedOutput)
    assert not any("internal parser error" in x.message for x in p.problems)


def test_deep_nesting() -> None:
    text = "<tool_call>" + "[" * 100_000 + "]" * 100_000 + "</tool_call>"
    p = parse_output(text)
    assert p.tool_calls == [] and len(p.problems) == 1 and "nesting" in p.problems[0].message
    p = parse_output(xml("f", {"o": "[" * 100_000}), format="qwen3_coder", tools=[tool("f", {"o": {"type": "array"}})])
    assert p.tool_calls[0].arguments == {"o": "[" * 100_000}
