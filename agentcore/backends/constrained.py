"""Constrained tool calls: ``tool_choice="required"`` or a named tool, enforced by an xgrammar grammar.

The grammar is xgrammar's built-in *structural tag* for the family's tool-call format (``qwen_3``:
``<tool_call>\\n{"name": "…", "arguments": {…}}\\n</tool_call>``; ``qwen_3_coder``: the XML
``<function=…><parameter=…>`` form), built from the tools' JSON schemas: the model may reason first (when
its prompt lets it think), then must emit at least one call whose arguments match the schema. xgrammar is
the structured-generation engine vLLM and SGLang use; its token masks cost well under a millisecond a token.

Open sizes get bounds (:func:`cap_strings`): strings a ``maxLength`` (``max_string_length``), open maps a
``maxProperties``, arrays a ``maxItems``; a small model inside an open JSON value otherwise tends to
ramble until it runs out of tokens.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections import OrderedDict
from typing import Any

from agentcore.errors import ConfigurationError

log = logging.getLogger(__name__)

#: agentcore tool format → xgrammar built-in structural tag
_STRUCTURAL_TAGS = {"hermes": "qwen_3", "qwen3_coder": "qwen_3_coder"}
DEFAULT_MAX_STRING_LENGTH = 512
#: most whitespace characters between JSON tokens (unbounded, small models fill calls with blanks)
MAX_WHITESPACE = 2


def wants_grammar(tool_choice: Any, tools: list[dict[str, Any]]) -> bool:
    """True when ``tool_choice`` demands a call (``"required"`` or a named tool) and there are tools."""
    if not tools or tool_choice in (None, "auto", "none"):
        return False
    return True


def tool_name(schema: dict[str, Any]) -> str:
    return str(schema.get("function", schema).get("name"))


def normalize_choice(tool_choice: Any, tools: list[dict[str, Any]]) -> tuple[str | dict[str, Any], list[dict[str, Any]]]:
    """xgrammar's ``tool_choice`` (``"required"`` or the OpenAI named form) and the OpenAI-shaped tools."""
    shaped = [t if "function" in t else {"type": "function", "function": t} for t in tools]
    names = [tool_name(t) for t in shaped]
    if tool_choice == "required":
        return "required", shaped
    if isinstance(tool_choice, dict):
        name = tool_choice.get("function", tool_choice).get("name")
    else:
        name = str(tool_choice)
    if name not in names:
        raise ConfigurationError(
            f"tool_choice names tool {name!r}, which is not offered; offered tools: {', '.join(names) or 'none'} "
            "(or use 'auto', 'required' or 'none')"
        )
    return {"type": "function", "function": {"name": name}}, shaped


def cap_strings(schema: Any, limit: int | None, *, max_properties: int = 4, max_items: int = 32) -> Any:
    """A copy of ``schema`` with sizes bounded where it leaves them open.

    Strings get ``maxLength: limit``, open maps (``additionalProperties``) ``maxProperties``, arrays
    ``maxItems`` — unless the schema sets its own. Small models otherwise fill an open JSON value until
    they run out of tokens (a 135M model happily lists ``"23": "17"`` forever).
    """
    if limit is None:
        return schema
    schema = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            kinds = kind if isinstance(kind, list) else [kind]
            if "string" in kinds and "maxLength" not in node and "enum" not in node:
                node["maxLength"] = limit
            if node.get("additionalProperties") not in (None, False) and "maxProperties" not in node:
                node["maxProperties"] = max_properties
            if "array" in kinds and "maxItems" not in node:
                node["maxItems"] = max_items
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


