"""Safe decoding: formats sniffed from content, limits checked before decoding, odd inputs."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imaging.drawing import encode, ink_fraction, text_line
from scipix.errors import (
    ImageDecodeError,
    ImageMissingError,
    ImageNotSupportedError,
    ImageTooLargeError,
)
from scipix.imaging.decode import DecodeLimits, decode_image, sniff_format

FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "tiff": "TIFF", "bmp": "BMP", "gif": "GIF"}


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return text_line("x + y = 42", size=40)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.fixture(scope="module")
def png_bomb() -> bytes:
    """A real 30000×30000 1-bit PNG (900 megapixels) that compresses to about 100 kB."""
    side = 30000
    row = b"\x00" * (1 + side // 8)  # filter byte + packed pixels
    comp = zlib.compressobj(9)
    chunks = [comp.compress(row * 1000) for _ in range(side // 1000)]
    idat = b"".join(chunks) + comp.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_to_the_same_gray_page(sample: np.ndarray, fmt: str) -> None:
    params = {"quality": 95} if fmt in ("jpeg", "webp") else {}
    page = decode_image(encode(sample, FORMATS[fmt], **params))
    assert page.source_format == fmt
    assert page.gray.shape == sample.shape and page.gray.dtype == np.uint8
    assert np.abs(page.gray.astype(int) - sample.astype(int)).mean() < 6
    assert not page.gray.flags.writeable  # pages are shared read-only


def test_format_comes_from_the_content_not_the_name(tmp_path: Path, sample: np.ndarray) -> None:
    path = tmp_path / "really_a_png.jpg"
    path.write_bytes(encode(sample, "PNG"))
    page = decode_image(path)
    assert page.source_format == "png"
    assert sniff_format(encode(sample, "BMP")) == "bmp"


def test_paths_bytes_pil_and_arrays_agree(tmp_path: Path, sample: np.ndarray) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(encode(sample, "PNG"))
    pages = [
        decode_image(path),
        decode_image(str(path)),
        decode_image(path.read_bytes()),
        decode_image(Image.fromarray(sample)),
        decode_image(sample),
        decode_image(np.stack([sample] * 3, axis=2)),
    ]
    for page in pages:
        assert np.array_equal(page.gray, sample)
    assert pages[0].hash == pages[2].hash and len(pages[0].hash) == 64


def test_zero_byte_file_is_image_missing(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageMissingError, match="empty"):
        decode_image(path)


def test_text_file_named_png_is_a_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("these are my notes, not an image\n")
    with pytest.raises(ImageDecodeError, match="text, not an image") as info:
        decode_image(path)
    assert info.value.error_id == "image_decode_error"


def test_unknown_binary_is_a_decode_error() -> None:
    with pytest.raises(ImageDecodeError, match="unrecognized image format"):
        decode_image(bytes(range(256)) * 4)


def test_pdf_is_not_supported_with_a_hint() -> None:
    with pytest.raises(ImageNotSupportedError, match=r"PDF.*pdftoppm"):
        decode_image(b"%PDF-1.7\n%binary")


def test_truncated_jpeg_is_a_decode_error(sample: np.ndarray) -> None:
    data = encode(sample, "JPEG", quality=90)
    with pytest.raises(ImageDecodeError, match="truncated") as info:
        decode_image(data[: len(data) // 2])
    assert info.value.error_id == "image_decode_error"


def test_png_bomb_is_refused_from_the_header_before_decoding(png_bomb: bytes) -> None:
    assert len(png_bomb) < 1_000_000
    start = time.perf_counter()
    with pytest.raises(ImageTooLargeError, match="30000×30000") as info:
        decode_image(png_bomb)
    assert time.perf_counter() - start < 0.5  # decoding 900 Mpx would take seconds and ~1 GB
    assert info.value.error_id == "image_max_size"
    assert info.value.detail["width"] == 30000


def test_forged_jpeg_header_is_refused() -> None:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 40000, 40000, 1) + b"\x01\x11\x00"
    data = b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 4) + b"\x00\x00" + sof + b"\xff\xd9"
    with pytest.raises(ImageTooLargeError):
        decode_image(data)


def test_pixel_and_byte_limits_come_from_settings(sample: np.ndarray) -> None:
    data = encode(sample, "PNG")
    with pytest.raises(ImageTooLargeError, match="max_pixels"):
        decode_image(data, DecodeLimits(max_pixels=100))
    with pytest.raises(ImageTooLargeError, match="max_bytes"):
        decode_image(data, DecodeLimits(max_bytes=10))


def test_animated_gif_gives_its_first_frame() -> None:
    first = text_line("first", size=40)
    second = np.full_like(first, 255)
    frames = [Image.fromarray(first).convert("P"), Image.fromarray(second).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    page = decode_image(buf.getvalue())
    assert page.frames == 2
    assert ink_fraction(page.gray) == pytest.approx(ink_fraction(first), abs=0.01)
    assert ink_fraction(page.gray) > 0.02


def test_cmyk_jpeg_keeps_dark_ink_on_light_paper(sample: np.ndarray) -> None:
    cmyk = Image.fromarray(sample).convert("CMYK")
    page = decode_image(encode(cmyk, "JPEG", quality=95))
    assert page.original_mode == "CMYK"
    assert np.abs(page.gray.astype(int) - sample.astype(int)).mean() < 8


def test_16_bit_tiff_is_scaled_not_clipped() -> None:
    deep = np.full((40, 120), 65535, dtype=np.uint16)
    deep[10:30, 10:50] = 0
    deep[10:30, 60:100] = 32896  # mid gray: 128 in 8 bits
    page = decode_image(encode(Image.fromarray(deep), "TIFF"))
    assert page.original_mode.startswith("I;16")
    assert page.gray[0, 0] == 255 and page.gray[20, 20] == 0
    assert abs(int(page.gray[20, 80]) - 128) <= 1


def test_exif_orientation_is_undone(sample: np.ndarray) -> None:
    img = Image.fromarray(np.ascontiguousarray(np.rot90(sample, 1)))  # stored turned CCW
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = encode(img, "JPEG", quality=95, exif=exif.tobytes())
    page = decode_image(data)
    assert page.exif_rotation == -90
    assert page.gray.shape == sample.shape
    kept = decode_image(data, exif_orientation=False)  # as stored (what Mathpix does)
    assert kept.exif_rotation == 0 and kept.gray.shape == sample.shape[::-1]


def test_transparent_png_is_composited_on_white(sample: np.ndarray) -> None:
    rgba = np.zeros((*sample.shape, 4), dtype=np.uint8)
    rgba[..., 3] = 255 - sample  # black glyphs, transparent paper
    page = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert np.abs(page.gray.astype(int) - sample.astype(int)).mean() < 3
    rgba[..., :3] = 255  # white glyphs on transparency (dark-mode exports)
    page = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert np.abs(page.gray.astype(int) - sample.astype(int)).mean() < 3


def test_unreadable_paths_say_why(tmp_path: Path) -> None:
    with pytest.raises(ImageMissingError, match="no such file"):
        decode_image(tmp_path / "missing.png")
    with pytest.raises(ImageMissingError, match="directory"):
        decode_image(tmp_path)
