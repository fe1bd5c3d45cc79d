"""Safe decoding of an image from a path, bytes, a PIL image or an array to a gray :class:`Page`.

The format is sniffed from the content (never the file name); the pixel count is read from the
header and checked *before* any pixel is decoded (decompression bombs); only the first frame of
an animated GIF or multi-page TIFF is decoded; the EXIF orientation is undone; transparency is
composited onto white; CMYK, palette, 16-bit and float images become 8-bit gray.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3
import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from scipix.errors import (
    ImageDecodeError,
    ImageMissingError,
    ImageNotSupportedError,
    ImageTooLargeError,
)
from scipix.imaging.page import Gray, Page, read_only

ImageSource = bytes | bytearray | memoryview | str | os.PathLike[str] | NDArray[Any] | Image.Image

SUPPORTED = ("png", "jpeg", "webp", "tiff", "bmp", "gif")
_PIL_FORMAT = {
    "png": "PNG",
    "jpeg": "JPEG",
    "webp": "WEBP",
    "tiff": "TIFF",
    "bmp": "BMP",
    "gif": "GIF",
}
_NOT_SUPPORTED = {
    b"%PDF": "a PDF document; scipix reads images only: render its pages (pdftoppm -png)",
    b"<svg": "an SVG drawing; render it to PNG first",
    b"<?xm": "an XML/SVG document; render it to PNG first",
}
#: EXIF orientation tag value -> (degrees rotated back, transform of a numpy array).
_EXIF_TURNS: dict[int, int] = {3: 180, 6: -90, 8: 90}


@dataclass(frozen=True)
class DecodeLimits:
    """What a decoder refuses: more pixels (from the header) or more bytes than these."""

    max_pixels: int = 40_000_000
    max_bytes: int = 20_000_000


def sniff_format(data: bytes) -> str:
    """The image format of ``data`` from its magic bytes, or raise a decode/support error."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    for magic, what in _NOT_SUPPORTED.items():
        if head.lstrip()[: len(magic)].lower() == magic.lower():
            raise ImageNotSupportedError(f"the file is {what}", format=what.split(";")[0])
    if looks_like_text(data):
        raise ImageDecodeError(
            "the data is text, not an image (supported: PNG, JPEG, WebP, TIFF, BMP, GIF)"
        )
    raise ImageDecodeError(
        f"unrecognized image format (first bytes {head[:8].hex(' ')}); "
        "supported: PNG, JPEG, WebP, TIFF, BMP, GIF"
    )


def looks_like_text(data: bytes) -> bool:
    sample = data[:512]
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in decoded)
    return printable >= 0.95 * max(len(decoded), 1)


def header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) read from the header without decoding; None where not parsed here."""
    try:
        if fmt == "png":
            w, h = struct.unpack(">II", data[16:24])
            return int(w), int(h)
        if fmt == "gif":
            w, h = struct.unpack("<HH", data[6:10])
            return int(w), int(h)
        if fmt == "bmp":
            if struct.unpack("<I", data[14:18])[0] == 12:
                w, h = struct.unpack("<hh", data[18:22])
            else:
                w, h = struct.unpack("<ii", data[18:26])
            return abs(w), abs(h)
        if fmt == "jpeg":
            return jpeg_size(data)
        if fmt == "webp":
            return webp_size(data)
    except struct.error as exc:
        raise ImageDecodeError(f"truncated {fmt.upper()} header: {exc}") from exc
    return None


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the JPEG markers up to the first start-of-frame and read its size."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageDecodeError("corrupt JPEG: bad marker sequence in the header")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD9)):
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(w), int(h)
        pos += 2 + length
    raise ImageDecodeError("truncated JPEG: no frame header found")


def webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    raise ImageDecodeError(f"corrupt WebP: unknown chunk {chunk!r}")


def check_pixels(width: int, height: int, limits: DecodeLimits) -> None:
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"the image header says {width}×{height} pixels: not an image")
    if width * height > limits.max_pixels:
        raise ImageTooLargeError(
            f"the image is {width}×{height} = {width * height / 1e6:.1f} Mpx, above the limit of "
            f"{limits.max_pixels / 1e6:.1f} Mpx (preprocessing.max_pixels); scale it down",
            width=width,
            height=height,
            max_pixels=limits.max_pixels,
        )


def read_source(path: Path, limits: DecodeLimits) -> bytes:
    """The bytes of a file, with errors that say what is wrong with the path."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ImageMissingError(f"{path} is a directory, not an image file", path=str(path))
        if size > limits.max_bytes:
            raise ImageTooLargeError(
                f"{path} is {size / 1e6:.1f} MB, above the limit of {limits.max_bytes / 1e6:.1f} "
                "MB (preprocessing.max_bytes)",
                path=str(path),
            )
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ImageMissingError(f"{path}: no such file", path=str(path)) from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ImageMissingError(f"cannot read {path}: {reason}", path=str(path)) from exc


