"""VisionBackend on tiny random-weight Qwen2.5-VL / Qwen2-VL models with the real Qwen vocabulary.

The checks that matter: each image becomes exactly as many ``<|image_pad|>`` tokens as the processor's grid
computation says (computed here independently with ``smart_resize``), the pixels reach the model, an image
is never dropped, and a missing vision model is a clear ModelUnavailableError.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PIL import Image

from agentcore.backends.base import BackendError, Completion, GenerationRequest, SamplingParams
from agentcore.errors import ConfigurationError, ModelUnavailableError
from agentcore.images import ImageError
from agentcore.messages import ImagePart, Message, TextPart
from agentcore.prompting import render_prompt
from tests.helpers.tiny_qwen_vl import IMAGE_PAD_ID, VISION_END_ID, VISION_START_ID, tiny_qwen_vl_model

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("AGENTCORE_VL_MODEL", raising=False)


@pytest.fixture(scope="module")
def backend():  # type: ignore[no-untyped-def]
    from agentcore.backends.vision import VisionBackend

    return VisionBackend(tiny_qwen_vl_model("qwen2.5-vl"))


def expected_tokens(width: int, height: int, *, min_pixels: int = 3136, max_pixels: int = 12845056) -> int:
    """Qwen2-VL's grid computation (smart_resize, then 14-pixel patches merged 2x2), written out here."""
    factor = 28
    h_bar, w_bar = round(height / factor) * factor, round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar, w_bar = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return (h_bar // 14) * (w_bar // 14) // 4


def request_with(images: list, text: str = "Describe the images.", **sampling: object) -> GenerationRequest:
    parts = [ImagePart(image=i) for i in images] + [TextPart(text=text)]
    messages = [Message(role="user", content=parts)]
    return GenerationRequest(
        messages=messages,
        prompt=render_prompt(messages, family="qwen2.5-vl", add_generation_prompt=True),
        family="qwen2.5-vl",
        sampling=SamplingParams(**{"max_new_tokens": 4, "greedy": True, **sampling}),  # type: ignore[arg-type]
    )


def picture(width: int, height: int, seed: int = 0) -> Image.Image:
    import random

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(width * height)])
    return image