class GrammarFactory:
    """Compiles (and caches) tool-call grammars for one tokenizer; thread-safe."""

    def __init__(self, tokenizer: Any, *, vocab_size: int, stop_token_ids: list[int], cache_size: int = 32) -> None:
        try:
            import xgrammar as xgr
        except ImportError:
            from agentcore.errors import ConfigurationError

            raise ConfigurationError(
                "tool_choice='required' (or a named tool) generates the call under a grammar, which needs "
                "xgrammar: pip install 'qwen-agentcore[constrained]', or on a CPU-only machine "
                "pip install --no-deps xgrammar apache-tvm-ffi (skips triton, 1 GB of GPU kernels); "
                "or use tool_choice='auto'"
            ) from None

        self.info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stop_token_ids)
        self.compiler = xgr.GrammarCompiler(self.info)
        self.vocab_size = vocab_size
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def compile(
        self,
        *,
        tools: list[dict[str, Any]],
        tool_choice: Any,
        tool_format: str,
        reasoning: str,
        max_string_length: int | None = DEFAULT_MAX_STRING_LENGTH,
        parallel_tool_calls: bool = False,
    ) -> Any:
        """The compiled grammar; ``reasoning`` is ``"disabled"``, ``"enabled"`` (prompt opened ``<think>``) or
        ``"auto"`` (the model may open one).

        Without ``parallel_tool_calls`` the grammar ends after the first call, so the turn ends there (only
        end-of-turn tokens are allowed next) instead of a small model rambling on after its call; the loop
        runs the call and asks again. With it, several calls and text between them are allowed."""
        import xgrammar as xgr

        if tool_format not in _STRUCTURAL_TAGS:
            raise ConfigurationError(
                f"constrained tool calls support the formats {', '.join(_STRUCTURAL_TAGS)}, not {tool_format!r}"
            )
        choice, shaped = normalize_choice(tool_choice, tools)
        for tool in shaped:
            fn = tool["function"]
            fn["parameters"] = cap_strings(fn.get("parameters") or {"type": "object", "properties": {}}, max_string_length)
        key = json.dumps([shaped, choice, tool_format, reasoning, parallel_tool_calls], sort_keys=True, default=str)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        tag = xgr.get_model_structural_tag(
            _STRUCTURAL_TAGS[tool_format], tools=shaped, tool_choice=choice, reasoning=reasoning,
            parallel_tool_calls=parallel_tool_calls, max_whitespace_cnt=MAX_WHITESPACE,
        )
        compiled = self.compiler.compile_structural_tag(tag)
        with self._lock:
            self._cache[key] = compiled
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return compiled


class GrammarLogitsProcessor:
    """Masks logits to what the grammar allows next, one matcher per sequence (``None``: unconstrained row).

    Unlike xgrammar's sample HF processor it tolerates a token the grammar rejects (another processor
    forced it): that sequence is left unconstrained from there on, with a warning, rather than crashing.
    """

    def __init__(self, compiled: Any | list[Any | None], *, batch: int, prompt_length: int) -> None:
        import xgrammar as xgr

        grammars = compiled if isinstance(compiled, list) else [compiled] * batch
        self.matchers = [None if g is None else xgr.GrammarMatcher(g) for g in grammars]
        self.active = [m is not None for m in self.matchers]
        vocab = next(g for g in grammars if g is not None).tokenizer_info.vocab_size
        self.bitmask = xgr.allocate_token_bitmask(batch, vocab)
        self.prompt_length = prompt_length

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import xgrammar as xgr

        if input_ids.shape[1] > self.prompt_length:
            last = input_ids[:, -1].tolist()
            for b, token in enumerate(last):
                matcher = self.matchers[b]
                if self.active[b] and matcher is not None and not matcher.is_terminated():
                    if not matcher.accept_token(int(token)):
                        log.warning("token %d breaks the tool-call grammar; sequence %d left unconstrained", token, b)
                        self.active[b] = False
        rows = []
        for b, matcher in enumerate(self.matchers):
            if self.active[b] and matcher is not None and not matcher.is_terminated():
                matcher.fill_next_token_bitmask(self.bitmask, b)
                rows.append(b)
        if not rows:
            return scores
        indices = None if len(rows) == len(self.matchers) else rows
        xgr.apply_token_bitmask_inplace(
            scores, self.bitmask.to(scores.device), vocab_size=scores.shape[-1], indices=indices
        )
        return scores
