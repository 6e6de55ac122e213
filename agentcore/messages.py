"""Messages, content parts and tool calls: the pydantic models at agentcore's boundaries.

Everything that crosses a boundary (the prompt renderer, backends, the trace, the HTTP server) is one of
these models, or an OpenAI-style dict that :func:`to_message` turns into one. ``Message.to_template_dict``
gives back exactly the dict shape the official Qwen chat templates expect.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_serializer

Role = Literal["system", "user", "assistant", "tool"]


def new_call_id() -> str:
    """A fresh OpenAI-style tool-call id (``call_`` + 24 hex digits)."""
    return "call_" + uuid.uuid4().hex[:24]


class TextPart(BaseModel):
    """A piece of text inside a multi-part message."""

    type: Literal["text"] = "text"
    text: str


class ImagePart(BaseModel):
    """An image inside a message: a file path, raw bytes, a ``data:`` URL, a URL, or a PIL image.

    The chat template only needs to know that an image is there (it renders one placeholder per image);
    the vision processor turns ``image`` into pixels.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    type: Literal["image"] = "image"
    image: Any

    @field_serializer("image", when_used="json")
    def _image_json(self, image: Any) -> Any:
        # Paths and URLs stay as they are; bytes and PIL images become data URLs, so a trace of a run
        # with images is still JSON and can be resumed.
        if image is None or isinstance(image, str):
            return image
        if isinstance(image, os.PathLike):
            return os.fspath(image)
        from agentcore.images import to_data_url

        return to_data_url(image)


ContentPart = Union[TextPart, ImagePart]


class ToolCall(BaseModel):
    """One call of a tool, as parsed from model output or given in an assistant message."""

    id: str = Field(default_factory=new_call_id)
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    def to_template_dict(self) -> dict[str, Any]:
        """The OpenAI shape (``{"id", "type": "function", "function": {...}}``) that templates unwrap."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


class Message(BaseModel):
    """One turn of a conversation.

    ``reasoning_content`` holds an assistant's thinking (what Qwen3 renders inside ``<think>``);
    ``tool_call_id`` links a ``tool`` message to the call it answers.
    """

    role: Role
    content: str | list[ContentPart] | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    def text(self) -> str:
        """The message's text, with image parts left out."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    def images(self) -> list[Any]:
        """The images this message carries, in order."""
        if not isinstance(self.content, list):
            return []
        return [p.image for p in self.content if isinstance(p, ImagePart)]

    def to_template_dict(self) -> dict[str, Any]:
        """The OpenAI-style dict the chat templates read (``None`` fields left out)."""
        out: dict[str, Any] = {"role": self.role}
        if self.content is not None:
            if isinstance(self.content, str):
                out["content"] = self.content
            else:
                out["content"] = [
                    {"type": "text", "text": p.text} if isinstance(p, TextPart) else {"type": "image", "image": p.image}
                    for p in self.content
                ]
        if self.reasoning_content is not None:
            out["reasoning_content"] = self.reasoning_content
        if self.tool_calls:
            out["tool_calls"] = [c.to_template_dict() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


def to_message(item: Message | dict[str, Any]) -> Message:
    """Turn an OpenAI-style dict (or a Message) into a :class:`Message`.

    Accepts ``tool_calls`` in the OpenAI wrapper (``{"function": {...}}``) or flat, with arguments as a
    dict or a JSON string, and ``image_url`` / ``image`` content parts.
    """
    if isinstance(item, Message):
        return item
    if not isinstance(item, dict):
        raise TypeError(f"a message must be a dict or agentcore.Message, got {type(item).__name__}")
    data = dict(item)
    for alias in ("reasoning", "thinking"):
        if alias in data and data.get("reasoning_content") is None:
            data["reasoning_content"] = data.pop(alias)
        else:
            data.pop(alias, None)
    calls = data.get("tool_calls")
    if calls:
        data["tool_calls"] = [_to_tool_call(c) for c in calls]
    content = data.get("content")
    if isinstance(content, list):
        data["content"] = [_to_part(p) for p in content]
    return Message.model_validate(data)


def _to_tool_call(call: Any) -> ToolCall:
    import json

    if isinstance(call, ToolCall):
        return call
    fn = call.get("function", call)
    args = fn.get("arguments") or {}
    if isinstance(args, str):
        args = json.loads(args) if args.strip() else {}
    kwargs: dict[str, Any] = {"name": fn["name"], "arguments": args}
    if call.get("id"):
        kwargs["id"] = call["id"]
    return ToolCall(**kwargs)


def _to_part(part: Any) -> ContentPart:
    if isinstance(part, (TextPart, ImagePart)):
        return part
    if isinstance(part, str):
        return TextPart(text=part)
    if "text" in part:
        return TextPart(text=part["text"])
    if "image_url" in part:
        url = part["image_url"]
        return ImagePart(image=url.get("url") if isinstance(url, dict) else url)
    if "image" in part:
        return ImagePart(image=part["image"])
    raise ValueError(f"unsupported content part {sorted(part)}: expected 'text', 'image' or 'image_url'")
