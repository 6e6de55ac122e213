"""OpenAI's wire format on the server side: request models, and responses and stream chunks built from agentcore's.

Requests are validated with pydantic (unknown fields are ignored, as OpenAI-compatible servers do); a bad
request becomes a 400 whose message names the field. Responses carry ``reasoning_content`` next to
``content`` (as vLLM and SGLang do) and tool calls with their arguments as JSON text.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentcore.backends.base import SamplingParams, Usage
from agentcore.messages import ToolCall


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StreamOptions(_Lenient):
    include_usage: bool = False


class _SamplingFields(_Lenient):
    model: str
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=-1)
    repetition_penalty: float | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    max_completion_tokens: int | None = Field(default=None, gt=0)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = 1
    stream: bool = False
    stream_options: StreamOptions | None = None

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def requested_max_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def sampling(self, default_max_tokens: int) -> SamplingParams:
        fields: dict[str, Any] = {"max_new_tokens": self.requested_max_tokens() or default_max_tokens}
        if self.temperature is not None:
            fields["temperature"] = self.temperature
            if self.temperature == 0:
                fields["greedy"] = True
        for name in ("top_p", "seed", "repetition_penalty"):
            if getattr(self, name) is not None:
                fields[name] = getattr(self, name)
        if self.top_k is not None and self.top_k > 0:
            fields["top_k"] = self.top_k
        return SamplingParams(**fields)

    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class ChatCompletionRequest(_SamplingFields):
    """The body of ``POST /v1/chat/completions``."""

    messages: list[dict[str, Any]] = Field(min_length=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["auto", "none", "required"] | dict[str, Any] | None = None
    chat_template_kwargs: dict[str, Any] | None = None

    def enable_thinking(self) -> bool | None:
        value = (self.chat_template_kwargs or {}).get("enable_thinking")
        return None if value is None else bool(value)

    def agentcore_tool_choice(self) -> str | dict[str, Any]:
        """OpenAI's tool_choice in agentcore's shape (``{"name": ...}`` for a forced function)."""
        choice = self.tool_choice
        if choice is None:
            return "auto"
        if isinstance(choice, dict):
            name = (choice.get("function") or {}).get("name") or choice.get("name")
            if not name:
                raise ValueError("tool_choice must name a function: {'type': 'function', 'function': {'name': ...}}")
            return {"name": name}
        return choice


class CompletionRequest(_SamplingFields):
    """The body of ``POST /v1/completions``."""

    prompt: str | list[str]
    echo: bool = False

    def prompt_text(self) -> str:
        if isinstance(self.prompt, str):
            return self.prompt
        if len(self.prompt) != 1:
            raise ValueError("this server takes one prompt per request: send 'prompt' as a string")
        return self.prompt[0]


# --------------------------------------------------------------------------------------------------------
# Responses.


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def usage_json(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }
    if usage.reasoning_tokens:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    if usage.cached_prompt_tokens:
        out["prompt_tokens_details"] = {"cached_tokens": usage.cached_prompt_tokens}
    return out


def tool_call_json(call: ToolCall, index: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
    }
    if index is not None:
        out = {"index": index, **out}
    return out


def openai_finish_reason(finish: str, has_calls: bool) -> str:
    if has_calls:
        return "tool_calls"
    return "length" if finish == "length" else "stop"


def chat_response(
    *,
    response_id: str,
    model: str,
    content: str | None,
    reasoning: str | None,
    tool_calls: list[ToolCall],
    finish_reason: str,
    usage: Usage,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning_content"] = reasoning
    if tool_calls:
        message["tool_calls"] = [tool_call_json(c) for c in tool_calls]
    body: dict[str, Any] = {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": usage_json(usage),
    }
    if extra:
        body["agentcore"] = extra
    return body


def chat_chunk(
    response_id: str, model: str, delta: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }


def usage_chunk(response_id: str, model: str, obj: str, usage: Usage) -> dict[str, Any]:
    return {"id": response_id, "object": obj, "created": int(time.time()), "model": model, "choices": [],
            "usage": usage_json(usage)}


def completion_response(*, response_id: str, model: str, text: str, finish_reason: str, usage: Usage) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": None}],
        "usage": usage_json(usage),
    }


def completion_chunk(response_id: str, model: str, text: str, finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": None}],
    }


def sse(data: dict[str, Any] | str) -> bytes:
    """One server-sent event."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n".encode()
