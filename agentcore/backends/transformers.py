"""The in-process backend: a Hugging Face model run with ``transformers`` in this process.

``TransformersBackend(model)`` loads a hub id, a local folder or a GGUF file (default: the embedded
SmolLM2-135M-Instruct, see :mod:`agentcore.backends.loading`) and serves :class:`GenerationRequest` s:

* prompts rendered with agentcore's templates and tokenized so that special-token text inside message
  content stays plain text (:mod:`agentcore.backends.encoding`);
* generation stops on the family's end-of-turn ids and on request stop strings (kept in the text);
* ``enable_thinking`` per call, a thinking budget (:mod:`.thinking`), constrained tool calls for
  ``tool_choice="required"`` or a named tool (:mod:`.constrained`);
* the KV cache of a conversation is reused between steps (:mod:`.kvcache`);
* usage with prompt/completion/reasoning tokens, time to first token, tokens/s and peak memory.

One lock serializes generation on a loaded model, so concurrent runs (threads, ``arun``) are safe.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentcore.backends.base import Backend, BackendError, Completion, GenerationRequest, SamplingParams, Usage
from agentcore.backends.constrained import DEFAULT_MAX_STRING_LENGTH, GrammarFactory, wants_grammar
from agentcore.backends.encoding import encode_prompt
from agentcore.backends.kvcache import PrefixCache
from agentcore.backends.monitoring import CallMonitor
from agentcore.backends.streaming import StopOnStreamer, StopOnStrings, TokenStreamer, earliest_stop
from agentcore.backends.thinking import ThinkingBudgetProcessor, count_reasoning_tokens, prompt_opens_thinking
from agentcore.families import Family, get_family

log = logging.getLogger(__name__)

DEFAULT_MAX_NEW_TOKENS = 1024


def default_sampling(family: Family, thinking: bool) -> SamplingParams:
    """Sampling the model's authors recommend, used where neither specialist nor caller set a value.

    Qwen3 thinking: T 0.6, top-p 0.95, top-k 20; Qwen3 non-thinking, Qwen2.5 and Qwen3-Coder: T 0.7,
    top-p 0.8, top-k 20, repetition penalty 1.05; QwQ: T 0.6, top-p 0.95, top-k 40; SmolLM2 (ChatML):
    T 0.2, top-p 0.9 (its model card).
    """
    if family.name == "chatml":
        return SamplingParams(temperature=0.2, top_p=0.9, max_new_tokens=DEFAULT_MAX_NEW_TOKENS)
    if family.name == "qwq" or (family.thinking == "hybrid" and thinking):
        top_k = 40 if family.name == "qwq" else 20
        return SamplingParams(temperature=0.6, top_p=0.95, top_k=top_k, max_new_tokens=DEFAULT_MAX_NEW_TOKENS)
    return SamplingParams(
        temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05, max_new_tokens=DEFAULT_MAX_NEW_TOKENS
    )


def _merge_sampling(base: SamplingParams, override: SamplingParams | None) -> SamplingParams:
    if override is None:
        return base
    values = {k: v for k, v in override.model_dump().items() if v is not None and k != "greedy"}
    if override.greedy:
        values["greedy"] = True
    return base.model_copy(update=values)


@dataclass
class _Prepared:
    """One request made ready for ``model.generate``."""

    request: GenerationRequest
    family: Family
    prompt: str
    ids: list[int]
    sampling: SamplingParams
    thinking_open: bool  # the model starts (or may start) inside <think>
    stops: list[str]  # stop strings that are not end-of-turn tokens
    grammar: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class TransformersBackend(Backend):
    """Run a model in-process with ``transformers``.

    Args:
        model: a Hugging Face id, a local model folder, a ``.gguf`` file, or ``None`` for the configured
            default (``$AGENTCORE_MODEL``, else the embedded SmolLM2-135M-Instruct).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``…; default CUDA when available.
        dtype: default float32 on CPU, bfloat16 on CUDA; ``"bf16"``, ``"float16"``… on request.
        quantization: ``"int8"`` (CPU dynamic int8), ``"bnb-4bit"``/``"bnb-8bit"`` or a
            ``BitsAndBytesConfig`` (CUDA, needs ``bitsandbytes``).
        family: the chat family, when the model's name does not tell it.
        kv_cache_entries: how many conversations' KV caches to keep for prefix reuse (0: none).
        max_string_length: ``maxLength`` added to string arguments of constrained tool calls.
        parallel_tool_calls: whether a constrained turn may hold several calls (default: it ends after one).
    """

    name = "transformers"

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str | None = None,
        dtype: Any = None,
        quantization: Any = None,
        family: str | None = None,
        trust_remote_code: bool = False,
        kv_cache_entries: int = 4,
        max_string_length: int | None = DEFAULT_MAX_STRING_LENGTH,
        parallel_tool_calls: bool = False,
    ) -> None:
        from agentcore.backends.loading import guess_family, load_model

        self.loaded = load_model(
            model, device=device, dtype=dtype, quantization=quantization, trust_remote_code=trust_remote_code
        )
        self.model = self.loaded.model
        self.tokenizer = self.loaded.tokenizer
        self.model_id = self.loaded.source.name
        self.device = self.loaded.device
        self.family = guess_family(self.loaded.source, self.loaded.info.get("model_type"), family)
        self.max_string_length = max_string_length
        self.parallel_tool_calls = parallel_tool_calls
        self.kv_cache = PrefixCache(kv_cache_entries)
        self._lock = threading.RLock()
        self._grammars: GrammarFactory | None = None

    # --- facts about the model -----------------------------------------------------------------------

    @property
    def load_s(self) -> float:
        return self.loaded.load_s

    def _token_id(self, text: str) -> int | None:
        """The id of ``text`` when it is one token of the vocabulary, else None."""
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        return ids[0] if len(ids) == 1 else None

    def end_of_turn_ids(self, family: Family) -> list[int]:
        """Ids that end generation: the family's stop tokens present in this vocabulary, and the EOS."""
        ids = [i for i in (self._token_id(s) for s in family.stop) if i is not None]
        eos = self.tokenizer.eos_token_id
        if eos is not None and eos not in ids:
            ids.append(int(eos))
        return ids

    def grammars(self, family: Family) -> GrammarFactory:
        if self._grammars is None:
            vocab = int(self.model.get_output_embeddings().weight.shape[0])
            self._grammars = GrammarFactory(self.tokenizer, vocab_size=vocab, stop_token_ids=self.end_of_turn_ids(family))
        return self._grammars

    # --- preparing a request -------------------------------------------------------------------------

    def _prepare(self, request: GenerationRequest) -> _Prepared:
        from agentcore.prompting import render_prompt

        family = get_family(request.family or self.family or "chatml")
        template_kwargs: dict[str, Any] = {}
        if family.thinking == "hybrid" and request.enable_thinking is not None:
            template_kwargs["enable_thinking"] = request.enable_thinking

        def render(messages: list[Any]) -> str:
            return render_prompt(
                messages, family=family, tools=request.tools or None, add_generation_prompt=True, **template_kwargs
            )

        if request.prompt is None and not request.messages:
            raise BackendError("the request has neither messages nor a prompt: nothing to generate from")
        prompt, ids = encode_prompt(self.tokenizer, messages=request.messages, prompt=request.prompt, render=render)
        opened = prompt_opens_thinking(prompt)
        may_think = opened or (family.thinking == "hybrid" and request.enable_thinking is not False)
        thinking_on = family.thinking == "always" or (family.thinking == "hybrid" and request.enable_thinking is not False)
        sampling = _merge_sampling(default_sampling(family, thinking_on), request.sampling)
        eot = set(self.end_of_turn_ids(family))
        stops = [s for s in request.stop if s and self._token_id(s) not in eot]
        prepared = _Prepared(request, family, prompt, ids, sampling, opened, stops)
        if wants_grammar(request.tool_choice, request.tools):
            reasoning = "enabled" if opened else ("auto" if may_think else "disabled")
            prepared.grammar = self.grammars(family).compile(
                tools=request.tools,
                tool_choice=request.tool_choice,
                tool_format=request.tool_format or family.tool_format,
                reasoning=reasoning,
                max_string_length=self.max_string_length,
                parallel_tool_calls=self.parallel_tool_calls,
            )
        return prepared

    def _generation_kwargs(self, batch: list[_Prepared], *, prompt_length: int) -> dict[str, Any]:
        """``generate`` kwargs: the first request's sampling; thinking budget and grammar per row."""
        from transformers import LogitsProcessorList

        first = batch[0]
        s = first.sampling
        kwargs: dict[str, Any] = {
            "max_new_tokens": s.max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
            "eos_token_id": self.end_of_turn_ids(first.family),
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        greedy = s.greedy or (s.temperature is not None and s.temperature <= 0)
        if greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=s.temperature, top_p=s.top_p, top_k=s.top_k)
        if s.repetition_penalty is not None:
            kwargs["repetition_penalty"] = s.repetition_penalty
        processors = LogitsProcessorList()
        budget = first.request.thinking_budget
        if budget is not None and any(p.thinking_open or p.family.thinking != "none" for p in batch):
            processors.append(
                ThinkingBudgetProcessor(
                    self.tokenizer, budget, prompt_length=prompt_length, batch=len(batch),
                    started_thinking=[p.thinking_open for p in batch],
                )
            )
        if any(p.grammar is not None for p in batch):
            from agentcore.backends.constrained import GrammarLogitsProcessor

            processors.append(
                GrammarLogitsProcessor([p.grammar for p in batch], batch=len(batch), prompt_length=prompt_length)
            )
        if processors:
            kwargs["logits_processor"] = processors
        return kwargs

    # --- generation ----------------------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> Completion:
        completion: Completion | None = None
        for item in self._run(request, on_text=None):
            completion = item
        assert completion is not None
        return completion

    def stream(self, request: GenerationRequest) -> Iterator[str | Completion]:
        """Yield text pieces as tokens are generated, then the :class:`Completion`."""
        pieces: queue.Queue[Any] = queue.Queue()
        done = object()
        result: list[Any] = []

        def work() -> None:
            try:
                for item in self._run(request, on_text=pieces.put, cancel=cancel):
                    result.append(item)
            except BaseException as exc:  # re-raised in the consumer
                result.append(exc)
            finally:
                pieces.put(done)

        cancel = threading.Event()
        thread = threading.Thread(target=work, name="agentcore-generate", daemon=True)
        thread.start()
        emitted = ""
        try:
            while True:
                item = pieces.get()
                if item is done:
                    break
                emitted += item
                yield item
        finally:
            cancel.set()  # the consumer stopped early: stop generating
        thread.join()
        outcome = result[-1] if result else BackendError("generation ended without a result")
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome.text.startswith(emitted) and len(outcome.text) > len(emitted):
            yield outcome.text[len(emitted) :]  # whatever the incremental decoder held back
        yield outcome

    def _run(
        self, request: GenerationRequest, *, on_text: Any, cancel: threading.Event | None = None
    ) -> Iterator[Completion]:
        import torch

        prepared = self._prepare(request)
        family = prepared.family
        eot = set(self.end_of_turn_ids(family))
        with self._lock:
            monitor = CallMonitor(self.device)
            streamer = TokenStreamer(
                self.tokenizer, skip_ids=eot, stops=prepared.stops, on_text=on_text, on_first_token=monitor.first_token
            )
            if cancel is not None:
                threading.Thread(target=_watch_cancel, args=(cancel, streamer), daemon=True).start()
            ids = prepared.ids
            cache, reused = self.kv_cache.take(ids)
            input_ids = torch.tensor([ids], dtype=torch.long, device=self.device)
            kwargs = self._generation_kwargs([prepared], prompt_length=len(ids))
            if prepared.request.sampling.seed is not None:
                torch.manual_seed(prepared.request.sampling.seed)
            from transformers import StoppingCriteriaList

            monitor.start()
            try:
                with torch.inference_mode():
                    out = self.model.generate(
                        input_ids=input_ids,
                        attention_mask=torch.ones_like(input_ids),
                        cache=cache,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([StopOnStreamer(streamer)]),
                        return_dict_in_generate=True,
                        **kwargs,
                    )
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"{self.model_id}: generation failed: {exc}") from exc
            finally:
                if cancel is not None:
                    cancel.set()  # ends the watcher thread
            monitor.finish()
            sequence = out.sequences[0].tolist()
            self.kv_cache.put(sequence, out.cache)
        yield self._completion(prepared, sequence[len(ids) :], monitor, reused=reused, eot=eot)

    def _completion(
        self, prepared: _Prepared, generated: list[int], monitor: CallMonitor, *, reused: int, eot: set[int]
    ) -> Completion:
        max_new = prepared.sampling.max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        pad = self.tokenizer.pad_token_id
        ended_on_eot = False
        while generated and (generated[-1] in eot or generated[-1] == pad):
            ended_on_eot = ended_on_eot or generated[-1] in eot
            generated = generated[:-1]
        text = self.tokenizer.decode(generated, skip_special_tokens=False)
        hit = earliest_stop(text, prepared.stops) if prepared.stops else None
        if hit is not None:
            text = text[: hit[0]]
            finish = "tool_call" if hit[1].strip() == "</tool_call>" else "stop"
        elif ended_on_eot:
            finish = "stop"
        else:
            finish = "length" if len(generated) >= max_new else "stop"
        completion_tokens = len(generated) + (1 if ended_on_eot else 0)
        reasoning = count_reasoning_tokens(
            self.tokenizer, generated, started_thinking=prepared.thinking_open
        ) if (prepared.thinking_open or "<think>" in text) else 0
        usage = Usage(
            prompt_tokens=len(prepared.ids),
            completion_tokens=completion_tokens,
            reasoning_tokens=reasoning,
            cached_prompt_tokens=reused,
            calls=1,
            **monitor.usage_fields(completion_tokens),
        )
        return Completion(text=text, finish_reason=finish, usage=usage, model=self.model_id)

    # --- batches -------------------------------------------------------------------------------------

    def generate_batch(self, requests: Sequence[GenerationRequest | str]) -> list[Completion]:
        """Generate for many requests at once (left-padded into one batch).

        Strings are taken as user messages. Requests should share sampling settings; the first one's are
        used (thinking budgets, stop strings and constrained tool calls apply per request). No KV reuse.
        """
        import torch
        from transformers import StoppingCriteriaList

        from agentcore.messages import Message

        if not requests:
            return []
        reqs = [
            GenerationRequest(messages=[Message(role="user", content=r)], family=self.family or "chatml")
            if isinstance(r, str) else r
            for r in requests
        ]
        prepared = [self._prepare(r) for r in reqs]
        width = max(len(p.ids) for p in prepared)
        pad = self.tokenizer.pad_token_id
        rows = [[pad] * (width - len(p.ids)) + p.ids for p in prepared]
        mask = [[0] * (width - len(p.ids)) + [1] * len(p.ids) for p in prepared]
        first = prepared[0]
        kwargs = self._generation_kwargs(prepared, prompt_length=width)
        stops = sorted({s for p in prepared for s in p.stops})
        eot = set(self.end_of_turn_ids(first.family))
        with self._lock:
            monitor = CallMonitor(self.device)
            criteria = StoppingCriteriaList([StopOnStrings(self.tokenizer, stops, width)]) if stops else None
            if first.request.sampling.seed is not None:
                torch.manual_seed(first.request.sampling.seed)
            monitor.start()
            with torch.inference_mode():
                out = self.model.generate(
                    input_ids=torch.tensor(rows, dtype=torch.long, device=self.device),
                    attention_mask=torch.tensor(mask, dtype=torch.long, device=self.device),
                    stopping_criteria=criteria,
                    **kwargs,
                )
            monitor.finish()
        completions = []
        for p, seq in zip(prepared, out.tolist()):
            completions.append(self._completion(p, seq[width:], monitor, reused=0, eot=eot))
        return completions

    async def agenerate_batch(self, requests: Sequence[GenerationRequest | str]) -> list[Completion]:
        import asyncio

        return await asyncio.to_thread(self.generate_batch, requests)

    def __repr__(self) -> str:
        return f"TransformersBackend({self.model_id!r}, family={self.family!r}, device={self.device!r})"


def _watch_cancel(cancel: threading.Event, streamer: TokenStreamer) -> None:
    cancel.wait()
    streamer.cancelled = True
