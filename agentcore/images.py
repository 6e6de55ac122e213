"""Image input: load what a message carries (path, bytes, data URL, URL, PIL image) into a checked PIL image.

Every image a vision backend sees goes through :func:`load_image`, which checks it before decoding:

- the source: a missing file, an ``http(s)`` URL without network access, or an unsupported type is an
  :class:`ImageError` that says what to pass instead;
- the size in bytes (``max_bytes``), read from the file's size or the data URL's length before anything is
  read or decoded;
- the size in pixels (``max_pixels``), read from the image header before the pixels are decoded, so a
  decompression bomb (a small file that expands into gigapixels) is refused without allocating it;
- the format (PNG, JPEG, WebP, GIF, BMP, TIFF) and that the data decodes completely.

:func:`to_data_url` turns an image into the ``data:`` URL that OpenAI-compatible servers accept. Remote URLs
are fetched (with ``httpx``) only when network access is allowed: ``allow_network=True``, or
``AGENTCORE_ALLOW_NETWORK=1`` in the environment.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes, urlparse

from agentcore.errors import AgentcoreError

if TYPE_CHECKING:  # Pillow is imported where it is used
    from PIL import Image as PILImage

#: default limits: 20 MB of encoded data, 50 megapixels decoded (Pillow's own bomb warning is at ~89 MP)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000
#: the environment switch that allows fetching images from http(s) URLs
NETWORK_ENV = "AGENTCORE_ALLOW_NETWORK"
#: Pillow format names accepted, and the MIME type each is sent as
FORMATS: dict[str, str] = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # multi-picture JPEG (many phone cameras); decodes as its first picture
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
#: formats that servers accept as they are in a data URL; others are re-encoded as PNG
_DATA_URL_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
_FETCH_TIMEOUT_S = 30.0
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


class ImageError(AgentcoreError, ValueError):
    """An image could not be used; the message names the image, what is wrong and what to do."""


def network_allowed(allow_network: bool | None = None) -> bool:
    """``allow_network`` when given, else whether ``$AGENTCORE_ALLOW_NETWORK`` is set to a true value."""
    if allow_network is not None:
        return allow_network
    return os.environ.get(NETWORK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def describe(src: Any) -> str:
    """A short name for an image source, for messages: the file name, the URL, or the kind of data."""
    if isinstance(src, Path):
        return str(src)
    if isinstance(src, str):
        if src.startswith("data:"):
            return f"data URL image ({src[: src.find(',')] if ',' in src[:100] else src[:40]})"
        return src if len(src) <= 200 else src[:200] + "…"
    if isinstance(src, (bytes, bytearray, memoryview)):
        return f"image bytes ({_size(len(src))})"
    if _is_pil(src):
        return f"PIL image ({src.width}x{src.height})"
    return f"{type(src).__name__} object"


def load_image(
    src: Any,
    *,
    allow_network: bool | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> PILImage.Image:
    """Load and check one image; return it decoded, with EXIF orientation applied.

    ``src`` is a path (``str`` or :class:`~pathlib.Path`, or a ``file://`` URL), ``bytes``, a ``data:`` URL,
    an ``http(s)`` URL (fetched only when :func:`network_allowed`), a PIL image, or an OpenAI-style
    ``{"url": ...}`` dict. Raises :class:`ImageError` saying what is wrong.
    """
    if _is_pil(src):
        _check_pixels(describe(src), src.width, src.height, max_pixels)
        return src
    name, data = read_image_bytes(src, allow_network=allow_network, max_bytes=max_bytes)
    image, _format = _decode(name, data, max_pixels)
    return image


def load_images(srcs: list[Any], **limits: Any) -> list[PILImage.Image]:
    """:func:`load_image` for each source, in order; an error names which image (1-based) failed."""
    out = []
    for i, src in enumerate(srcs, 1):
        try:
            out.append(load_image(src, **limits))
        except ImageError as exc:
            raise ImageError(f"image {i} of {len(srcs)}: {exc}" if len(srcs) > 1 else str(exc)) from None
    return out


def read_image_bytes(
    src: Any, *, allow_network: bool | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[str, bytes]:
    """The encoded bytes of a non-PIL image source and a name for it, with the byte limit checked."""
    if isinstance(src, dict):
        url = src.get("url", src.get("image_url"))
        if isinstance(url, dict):
            url = url.get("url")
        if not isinstance(url, str):
            raise ImageError(f"an image dict needs a 'url' string, got keys {sorted(src)}")
        src = url
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        name = "image bytes"
        _check_bytes(name, len(data), max_bytes)
        return name, data
    if isinstance(src, str) and src.startswith("data:"):
        return _read_data_url(src, max_bytes)
    if isinstance(src, str) and src.startswith(("http://", "https://")):
        return src, _fetch(src, allow_network=allow_network, max_bytes=max_bytes)
    if isinstance(src, str) and src.startswith("file://"):
        src = unquote_to_bytes(urlparse(src).path).decode("utf-8", "surrogateescape")
    if isinstance(src, (str, os.PathLike)):
        return _read_file(Path(src), max_bytes)
    raise ImageError(
        f"cannot use a {type(src).__name__} as an image: pass a file path, bytes, a data: URL, "
        "an http(s) URL or a PIL image"
    )


def to_data_url(
    image: Any,
    *,
    allow_network: bool | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> str:
    """``image`` as a base64 ``data:`` URL, checked as :func:`load_image` does.

    PNG, JPEG, WebP and GIF data is sent as it is (no re-encoding, no quality loss); PIL images and other
    formats (BMP, TIFF) are encoded as PNG.
    """
    if not _is_pil(image):
        name, data = read_image_bytes(image, allow_network=allow_network, max_bytes=max_bytes)
        decoded, fmt = _decode(name, data, max_pixels)
        if fmt in _DATA_URL_FORMATS:
            return f"data:{FORMATS[fmt]};base64," + base64.b64encode(data).decode("ascii")
        image = decoded
    else:
        _check_pixels(describe(image), image.width, image.height, max_pixels)
    buffer = io.BytesIO()
    picture = image if image.mode in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16") else image.convert("RGBA")
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def images_in(messages: list[Any]) -> list[Any]:
    """Every image the messages carry, in order (for backends that must not drop them)."""
    out: list[Any] = []
    for message in messages:
        images = getattr(message, "images", None)
        if callable(images):
            out.extend(images())
    return out


# ---------------------------------------------------------------------------------------------------------


def _is_pil(obj: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return False
    return isinstance(obj, Image.Image)


def _size(n: int) -> str:
    """A byte count for people: ``80 MB``, ``1.5 MB``, ``312 KB``, ``17 bytes``."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _check_bytes(name: str, n: int, max_bytes: int) -> None:
    if n > max_bytes:
        raise ImageError(f"{name} is {_size(n)}; the limit is {_size(max_bytes)} (max_bytes)")
    if n == 0:
        raise ImageError(f"{name} is empty (0 bytes): not an image")


def _check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"{name} has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(
            f"{name} is {width}x{height} = {width * height:,} pixels; the limit is {max_pixels:,} (max_pixels). "
            "Downscale it, or raise max_pixels if the image is trusted (a small file with huge dimensions "
            "is a decompression bomb)"
        )