def test_the_expected_token_formula_matches_transformers() -> None:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    for w, h in ((100, 60), (640, 480), (28, 28), (5000, 3000), (17, 900)):
        rh, rw = smart_resize(h, w, min_pixels=3136, max_pixels=12845056)
        assert expected_tokens(w, h) == (rh // 14) * (rw // 14) // 4


def test_backend_facts(backend) -> None:  # type: ignore[no-untyped-def]
    assert backend.family == "qwen2.5-vl"
    assert backend.name == "vision"
    assert backend.image_token_id == IMAGE_PAD_ID
    assert type(backend.model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(backend.image_processor).__name__ == "Qwen2VLImageProcessorPil"
    assert backend.model_id.startswith("tiny-qwen2.5-vl")


@pytest.mark.parametrize("sizes", [[(100, 60)], [(300, 200), (56, 140)]])
def test_each_image_expands_to_the_grid_token_count(backend, sizes) -> None:  # type: ignore[no-untyped-def]
    req = request_with([picture(w, h, i) for i, (w, h) in enumerate(sizes)])
    prepared = backend._prepare(req)
    want = [expected_tokens(w, h) for w, h in sizes]
    assert prepared.extra["image_tokens"] == want
    assert prepared.ids.count(IMAGE_PAD_ID) == sum(want)
    grid = prepared.extra["image_grid_thw"]
    assert [int(g.prod()) // 4 for g in grid] == want
    assert prepared.extra["pixel_values"].shape[0] == int(grid.prod(-1).sum())
    # each run of pads sits between <|vision_start|> and <|vision_end|>, in image order
    runs, i = [], 0
    while i < len(prepared.ids):
        if prepared.ids[i] == VISION_START_ID:
            j = prepared.ids.index(VISION_END_ID, i)
            assert set(prepared.ids[i + 1 : j]) == {IMAGE_PAD_ID}
            runs.append(j - i - 1)
            i = j
        i += 1
    assert runs == want
    # the text outside the images tokenizes as without them
    text_only = backend.tokenizer(req.prompt, add_special_tokens=False)["input_ids"]
    assert [t for t in prepared.ids if t != IMAGE_PAD_ID] == [t for t in text_only if t != IMAGE_PAD_ID]


def test_generation_runs_and_usage_counts_image_tokens(backend) -> None:  # type: ignore[no-untyped-def]
    req = request_with([picture(100, 60), picture(60, 100, 1)])
    completion = backend.generate(req)
    assert isinstance(completion, Completion)
    assert completion.usage.completion_tokens >= 1
    assert completion.finish_reason in ("stop", "length")
    assert completion.usage.prompt_tokens == len(backend._prepare(req).ids)
    assert completion.usage.prompt_tokens > 2 * expected_tokens(100, 60)


def test_stream_yields_pieces_then_the_completion(backend) -> None:  # type: ignore[no-untyped-def]
    req = request_with([picture(64, 64)], max_new_tokens=5)
    items = list(backend.stream(req))
    assert isinstance(items[-1], Completion)
    pieces = items[:-1]
    assert all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == items[-1].text
    assert items[-1].text == backend.generate(req).text  # greedy: the same text both ways


def test_the_pixels_reach_the_model(backend) -> None:  # type: ignore[no-untyped-def]
    import torch

    def last_logits(image: Image.Image) -> torch.Tensor:
        prepared = backend._prepare(request_with([image]))
        with torch.inference_mode():
            out = backend.model(
                input_ids=torch.tensor([prepared.ids]),
                pixel_values=prepared.extra["pixel_values"],
                image_grid_thw=prepared.extra["image_grid_thw"],
            )
        return out.logits[0, -1]

    a, b = last_logits(picture(84, 84, 1)), last_logits(picture(84, 84, 2))
    assert not torch.allclose(a, b)
    assert torch.allclose(a, last_logits(picture(84, 84, 1)))


def test_images_from_files_bytes_and_data_urls(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from agentcore.images import to_data_url

    path = tmp_path / "chart.png"
    picture(120, 90).save(path)
    prepared = backend._prepare(request_with([str(path), path.read_bytes(), to_data_url(path)]))
    assert prepared.extra["image_tokens"] == [expected_tokens(120, 90)] * 3


def test_min_and_max_pixels_are_configurable() -> None:
    from agentcore.backends.vision import VisionBackend

    small = VisionBackend(tiny_qwen_vl_model("qwen2.5-vl"), max_pixels=28 * 28 * 16, min_pixels=28 * 28 * 4)
    big = picture(640, 480)
    prepared = small._prepare(request_with([big]))
    assert prepared.extra["image_tokens"] == [expected_tokens(640, 480, min_pixels=3136, max_pixels=28 * 28 * 16)]
    assert prepared.extra["image_tokens"][0] <= 16
    tiny = picture(10, 10)
    assert small._prepare(request_with([tiny])).extra["image_tokens"] == [4]
    with pytest.raises(ConfigurationError, match=r"min_pixels \(10000\) is larger than max_pixels \(100\)"):
        VisionBackend(tiny_qwen_vl_model("qwen2.5-vl"), min_pixels=10_000, max_pixels=100)


def test_an_image_is_never_dropped(backend) -> None:  # type: ignore[no-untyped-def]
    req = request_with([picture(64, 64), picture(64, 64)])
    # A prompt with one placeholder for two images: refused, not silently truncated.
    one = render_prompt([Message(role="user", content=[ImagePart(image="x"), TextPart(text="t")])],
                        family="qwen2.5-vl", add_generation_prompt=True)
    with pytest.raises(BackendError, match=r"1 image placeholder\(s\) .* 2 image\(s\)"):
        backend._prepare(req.model_copy(update={"prompt": one}))


def test_a_text_only_family_is_rendered_in_the_vl_format(backend) -> None:  # type: ignore[no-untyped-def]
    req = request_with([picture(64, 64)])
    req = req.model_copy(update={"family": "qwen2.5", "prompt": None})
    prepared = backend._prepare(req)
    assert prepared.family.name == "qwen2.5-vl"
    assert prepared.extra["image_tokens"] == [expected_tokens(64, 64)]


def test_text_only_requests_work(backend) -> None:  # type: ignore[no-untyped-def]
    messages = [Message(role="user", content="hello")]
    sampling = SamplingParams(max_new_tokens=3, greedy=True)
    req = GenerationRequest(messages=messages, family="qwen2.5-vl", sampling=sampling)
    prepared = backend._prepare(req)
    assert IMAGE_PAD_ID not in prepared.ids and "pixel_values" not in prepared.extra
    assert backend.generate(req).usage.completion_tokens >= 1


def test_bad_images_are_clear_errors(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImageError, match="does not exist"):
        backend._prepare(request_with([str(tmp_path / "missing.png")]))
    with pytest.raises(ImageError, match=r"^image 2 of 2: not an image"):
        backend._prepare(request_with([picture(30, 30), b"not a picture"]))
    with pytest.raises(ImageError, match="network access is off"):
        backend._prepare(request_with(["https://example.com/chart.png"]))
    with pytest.raises(BackendError, match="aspect ratio"):
        backend._prepare(request_with([Image.new("RGB", (6000, 20))]))


def test_generate_batch_with_images(backend) -> None:  # type: ignore[no-untyped-def]
    reqs = [request_with([picture(64, 64)]), request_with([picture(100, 60), picture(30, 90)], text="two")]
    completions = backend.generate_batch(reqs)
    assert len(completions) == 2 and all(c.usage.completion_tokens >= 1 for c in completions)


def test_qwen2_vl_loads_and_generates() -> None:
    from agentcore.backends.vision import VisionBackend

    qwen2 = VisionBackend(tiny_qwen_vl_model("qwen2-vl"))
    assert type(qwen2.model).__name__ == "Qwen2VLForConditionalGeneration"
    assert qwen2.family == "qwen2.5-vl"
    req = request_with([picture(100, 60)])
    assert qwen2._prepare(req).extra["image_tokens"] == [expected_tokens(100, 60)]
    assert qwen2.generate(req).usage.completion_tokens >= 1


# --- no vision model -----------------------------------------------------------------------------------------


def test_no_vision_weights_offline_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from agentcore.backends.vision import VisionBackend

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty Hugging Face cache
    with pytest.raises(ModelUnavailableError) as info:
        VisionBackend()
    message = str(info.value)
    assert message.startswith("no vision model is available: 'Qwen/Qwen2.5-VL-3B-Instruct' cannot be loaded")
    assert "HF_HUB_OFFLINE" in message
    for hint in ("--model /path/to/Qwen2.5-VL-3B-Instruct", "AGENTCORE_VL_MODEL=", "--base-url"):
        assert hint in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_the_configured_vl_model_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from agentcore.backends.vision import VisionBackend, default_vl_model

    monkeypatch.setenv("AGENTCORE_VL_MODEL", str(tmp_path / "nowhere"))
    assert default_vl_model() == str(tmp_path / "nowhere")
    with pytest.raises(ModelUnavailableError, match="no vision model is available: '.*nowhere' cannot be loaded"):
        VisionBackend()


def test_a_text_model_is_not_a_vision_model() -> None:
    from agentcore.backends.vision import VisionBackend
    from tests.helpers.tiny_qwen import tiny_qwen_model

    with pytest.raises(ModelUnavailableError, match="it is a 'qwen3' model; VisionBackend runs Qwen2.5-VL"):
        VisionBackend(tiny_qwen_model("qwen3"))
    with pytest.raises(ModelUnavailableError, match="GGUF file is text-only"):
        VisionBackend("embedded")


def test_vision_unavailable_error_text() -> None:
    from agentcore.backends.vision import vision_unavailable_error

    err = vision_unavailable_error()
    assert isinstance(err, ModelUnavailableError)
    assert str(err).startswith("no vision model is available. Images need a Qwen2.5-VL")
    assert "never drops an image" in str(err)


@pytest.mark.slow
def test_real_qwen25_vl_3b_when_its_weights_are_cached() -> None:
    """The same code path on the real model, where its weights are in the local Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    from agentcore.backends.vision import DEFAULT_VL_MODEL, VisionBackend

    if not isinstance(try_to_load_from_cache(DEFAULT_VL_MODEL, "config.json"), str):
        pytest.skip(f"{DEFAULT_VL_MODEL} is not in the local Hugging Face cache (no weights on this machine)")
    real = VisionBackend(DEFAULT_VL_MODEL, max_pixels=28 * 28 * 64)
    req = request_with([picture(200, 120)], text="What colour dominates this image?")
    prepared = real._prepare(req)
    assert prepared.extra["image_tokens"] == [expected_tokens(200, 120, max_pixels=28 * 28 * 64)]
    assert real.generate(req).text.strip()
