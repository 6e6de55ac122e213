"""Image input: every accepted source, every refusal with a message that says what is wrong."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from agentcore.errors import AgentcoreError
from agentcore.images import (
    DEFAULT_MAX_BYTES,
    ImageError,
    images_in,
    load_image,
    load_images,
    network_allowed,
    to_data_url,
)
from agentcore.messages import ImagePart, Message, TextPart


def png_bytes(width: int = 12, height: int = 8, color: tuple[int, int, int] = (200, 30, 30), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format=fmt)
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height, with a tiny (truncated) body: a decompression bomb shape."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "chart.png"
    path.write_bytes(png_bytes())
    return path


# --- accepted sources --------------------------------------------------------------------------------------


def test_loads_a_path_str_and_pathlib(png_file: Path) -> None:
    for src in (png_file, str(png_file), png_file.as_uri()):
        image = load_image(src)
        assert image.size == (12, 8)
        assert image.getpixel((0, 0)) == (200, 30, 30)


def test_loads_bytes_and_data_urls() -> None:
    data = png_bytes(5, 7)
    assert load_image(data).size == (5, 7)
    assert load_image(bytearray(data)).size == (5, 7)
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    assert load_image(url).size == (5, 7)
    b64 = base64.b64encode(data).decode()
    wrapped = "data:image/png;base64," + "\n".join(b64[i : i + 40] for i in range(0, len(b64), 40))
    assert load_image(wrapped).size == (5, 7)
    assert load_image({"url": url}).size == (5, 7)
    assert load_image({"image_url": {"url": url}}).size == (5, 7)


def test_pil_image_passes_through_unchanged() -> None:
    image = Image.new("RGB", (3, 4))
    assert load_image(image) is image


def test_jpeg_webp_gif_and_bmp_load() -> None:
    for fmt in ("JPEG", "WEBP", "GIF", "BMP", "TIFF"):
        assert load_image(png_bytes(9, 6, fmt=fmt)).size == (9, 6), fmt


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (20, 10), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert load_image(buffer.getvalue()).size == (10, 20)


def test_animated_gif_is_read_as_its_first_frame() -> None:
    frames = [Image.new("RGB", (6, 6), c) for c in ((255, 0, 0), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    image = load_image(buffer.getvalue())
    assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


# --- refusals, each with a message that says what is wrong ---------------------------------------------------


def test_too_many_bytes_names_the_file_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(png_bytes() + b"\0" * (3 * 1024 * 1024))
    with pytest.raises(ImageError) as info:
        load_image(path, max_bytes=2 * 1024 * 1024)
    message = str(info.value)
    assert message.startswith("image.png is 3") and "the limit is 2 MB (max_bytes)" in message
    assert isinstance(info.value, AgentcoreError)


def test_byte_limit_is_checked_before_decoding_a_data_url() -> None:
    url = "data:image/png;base64," + "A" * (4 * 1024 * 1024)  # not even valid PNG: size is refused first
    with pytest.raises(ImageError, match=r"is 3 MB; the limit is 1 MB \(max_bytes\)"):
        load_image(url, max_bytes=1024 * 1024)


def test_decompression_bomb_is_refused_from_the_header() -> None:
    data = bomb_png(10_000, 8_000)
    assert len(data) < 200
    with pytest.raises(ImageError) as info:
        load_image(data)
    message = str(info.value)
    assert "10000x8000 = 80,000,000 pixels; the limit is 50,000,000 (max_pixels)" in message
    assert "decompression bomb" in message
    # Far past Pillow's own hard limit, Pillow refuses it while reading the header: same kind of error.
    with pytest.raises(ImageError, match="refused as a decompression bomb.*max_pixels"):
        load_image(bomb_png(30_000, 30_000), max_pixels=10**10)


def test_pixel_limit_applies_to_pil_images_too() -> None:
    with pytest.raises(ImageError, match=r"100x100 = 10,000 pixels; the limit is 5,000 \(max_pixels\)"):
        load_image(Image.new("RGB", (100, 100)), max_pixels=5000)


def test_not_an_image() -> None:
    with pytest.raises(ImageError, match=r"^not an image: image bytes is not in a format"):
        load_image(b"hello, I am text")
    with pytest.raises(ImageError, match="media type is 'text/plain'"):
        load_image("data:text/plain;base64,aGVsbG8=")
    with pytest.raises(ImageError, match="base64 data is invalid"):
        load_image("data:image/png;base64,@@@@")
    with pytest.raises(ImageError, match="malformed data URL"):
        load_image("data:image/png;base64")


def test_truncated_image_says_it_is_damaged() -> None:
    buffer = io.BytesIO()
    Image.effect_noise((200, 200), 50).save(buffer, format="PNG")
    with pytest.raises(ImageError, match="damaged PNG image"):
        load_image(buffer.getvalue()[: len(buffer.getvalue()) // 2])


def test_unsupported_format_is_named() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="ICO")
    with pytest.raises(ImageError, match="is a ICO image; supported formats: PNG, JPEG"):
        load_image(buffer.getvalue())


def test_missing_file_folder_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="image file '.*nope.png' does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="is a folder, not an image file"):
        load_image(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty.png is empty \(0 bytes\)"):
        load_image(tmp_path / "empty.png")


def test_unsupported_source_type() -> None:
    with pytest.raises(ImageError, match="cannot use a int as an image: pass a file path, bytes"):
        load_image(42)


def test_remote_url_needs_network_access(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTCORE_ALLOW_NETWORK", raising=False)
    with pytest.raises(ImageError, match="is a remote URL and network access is off.*AGENTCORE_ALLOW_NETWORK=1"):
        load_image("https://example.com/chart.png")
    assert not network_allowed()
    monkeypatch.setenv("AGENTCORE_ALLOW_NETWORK", "1")
    assert network_allowed() and not network_allowed(False)


def test_remote_url_is_fetched_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    data = png_bytes(4, 4)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/big.png":
            return httpx.Response(200, content=b"\0" * 5000)
        if request.url.path == "/missing.png":
            return httpx.Response(404)
        return httpx.Response(200, content=data, headers={"content-type": "image/png"})

    monkeypatch.setattr("agentcore.images._http_client",
                        lambda: httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True))
    assert load_image("https://example.com/a.png", allow_network=True).size == (4, 4)
    with pytest.raises(ImageError, match=r"https://example.com/big.png is 4.9 KB; the limit is 1000 bytes"):
        load_image("https://example.com/big.png", allow_network=True, max_bytes=1000)
    with pytest.raises(ImageError, match="HTTP 404"):
        load_image("https://example.com/missing.png", allow_network=True)
    assert seen[0] == "https://example.com/a.png"


def test_load_images_says_which_image_failed(png_file: Path) -> None:
    with pytest.raises(ImageError, match=r"^image 2 of 2: not an image"):
        load_images([png_file, b"junk"])
    assert len(load_images([png_file, png_bytes()])) == 2


# --- data URLs and helpers ------------------------------------------------------------------------------------


def test_to_data_url_keeps_png_and_jpeg_bytes_as_they_are(png_file: Path) -> None:
    url = to_data_url(png_file)
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == png_file.read_bytes()
    jpeg = png_bytes(fmt="JPEG")
    assert to_data_url(jpeg) == "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def test_to_data_url_encodes_pil_and_bmp_as_png() -> None:
    for src in (Image.new("RGB", (7, 3), (1, 2, 3)), png_bytes(7, 3, (1, 2, 3), fmt="BMP"), Image.new("CMYK", (7, 3))):
        url = to_data_url(src)
        assert url.startswith("data:image/png;base64,")
        assert load_image(url).size == (7, 3)


def test_to_data_url_validates() -> None:
    with pytest.raises(ImageError, match="not an image"):
        to_data_url(b"nope")
    with pytest.raises(ImageError, match="max_pixels"):
        to_data_url(Image.new("RGB", (100, 100)), max_pixels=10)


def test_images_in_collects_images_of_all_messages_in_order() -> None:
    messages = [
        Message(role="system", content="s"),
        Message(role="user", content=[ImagePart(image="a.png"), TextPart(text="t"), ImagePart(image=b"b")]),
        Message(role="assistant", content="x"),
        Message(role="user", content=[ImagePart(image="c.png")]),
    ]
    assert images_in(messages) == ["a.png", b"b", "c.png"]
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024
