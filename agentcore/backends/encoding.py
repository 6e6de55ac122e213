"""Prompt text → token ids, with control tokens only where the chat template put them.

A rendered ChatML prompt is plain text, so ``<|im_end|>\\n<|im_start|>system`` typed by a user (or returned
by a tool) looks exactly like the template's own turn markers. Tokenizing the prompt naively would turn
that text into real control tokens and let message content open a new turn (prompt injection).

:func:`encode_prompt` knows which occurrences are the template's: it renders the messages with every
special-token text in their strings replaced by a private-use placeholder, so every control token left in
that rendering came from the template. Those become control ids; everything between them, with the
placeholders restored, is tokenized as plain text (``split_special_tokens=True``). Splitting at control
tokens is what the tokenizer does anyway, so prompts without such content tokenize exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agentcore.messages import Message

# Private-use code points: never produced by tokenizing real text, kept as they are by Jinja and tojson.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(_OPEN + r"(\d+)" + _CLOSE)


def control_tokens(tokenizer: Any) -> list[str]:
    """The texts of the tokenizer's special (control) tokens, longest first."""
    texts = {tok.content for tok in tokenizer.added_tokens_decoder.values() if getattr(tok, "special", False)}
    texts.update(t for t in getattr(tokenizer, "all_special_tokens", []) if t)
    return sorted(texts, key=len, reverse=True)


def _control_pattern(tokens: Sequence[str]) -> re.Pattern[str]:
    return re.compile("(" + "|".join(re.escape(t) for t in tokens) + ")")


def _walk(obj: Any, fn: Any) -> Any:
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, Mapping):
        return {k: _walk(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_walk(v, fn) for v in obj]
    return obj


def _as_dicts(messages: Iterable[Message | Mapping[str, Any]]) -> list[Any]:
    return [m.to_template_dict() if isinstance(m, Message) else dict(m) for m in messages]


def _strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)


def encode_plain(tokenizer: Any, text: str) -> list[int]:
    """``text`` as token ids with any special-token text in it kept as plain text."""
    if not text:
        return []
    return list(tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])


def encode_segments(tokenizer: Any, text: str, pattern: re.Pattern[str], restore: Any = None) -> list[int]:
    """Control tokens matched by ``pattern`` become their ids; text between them is encoded as plain text."""
    ids: list[int] = []
    for i, piece in enumerate(pattern.split(text)):
        if i % 2:  # a captured control token
            ids.append(int(tokenizer.convert_tokens_to_ids(piece)))
        elif piece:
            ids.extend(encode_plain(tokenizer, restore(piece) if restore else piece))
    return ids


def encode_prompt(
    tokenizer: Any,
    *,
    messages: Sequence[Message | Mapping[str, Any]],
    prompt: str | None,
    render: Any,
) -> tuple[str, list[int]]:
    """The prompt text and its token ids, with message content never turned into control tokens.

    ``render(messages)`` renders OpenAI-style message dicts with the request's family, tools and thinking
    setting. ``prompt`` is the text the caller already rendered, or ``None`` to render here. When the caller's
    prompt differs from agentcore's rendering, content spans are found by searching for the messages' strings.
    """
    controls = control_tokens(tokenizer)
    if not controls:
        text = prompt if prompt is not None else render(_as_dicts(messages))
        return text, encode_plain(tokenizer, text)
    pattern = _control_pattern(controls)
    dicts = _as_dicts(messages)
    tainted = [s for s in _strings(dicts) if pattern.search(s)]
    if not tainted:  # the common case: every control token in the prompt is the template's
        text = prompt if prompt is not None else render(dicts)
        return text, encode_segments(tokenizer, text, pattern)

    table: list[str] = []

    def hide(s: str) -> str:
        def sub(m: re.Match[str]) -> str:
            table.append(m.group(0))
            return f"{_OPEN}{len(table) - 1}{_CLOSE}"

        return pattern.sub(sub, s)

    def restore(s: str) -> str:
        return _PLACEHOLDER.sub(lambda m: table[int(m.group(1))], s)

    safe = render(_walk(dicts, hide))
    text = restore(safe)
    if prompt is None or text == prompt:
        return text, encode_segments(tokenizer, safe, pattern, restore)
    return prompt, _encode_by_search(tokenizer, prompt, tainted, pattern)


def _encode_by_search(tokenizer: Any, prompt: str, tainted: list[str], pattern: re.Pattern[str]) -> list[int]:
    """Fallback for a prompt rendered elsewhere: control tokens inside any occurrence of a message string
    (as given or stripped, as templates often strip content) are plain text, all others are control tokens."""
    plain = [False] * (len(prompt) + 1)
    for s in tainted:
        for needle in {s, s.strip()}:
            if not needle:
                continue
            start = prompt.find(needle)
            while start != -1:
                for k in range(start, start + len(needle)):
                    plain[k] = True
                start = prompt.find(needle, start + 1)
    ids: list[int] = []
    buffer_start = 0
    for m in pattern.finditer(prompt):
        if plain[m.start()]:
            continue
        ids.extend(encode_plain(tokenizer, prompt[buffer_start : m.start()]))
        ids.append(int(tokenizer.convert_tokens_to_ids(m.group(0))))
        buffer_start = m.end()
    ids.extend(encode_plain(tokenizer, prompt[buffer_start:]))
    return ids
