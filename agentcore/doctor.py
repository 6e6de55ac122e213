"""``agentcore doctor``: load the configured model, run a short health check, say what to fix.

Each check yields a :class:`Check` (name, measured value, status ``ok``/``slow``/``fail``, advice); the
command prints them as a table. Thresholds are for interactive use on a CPU: a check is ``slow`` when a
person would notice, and its advice says what usually helps.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal

from pydantic import BaseModel

Status = Literal["ok", "slow", "fail"]

#: thresholds above (or below, for tokens/s) which a check is "slow"
SLOW_LOAD_S = 30.0
SLOW_TTFT_S = 5.0
SLOW_TOKENS_PER_S = 3.0
HIGH_MEMORY_FRACTION = 0.8


class Check(BaseModel):
    """One line of the doctor's table."""

    name: str
    value: str
    status: Status = "ok"
    advice: str = ""


def _total_memory_mb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return None


def environment_checks() -> list[Check]:
    """Versions, device, offline mode and whether the model cache is writable."""
    import torch
    import transformers

    from agentcore.backends.loading import cache_dir

    checks = [Check(name="torch / transformers", value=f"{torch.__version__} / {transformers.__version__}")]
    cuda = torch.cuda.is_available()
    checks.append(Check(name="device", value=torch.cuda.get_device_name(0) if cuda else f"cpu ({os.cpu_count()} cores)"))
    offline = os.environ.get("HF_HUB_OFFLINE", "") in ("1", "true", "yes")
    checks.append(Check(name="HF_HUB_OFFLINE", value="set" if offline else "unset",
                        advice="" if offline else "set HF_HUB_OFFLINE=1 to never wait on the hub"))
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".doctor-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
        checks.append(Check(name="model cache", value=str(folder)))
    except OSError as exc:
        checks.append(Check(name="model cache", value=str(folder), status="fail",
                            advice=f"not writable ({exc.strerror}); set AGENTCORE_CACHE_DIR to a writable folder"))
    try:
        import xgrammar  # noqa: F401

        checks.append(Check(name="xgrammar", value="available"))
    except ImportError:
        checks.append(Check(name="xgrammar", value="missing", status="fail",
                            advice="pip install xgrammar (needed for tool_choice='required')"))
    return checks


def model_checks(model: str | None = None, *, device: str | None = None, dtype: Any = None,
                 quantization: Any = None, max_new_tokens: int = 32) -> list[Check]:
    """Load ``model`` (default: the configured one), generate a short answer, and measure it."""
    from agentcore.backends.base import GenerationRequest, SamplingParams
    from agentcore.backends.transformers import TransformersBackend
    from agentcore.errors import AgentcoreError
    from agentcore.messages import Message

    checks: list[Check] = []
    started = time.perf_counter()
    try:
        backend = TransformersBackend(model, device=device, dtype=dtype, quantization=quantization)
    except AgentcoreError as exc:
        return [Check(name="load", value="failed", status="fail", advice=str(exc))]
    load_s = time.perf_counter() - started
    kind = "cold: converted GGUF" if backend.loaded.cold else "cached" if backend.loaded.source.kind == "gguf" else "from disk"
    checks.append(Check(
        name="model", value=f"{backend.model_id} ({backend.family}, {str(backend.loaded.dtype).removeprefix('torch.')}, {backend.device})",
    ))
    checks.append(Check(
        name="load time", value=f"{load_s:.1f} s ({kind})",
        status="slow" if load_s > SLOW_LOAD_S else "ok",
        advice=("the first load of a GGUF converts it once; later loads read the cache"
                if backend.loaded.cold else "a local SSD, or a smaller model, loads faster") if load_s > SLOW_LOAD_S else "",
    ))
    request = GenerationRequest(
        messages=[Message(role="user", content="Name three primary colors.")], family=backend.family or "chatml",
        sampling=SamplingParams(greedy=True, max_new_tokens=max_new_tokens),
    )
    try:
        completion = backend.generate(request)
    except Exception as exc:  # the health check reports any failure instead of crashing
        checks.append(Check(name="generate", value="failed", status="fail", advice=f"{type(exc).__name__}: {exc}"))
        return checks
    usage = completion.usage
    ttft = usage.time_to_first_token_s or usage.total_s
    checks.append(Check(
        name="time to first token", value=f"{ttft:.2f} s ({usage.prompt_tokens} prompt tokens)",
        status="slow" if ttft > SLOW_TTFT_S else "ok",
        advice="prompt reading is slow: is the CPU busy? float32 reads prompts fastest on CPUs without native "
               "bf16; a GPU helps most" if ttft > SLOW_TTFT_S else "",
    ))
    tps = usage.tokens_per_s or 0.0
    checks.append(Check(
        name="tokens per second", value=f"{tps:.1f} ({usage.completion_tokens} tokens)",
        status="fail" if usage.completion_tokens == 0 else "slow" if tps < SLOW_TOKENS_PER_S else "ok",
        advice="" if tps >= SLOW_TOKENS_PER_S else "close other busy processes, try quantization='int8' on CPU, "
               "or a smaller model",
    ))
    total = _total_memory_mb()
    rss = usage.peak_rss_mb or 0.0
    high = total is not None and rss > HIGH_MEMORY_FRACTION * total
    value = f"{rss:.0f} MiB peak RSS" + (f" of {total:.0f}" if total else "")
    if usage.peak_gpu_mb is not None:
        value += f", {usage.peak_gpu_mb:.0f} MiB GPU"
    checks.append(Check(name="memory", value=value, status="slow" if high else "ok",
                        advice="close to the machine's memory: use a smaller model or quantization" if high else ""))
    checks.append(Check(name="answer", value=repr(completion.text[:60]),
                        status="ok" if completion.text.strip() else "fail",
                        advice="" if completion.text.strip() else "the model produced no text: check the chat family"))
    return checks


def overall(checks: list[Check]) -> Status:
    if any(c.status == "fail" for c in checks):
        return "fail"
    return "slow" if any(c.status == "slow" for c in checks) else "ok"
