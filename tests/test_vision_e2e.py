"""Vision end to end: the agent loop on a tiny random-weight Qwen2.5-VL, and the command line with images.

The model's text is random (its weights are); what is checked is that every stage runs: images before the
task in the user message, the VL template's placeholders, the processor's grid, generation, the loop's
final answer, and on the command line a clear one-line error when no vision model is at hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from agentcore import events as ev
from agentcore.backends.base import SamplingParams
from tests.helpers.tiny_qwen_vl import IMAGE_PAD_ID, tiny_qwen_vl_model

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")

AGENTCORE = Path(sys.executable).with_name("agentcore")
TASK = "What trends do you see?"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentcore.plugins import reset_plugin_manager

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("AGENTCORE_PLUGINS", "")
    reset_plugin_manager()


@pytest.fixture(scope="module")
def backend():  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from agentcore.backends.vision import VisionBackend

    return VisionBackend(tiny_qwen_vl_model("qwen2.5-vl"))


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    path = tmp_path / "chart.png"
    image = Image.new("RGB", (160, 96), "white")
    for x in range(160):  # a rising line
        image.putpixel((x, 95 - x * 90 // 160), (200, 0, 0))
    image.save(path)
    return path


def agent_for(backend):  # type: ignore[no-untyped-def]
    from agentcore.agent import Agent

    # Seeded sampling: reproducible, and unlike greedy decoding of random weights it does not get stuck on
    # whitespace (which would parse as an empty answer).
    sampling = SamplingParams(max_new_tokens=8, temperature=1.0, top_p=1.0, seed=0)
    return Agent(backend=backend, tools=[], sampling=sampling, max_steps=2)


def test_agent_run_with_an_image_file_returns_a_final_answer(backend, chart: Path) -> None:
    result = agent_for(backend).run("describe", images=[str(chart)])
    assert result.status == "final", result.error
    assert result.answer and result.answer.strip()
    assert len(result.steps) == 1
    prompt = result.steps[0].prompt
    assert prompt.count("<|vision_start|><|image_pad|><|vision_end|>") == 1
    assert prompt.index("<|image_pad|>") < prompt.index("describe")  # the image comes before the task
    # 160x96 is resized to 168x84 (multiples of 28): 12x6 patches of 14 pixels, merged 2x2 into 18 tokens
    template_tokens = len(backend.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert result.usage.prompt_tokens == template_tokens - 1 + 18


def test_agent_run_with_two_images_counts_every_image_token(backend, chart: Path, tmp_path: Path) -> None:
    from agentcore.messages import Message

    small = tmp_path / "small.png"
    Image.new("RGB", (300, 40), "blue").save(small)
    result = agent_for(backend).run("compare", images=[str(chart), small])
    assert result.status == "final", result.error
    user = [m for m in result.messages if m.role == "user"][0]
    assert isinstance(user, Message) and len(user.images()) == 2
    counts = backend.image_token_counts(backend.image_inputs([str(chart), small])["image_grid_thw"])
    assert counts == [18, 11]  # 160x96 → 168x84: 12x6 patches / 4; 300x40 → 308x28: 22x2 patches / 4
    expected = sum(counts)
    text_tokens = len(backend.tokenizer(result.steps[0].prompt, add_special_tokens=False)["input_ids"]) - 2
    assert result.usage.prompt_tokens == text_tokens + expected


def test_agent_stream_yields_content_and_the_final_answer(backend, chart: Path) -> None:  # type: ignore[no-untyped-def]
    events = list(agent_for(backend).stream("describe", images=[str(chart)]))
    assert isinstance(events[-1], ev.FinalAnswer) and events[-1].status == "final"
    deltas = "".join(e.text for e in events if isinstance(e, ev.ContentDelta))
    assert deltas.strip() == (events[-1].answer or "").strip()


def test_a_bad_image_stops_the_run_with_a_clear_error(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from agentcore.images import ImageError

    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ImageError, match="^not an image: notes.png"):
        agent_for(backend).run("describe", images=[str(tmp_path / "notes.png")])


def test_agent_run_with_a_pil_image(backend) -> None:  # type: ignore[no-untyped-def]
    image = Image.new("RGB", (90, 60), "green")
    result = agent_for(backend).run("describe", images=[image])
    assert result.status == "final"


def test_image_pads_in_the_input_match_the_grid(backend, chart: Path) -> None:  # type: ignore[no-untyped-def]
    from agentcore.loop import Run

    run = Run(agent_for(backend), "describe", [str(chart)], None, None)
    request = run._request()
    prepared = backend._prepare(request)
    grid = prepared.extra["image_grid_thw"]
    assert prepared.ids.count(IMAGE_PAD_ID) == int(grid.prod()) // backend.merge_size**2 == 18


# --- the command line -------------------------------------------------------------------------------------


def cli(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "AGENTCORE_PLUGINS": "",
        "HF_HOME": str(tmp_path / "hf-empty"),  # no cached weights of any vision model
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "AGENTCORE_CACHE_DIR": str(tmp_path / "cache"),
        **env,
    }
    for name in [k for k in environment if k.startswith("AGENTCORE_") and k.endswith(("_MODEL", "_BASE_URL"))]:
        if name not in env:
            environment.pop(name)
    return subprocess.run([str(AGENTCORE), *args], capture_output=True, text=True, env=environment,
                          cwd=tmp_path, timeout=300)


def test_cli_image_offline_without_a_vision_model_is_a_clear_error(chart: Path, tmp_path: Path) -> None:
    done = cli("run", "--image", str(chart), TASK, tmp_path=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "no vision model" in done.stderr.lower()
    assert "AGENTCORE_VL_MODEL" in done.stderr  # says how to configure one
    assert "specialist: vl" in done.stderr  # routed to the vision specialist
    assert done.stdout.strip() == ""  # no answer pretending the image was seen


def test_cli_runs_a_local_vision_model_with_an_image(chart: Path, tmp_path: Path) -> None:
    done = cli("run", "--model", str(tiny_qwen_vl_model()), "--image", str(chart), "--max-new-tokens", "4",
               "--greedy", TASK, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "── answer (final)" in done.stdout
