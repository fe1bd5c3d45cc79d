"""Test images made on the fly: formulas (matplotlib mathtext), text lines (PIL), photo effects,
and encoded files of every supported format (no files from outside the repository)."""

from __future__ import annotations

import io
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

Gray = NDArray[np.uint8]


def formula(tex: str, dpi: int = 200, size: int = 20, pad: int = 24) -> Gray:
    """A formula rendered black on white by matplotlib's mathtext, with a white margin."""
    pytest.importorskip("matplotlib", reason="formula rendering needs matplotlib ([train] extra)")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    mathtext.math_to_image(f"${tex}$", buf, prop=FontProperties(size=size), dpi=dpi, format="png")
    gray = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))
    return np.pad(gray, pad, constant_values=255)


def mixed_line(source: str, dpi: int = 150, size: int = 20, pad: int = 20) -> Gray:
    """A line of prose with inline formulas (``$...$``), rendered by matplotlib's mathtext."""
    pytest.importorskip("matplotlib", reason="formula rendering needs matplotlib ([train] extra)")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    mathtext.math_to_image(source, buf, prop=FontProperties(size=size), dpi=dpi, format="png")
    gray = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))
    return np.pad(gray, pad, constant_values=255)


def text_line(text: str, size: int = 32, pad: int = 16) -> Gray:
    """A line of printed text (PIL's built-in scalable font), black on white."""
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=0, font=font)
    return np.asarray(img)


def stack(parts: list[Gray], gap: int = 30, width: int | None = None) -> Gray:
    """Images one under the other, left-aligned, on white."""
    w = width or max(p.shape[1] for p in parts)
    rows = []
    for p in parts:
        rows.append(np.pad(p, ((0, gap), (0, w - p.shape[1])), constant_values=255))
    return np.vstack(rows)


def photo_like(gray: Gray, angle: float = 0.0, blur: float = 1.2, seed: int = 0) -> Gray:
    """A phone-photo-like copy: tilted, blurred, shaded, noisy, JPEG-compressed, grayish paper."""
    from scipix.imaging.geometry import rotate_image

    rng = np.random.default_rng(seed)
    img = rotate_image(gray, angle) if angle else gray
    img = cv2.GaussianBlur(img, (0, 0), blur).astype(np.float32)
    h, w = img.shape
    shade = (
        np.linspace(0.78, 1.0, w, dtype=np.float32)[None, :]
        * np.linspace(0.9, 1.0, h, dtype=np.float32)[:, None]
    )
    img = 30 + img * shade * 0.8 + rng.normal(0, 4, img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return np.asarray(cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def encode(image: Gray | Image.Image, fmt: str, **params: Any) -> bytes:
    """``image`` encoded by PIL as ``fmt`` (PNG, JPEG, WEBP, TIFF, BMP, GIF)."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def ink_fraction(gray: Gray, level: int = 128) -> float:
    return float((gray < level).mean())