def _read_file(path: Path, max_bytes: int) -> tuple[str, bytes]:
    name = path.name or str(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ImageError(f"image file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ImageError(f"cannot read image file {str(path)!r}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise ImageError(f"{str(path)!r} is a folder, not an image file")
    _check_bytes(name, stat.st_size, max_bytes)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read image file {str(path)!r}: {exc.strerror or exc}") from None
    _check_bytes(name, len(data), max_bytes)  # the file may have grown since stat
    return name, data


def _read_data_url(url: str, max_bytes: int) -> tuple[str, bytes]:
    name = describe(url)
    header, sep, payload = url.partition(",")
    if not sep:
        raise ImageError(f"malformed data URL (no ',' after the header): {url[:60]!r}")
    media = header[5:].split(";")
    mime = media[0].strip().lower()
    if mime and not mime.startswith("image/"):
        raise ImageError(f"not an image: the data URL's media type is {mime!r} (expected image/png, image/jpeg, …)")
    if "base64" in (p.strip().lower() for p in media[1:]):
        payload = "".join(payload.split())  # line breaks inside base64 are common in pasted URLs
        _check_bytes(name, len(payload) * 3 // 4, max_bytes)  # before decoding anything
        if not _BASE64.fullmatch(payload):
            raise ImageError(f"{name}: the base64 data is invalid (characters outside the base64 alphabet)")
        try:  # the standard alphabet, or the URL-safe one that some clients send; padding optional
            data = base64.b64decode(payload.replace("-", "+").replace("_", "/") + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ImageError(f"{name}: the base64 data is invalid ({exc})") from None
    else:
        _check_bytes(name, len(payload), max_bytes)
        data = unquote_to_bytes(payload)
    _check_bytes(name, len(data), max_bytes)
    return name, data


def _http_client() -> Any:
    """The HTTP client images are fetched with (a function, so tests can hand in a mock transport)."""
    import httpx

    return httpx.Client(follow_redirects=True, timeout=_FETCH_TIMEOUT_S)


def _fetch(url: str, *, allow_network: bool | None, max_bytes: int) -> bytes:
    if not network_allowed(allow_network):
        raise ImageError(
            f"image {url!r} is a remote URL and network access is off: download it and pass the file, "
            f"or allow fetching (allow_network=True, or {NETWORK_ENV}=1)"
        )
    import httpx

    chunks: list[bytes] = []
    total = 0
    try:
        with _http_client() as client, client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise ImageError(f"cannot fetch image {url!r}: HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit():
                _check_bytes(url, int(declared), max_bytes)
            for chunk in response.iter_bytes():
                total += len(chunk)
                _check_bytes(url, total, max_bytes)  # stop reading as soon as the limit is passed
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise ImageError(f"cannot fetch image {url!r}: {type(exc).__name__}: {exc}") from None
    data = b"".join(chunks)
    _check_bytes(url, len(data), max_bytes)
    return data


def _decode(name: str, data: bytes, max_pixels: int) -> tuple[PILImage.Image, str]:
    """Decode checked bytes: identify the format and size from the header, check, then decode the pixels."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # Our own max_pixels check replaces Pillow's DecompressionBombWarning; its hard error stays as a
        # backstop and is reported below like ours.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # lazy: reads the header only
        except UnidentifiedImageError:
            raise ImageError(
                f"not an image: {name} is not in a format Pillow can read "
                f"(starts with {data[:8]!r}); use PNG, JPEG, WebP, GIF, BMP or TIFF"
            ) from None
        except Image.DecompressionBombError as exc:  # past twice Pillow's limit: refused in the header
            raise ImageError(
                f"{name} is refused as a decompression bomb: {exc} (agentcore's limit: {max_pixels:,} "
                "pixels, max_pixels)"
            ) from None
        fmt = (image.format or "").upper()
        if fmt not in FORMATS:
            raise ImageError(
                f"{name} is a {fmt or 'unknown'} image; supported formats: PNG, JPEG, WebP, GIF, BMP, TIFF"
            )
        width, height = image.size
        _check_pixels(name, width, height, max_pixels)
        try:
            image.load()  # decode now, so truncated or corrupt data fails here and not in the processor
        except Image.DecompressionBombError as exc:
            raise ImageError(f"{name} is refused as a decompression bomb: {exc}") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageError(f"{name} is a damaged {fmt} image (it does not decode: {exc})") from None
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animation is read as its first frame
        image = image.copy()
    transposed = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
    return (transposed if transposed is not None else image), fmt
