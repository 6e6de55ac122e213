"""Serving: agents and models behind ``agentcore serve``, called with the official ``openai`` client.

What it shows
- ``agentcore serve`` speaks the OpenAI API (``/v1/models``, ``/v1/chat/completions`` with tools and
  streaming, ``/v1/completions``). Any OpenAI client works; here the official ``openai`` package.
- A served *model* does one generation per request. agentcore renders the prompt with the model's exact
  chat template and parses the raw output, so tool calls come back as OpenAI ``tool_calls`` and Qwen3's
  thinking as ``reasoning_content``. The client runs the tool itself and sends the result back.
- A served *agent* (``agent:<specialist>``) runs the whole agent loop on the server per request: its
  tools, its verification; the reply is the final answer.
- Streaming: the answer arrives as chunks.

Run it (offline, a few seconds): the script starts the server in-process on a free port, in front of
a stand-in model (a FunctionBackend that writes raw Qwen3 output), and calls it over HTTP:

    AGENTCORE_PLUGINS=sympy .venv/bin/python examples/serving.py

With a real model, start the server yourself and point the script at it:

    AGENTCORE_PLUGINS=sympy .venv/bin/agentcore serve --model Qwen/Qwen3-8B --agent math      # in-process model
    AGENTCORE_PLUGINS=sympy .venv/bin/agentcore serve --base-url http://localhost:8001/v1 \\
        --upstream-model Qwen/Qwen3-8B --agent math                                           # in front of vLLM
    .venv/bin/python examples/serving.py --url http://127.0.0.1:8000/v1

or let the script serve the embedded model in-process: ``examples/serving.py --embedded``.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from typing import Any

#: The tool the *client* offers the served model (OpenAI's function-calling shape) and runs itself.
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "the city name"}},
            "required": ["city"],
        },
    },
}


def get_weather(city: str) -> dict[str, Any]:
    return {"city": city, "temperature_c": 18, "sky": "light rain"}


def stand_in_model(request: Any) -> str:
    """What the offline stand-in model writes: raw Qwen3 output, with thinking and hermes tool calls."""
    last = request.messages[-1]
    offered = [t["function"]["name"] for t in request.tools]
    if last.role == "tool":
        if "math_integrate" in offered:
            return (f"<think>\nThe tool gives {last.content}; add the constant.\n</think>\n\n"
                    f"$$\\int x e^x\\,dx = (x - 1)e^x + C$$\n\n"
                    f"\\boxed{{(x - 1)e^x + C}}")
        data = json.loads(last.content)
        return (f"<think>\nThe tool says {data['temperature_c']} °C and {data['sky']}.\n</think>\n\n"
                f"It is {data['temperature_c']} °C in {data['city']} with {data['sky']}: take an umbrella.")
    if "math_integrate" in offered:
        call = {"name": "math_integrate", "arguments": {"expression": "x*exp(x)", "variable": "x"}}
    elif "get_weather" in offered:
        call = {"name": "get_weather", "arguments": {"city": "Lisbon"}}
    else:
        return "<think>\nA greeting needs no tool.\n</think>\n\nHello! I am served by agentcore over the OpenAI API."
    return "<think>\nI should use the tool.\n</think>\n\n<tool_call>\n" + json.dumps(call) + "\n</tool_call>"


def stand_in_backend() -> Any:
    """The stand-in model as a backend that streams its text in small pieces, as a real model does."""
    from agentcore.testing import FunctionBackend

    class StreamingStandIn(FunctionBackend):
        def stream(self, request: Any) -> Any:
            completion = self.generate(request)
            for i in range(0, len(completion.text), 4):
                yield completion.text[i : i + 4]
            yield completion

    return StreamingStandIn(stand_in_model, family="qwen3")


def main() -> int:
    parser = argparse.ArgumentParser(description="Agents and models behind agentcore serve, via the openai client.")
    parser.add_argument("--url", help="a running agentcore serve, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--api-key", default="unused", help="the server's API key, if it was started with one")
    parser.add_argument("--embedded", action="store_true", help="serve the embedded SmolLM2 model in-process")
    args = parser.parse_args()

    import openai

    with ExitStack() as stack:
        url = args.url
        if url is None:
            from agentcore import Agent
            from agentcore.server import ServerThread
            if args.embedded:
                from agentcore.backends.transformers import TransformersBackend

                backend: Any = TransformersBackend()
            else:
                backend = stand_in_backend()
            # What `agentcore serve --agent math` does: a fresh Agent per request on the served model.
            agents = {"math": lambda: Agent(backend=backend, specialist="math", enable_thinking=True, max_steps=4)}
            server = stack.enter_context(ServerThread({"qwen3-stand-in": backend}, agents))
            url = server.base_url
            print(f"serving in-process at {url}\n")
        client = openai.OpenAI(base_url=url, api_key=args.api_key, max_retries=0)

        names = [m.id for m in client.models.list().data]
        print(f"models: {', '.join(names)}")
        model = next(n for n in names if not n.startswith("agent:"))
        agent = next((n for n in names if n.startswith("agent:")), None)

        print(f"\n=== 1. function calling with {model!r}: the client runs the tool")
        messages: list[dict[str, Any]] = [{"role": "user", "content": "What's the weather in Lisbon?"}]
        reply = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL]).choices[0]
        print(f"finish_reason: {reply.finish_reason}")
        reasoning = getattr(reply.message, "reasoning_content", None) or (reply.message.model_extra or {}).get("reasoning_content")
        if reasoning:
            print(f"reasoning_content: {reasoning.strip()}")
        for call in reply.message.tool_calls or []:
            print(f"tool_call: {call.function.name}({call.function.arguments})")
        if reply.message.tool_calls:
            messages.append(reply.message.model_dump(exclude_none=True))
            for call in reply.message.tool_calls:
                result = get_weather(**json.loads(call.function.arguments))
                messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
            reply = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL]).choices[0]
        print(f"answer: {reply.message.content}")

        print(f"\n=== 2. streaming from {model!r}")
        stream = client.chat.completions.create(model=model, stream=True,
                                                messages=[{"role": "user", "content": "Say hello."}])
        chunks = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
        print(f"{len(chunks)} content chunks: {''.join(chunks)!r}")

        if agent:
            print(f"\n=== 3. the whole agent loop on the server: {agent!r}")
            reply = client.chat.completions.create(
                model=agent, messages=[{"role": "user", "content": "Integrate x e^x with respect to x."}]).choices[0]
            print(f"answer: {reply.message.content}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