def decode_image(
    source: ImageSource, limits: DecodeLimits | None = None, exif_orientation: bool = True
) -> Page:
    """Decode ``source`` into a gray :class:`Page` (see the module docstring for what is done);
    ``exif_orientation=False`` keeps the pixels as stored, whatever the EXIF tag says."""
    limits = limits or DecodeLimits()
    if isinstance(source, np.ndarray):
        return page_from_array(source, limits)
    if isinstance(source, Image.Image):
        check_pixels(source.width, source.height, limits)
        gray = pil_to_gray(source)
        return Page(read_only(gray), pixel_hash(gray), "array", original_mode=source.mode)
    if isinstance(source, str | os.PathLike):
        data = read_source(Path(source), limits)
    else:
        data = bytes(source)
    return decode_bytes(data, limits, exif_orientation)


def decode_bytes(data: bytes, limits: DecodeLimits, exif_orientation: bool = True) -> Page:
    if not data:
        raise ImageMissingError("the image is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(
            f"the image is {len(data) / 1e6:.1f} MB, above the limit of "
            f"{limits.max_bytes / 1e6:.1f} MB (preprocessing.max_bytes)"
        )
    fmt = sniff_format(data)
    size = header_size(data, fmt)
    if size is not None:
        check_pixels(*size, limits)
    digest = blake3.blake3(data).hexdigest()
    try:
        img = Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[fmt]])
        check_pixels(img.width, img.height, limits)
        frames = int(getattr(img, "n_frames", 1))
        img.seek(0)
        orientation = int(img.getexif().get(0x0112, 1)) if exif_orientation else 1
        img.load()
        gray = pil_to_gray(img)
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"the image is too large to decode safely: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageDecodeError(f"cannot decode the {fmt.upper()} image: {describe(exc)}") from exc
    gray, turned = apply_exif_orientation(gray, orientation)
    return Page(read_only(gray), digest, fmt, frames, turned, img.mode)


def describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "truncated" in text.lower():
        return f"the file is truncated or incomplete ({text})"
    return text


def page_from_array(array: NDArray[Any], limits: DecodeLimits) -> Page:
    if array.ndim not in (2, 3) or array.size == 0:
        raise ImageDecodeError(f"an image array must be HxW or HxWxC, got shape {array.shape}")
    check_pixels(int(array.shape[1]), int(array.shape[0]), limits)
    gray = array_to_gray(array)
    return Page(read_only(gray), pixel_hash(gray), "array", original_mode=str(array.dtype))


def pixel_hash(gray: Gray) -> str:
    h = blake3.blake3(np.asarray(gray.shape, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(gray).data)
    return str(h.hexdigest())


def to_uint8(array: NDArray[Any]) -> Gray:
    """Scale any numeric array to uint8: 16-bit by /257, float in [0,1] by *255, else stretch."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return np.where(array, np.uint8(255), np.uint8(0))
    if array.dtype == np.uint16:
        return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
    data = array.astype(np.float64)
    lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    if array.dtype.kind == "f" and lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-12:
        return np.full(array.shape, 255 if hi > 0 else 0, dtype=np.uint8)
    scaled = (np.nan_to_num(data, nan=hi) - lo) * (255.0 / (hi - lo))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def array_to_gray(array: NDArray[Any]) -> Gray:
    """HxW or HxWxC (RGB or RGBA, any numeric dtype) to gray uint8."""
    data = to_uint8(array)
    if data.ndim == 2:
        return data
    channels = data.shape[2]
    if channels == 1:
        return np.ascontiguousarray(data[:, :, 0])
    if channels == 2:
        return composite(data[:, :, 0], data[:, :, 1])
    color = np.ascontiguousarray(data[:, :, :3])
    gray = np.asarray(cv2.cvtColor(color, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    return composite(gray, data[:, :, 3]) if channels >= 4 else gray


def composite(gray: Gray, alpha: Gray) -> Gray:
    """Gray over white through alpha; light ink drawn on transparency becomes dark ink."""
    if int(alpha.min()) == 255:
        return np.ascontiguousarray(gray)
    visible = alpha > 127
    if visible.any() and (~visible).any():
        ink = gray[visible]
        if float(ink.mean()) > 160 and float(ink.std()) < 12:  # light glyphs, content in alpha
            return np.ascontiguousarray(255 - alpha)
    a = alpha.astype(np.uint16)
    mixed = (gray.astype(np.uint16) * a + 255 * (255 - a) + 127) // 255
    return mixed.astype(np.uint8)


def pil_to_gray(img: Image.Image) -> Gray:
    mode = img.mode
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA" if "transparency" in img.info or mode == "PA" else "RGB")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    elif mode == "1":
        img = img.convert("L")
    elif mode in ("La", "RGBa"):
        img = img.convert("RGBA")
    elif mode.startswith("I;16"):
        return to_uint8(np.asarray(img).astype(np.uint16))
    return array_to_gray(np.asarray(img))


def apply_exif_orientation(gray: Gray, orientation: int) -> tuple[Gray, int]:
    """Undo an EXIF orientation (1-8); return the image and the degrees it was turned."""
    if orientation in _EXIF_TURNS:
        turn = _EXIF_TURNS[orientation]
        return np.ascontiguousarray(np.rot90(gray, turn // 90)), turn
    flips = {
        2: lambda a: a[:, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.T,
        7: lambda a: a[::-1, ::-1].T,
    }
    if orientation in flips:
        return np.ascontiguousarray(flips[orientation](gray)), 0
    return gray, 0
