"""StreamParser: for any chunking of a fixture's text, the events add up to exactly parse_output's result,
no markup leaks into content deltas, and no call is emitted before its block is complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentcore.events import ContentDelta, ParseProblemEvent, ReasoningDelta, ToolCallParsed
from agentcore.parsing import StreamParser, join_text, parse_output

DATA = Path(__file__).parent / "data" / "toolcalls.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
MARKUP = ("<tool_call", "</tool_call", "<think", "</think", "<function=")


def run_stream(row: dict, cuts: list[int]) -> list[tuple[int, object]]:
    """Feed ``row['raw']`` cut at ``cuts``; return (characters fed when emitted, event) pairs
    (``-1`` for events from close())."""
    raw = row["raw"]
    sp = StreamParser(format=row["format"], tools=row.get("tools"))
    out: list[tuple[int, object]] = []
    prev = 0
    for c in sorted(set(cuts)) + [len(raw)]:
        if c <= prev:
            continue
        out += [(c, e) for e in sp.feed(raw[prev:c])]
        prev = c
    out += [(-1, e) for e in sp.close()]
    return out


def check(row: dict, cuts: list[int]) -> None:
    raw = row["raw"]
    expected = parse_output(raw, format=row["format"], tools=row.get("tools"))
    timed = run_stream(row, cuts)
    events = [e for _, e in timed]
    assert join_text(e.text for e in events if isinstance(e, ReasoningDelta)) == expected.reasoning
    assert join_text(e.text for e in events if isinstance(e, ContentDelta)) == expected.content
    assert [(e.call.name, e.call.arguments) for e in events if isinstance(e, ToolCallParsed)] == [
        (c.name, c.arguments) for c in expected.tool_calls
    ]
    assert [(e.message, e.raw) for e in events if isinstance(e, ParseProblemEvent)] == [
        (p.message, p.raw) for p in expected.problems
    ]
    # no markup (or a held prefix of it) in content deltas unless the content itself has it as text
    content = expected.content or ""
    if "<" not in content:
        assert not any("<" in e.text for e in events if isinstance(e, ContentDelta))
    for frag in MARKUP:
        if frag not in content:
            assert not any(frag in e.text for e in events if isinstance(e, ContentDelta))
    # a call is emitted only once the text fed so far already contains its complete block
    emitted = 0
    for fed, e in timed:
        if isinstance(e, ToolCallParsed):
            emitted += 1
            if fed != -1:
                prefix = parse_output(raw[:fed], format=row["format"], tools=row.get("tools"))
                assert len(prefix.tool_calls) >= emitted
                assert (prefix.tool_calls[emitted - 1].name, prefix.tool_calls[emitted - 1].arguments) == (
                    e.call.name,
                    e.call.arguments,
                )


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['id']}-{r['format']}" for r in ROWS])
def test_one_character_chunks(row: dict) -> None:
    check(row, list(range(1, len(row["raw"]))))


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['id']}-{r['format']}" for r in ROWS])
def test_single_chunk(row: dict) -> None:
    check(row, [])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ROWS), st.lists(st.floats(min_value=0, max_value=1), max_size=25))
def test_random_chunk_boundaries(row: dict, fractions: list[float]) -> None:
    n = len(row["raw"])
    check(row, [max(1, min(n - 1, int(f * n))) for f in fractions])


FRAGMENTS = [
    "<tool_call>", "</tool_call>", "<think>", "</think>", "<function=f>", "</function>", "<parameter=p>",
    "</parameter>", '{"name": "f", "arguments": {"a": 1}}', "{", "}", "\n", " ", "```", "`", "x", "<", "<tool_",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=30),
    st.sampled_from(["hermes", "qwen3_coder"]),
    st.lists(st.floats(min_value=0, max_value=1), max_size=15),
)
def test_tag_soup_streams_like_parse_output(parts: list[str], fmt: str, fractions: list[float]) -> None:
    raw = "".join(parts)
    row = {"raw": raw, "format": fmt}
    expected = parse_output(raw, format=fmt)
    events = [e for _, e in run_stream(row, [int(f * len(raw)) for f in fractions])]
    assert join_text(e.text for e in events if isinstance(e, ReasoningDelta)) == expected.reasoning
    assert join_text(e.text for e in events if isinstance(e, ContentDelta)) == expected.content
    assert [(e.call.name, e.call.arguments) for e in events if isinstance(e, ToolCallParsed)] == [
        (c.name, c.arguments) for c in expected.tool_calls
    ]
    assert len([e for e in events if isinstance(e, ParseProblemEvent)]) == len(expected.problems)


def test_streams_incrementally_and_result_matches() -> None:
    sp = StreamParser()
    # without a leading <think>, text is held until </think> is seen (or ruled out at close)
    assert sp.feed("<think>\nplanning") == [ReasoningDelta(text="\nplanning")]
    evs = sp.feed("</think>\nHello ")
    assert [type(e) for e in evs] == [ContentDelta] and evs[0].text == "\nHello "
    assert sp.feed("<tool_") == []  # a possible tag prefix is held back
    assert sp.feed('call>{"name": "a", "arguments": {}}') == []  # not complete yet
    evs = sp.feed("</tool_call> bye")
    assert [type(e) for e in evs] == [ToolCallParsed, ContentDelta]
    sp.close()
    r = sp.result()
    assert (r.reasoning, r.content, [c.name for c in r.tool_calls]) == ("planning", "Hello  bye", ["a"])
    with pytest.raises(RuntimeError):
        sp.feed("more")


def test_final_unclosed_block_is_emitted_at_close() -> None:
    sp = StreamParser()
    assert sp.feed('<tool_call>{"name": "a", "arguments": {}}') == []
    evs = sp.close()
    assert [type(e) for e in evs] == [ToolCallParsed]


# --- what the prompt decided about thinking ----------------------------------------------------------


def test_thinking_off_streams_content_at_once():
    from agentcore.parsing import StreamParser

    parser = StreamParser(format="hermes", thinking="off")
    events = parser.feed("Hello there, ")
    assert [e.text for e in events] == ["Hello there, "]
    parser.feed("a lone </think> is text")
    parser.close()
    assert parser.result().content == "Hello there, a lone </think> is text"
    assert parser.result().reasoning is None


def test_thinking_off_still_reads_a_leading_think_block():
    from agentcore.parsing import parse_output

    out = parse_output("<think>\nhmm\n</think>\n\nYes.", thinking="off")
    assert out.reasoning == "hmm" and out.content == "Yes."


def test_thinking_open_streams_reasoning_at_once():
    from agentcore.events import ReasoningDelta
    from agentcore.parsing import StreamParser, parse_output

    parser = StreamParser(format="hermes", thinking="open")
    events = parser.feed("Let me think")
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["Let me think"]
    text = "Let me think\n</think>\n\nIt is 4."
    assert parse_output(text, thinking="open").reasoning == "Let me think"
    assert parse_output(text, thinking="open").content == "It is 4."
    cut = parse_output("Let me think and think", thinking="open")
    assert cut.reasoning == "Let me think and think" and cut.content is None


def test_thinking_hint_must_be_known():
    import pytest

    from agentcore.parsing import StreamParser

    with pytest.raises(ValueError, match="thinking must be"):
        StreamParser(thinking="maybe")
