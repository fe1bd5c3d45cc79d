"""How formulas reach users (mixture v2): photos of paper and screens, screenshots, small crops.

Each *kind* turns a clean render (grayscale ``uint8``, dark ink on white) into a picture the
product meets, then back to grayscale the way the product reads a colour picture
(``cv2.COLOR_BGR2GRAY``). Every random choice comes from the generator passed in.

- ``photo``: printed on paper and photographed — a page curl, a crop with margins and pieces of
  the neighbouring lines, paper tone and texture, uneven light and shadows, perspective, camera
  blur, sensor noise, JPEG (``picture.photograph`` does the camera), sometimes at low resolution;
- ``screen_photo``: a screen photographed by a phone — coloured screen pixels with their
  sub-pixel grid, moiré between the grid and the sensor, glare, perspective, blur, noise, JPEG;
- ``screenshot``: anti-aliased at screen resolution (the render shrunk to 96–144 dpi), light,
  coloured or dark (light-on-dark) backgrounds, coloured ink, sub-pixel colour fringes
  (ClearType-style), sometimes a JPEG;
- ``low_res``: the formula only 12–20 px high, blurred and JPEG-compressed.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from scipix.recognition.preprocess import glyph_height
from scipix.training.picture import photograph

Gray = npt.NDArray[np.uint8]
Float = npt.NDArray[np.float32]
Colour = npt.NDArray[np.float32]  # (H, W, 3) BGR in [0, 1]


def _float(image: Gray) -> Float:
    return image.astype(np.float32) / 255.0


def _uint8(img: np.ndarray) -> Gray:
    return np.asarray(np.clip(np.rint(img * 255.0), 0, 255), dtype=np.uint8)


def _to_gray(colour: Colour) -> Gray:
    """As the product reads a colour picture."""
    return np.asarray(cv2.cvtColor(_uint8(colour), cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _jpeg(image: Gray, quality: int) -> Gray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else None
    return image if decoded is None else np.asarray(decoded, dtype=np.uint8)


def _pad(img: np.ndarray, rng: np.random.Generator, low: int, high: int) -> Float:
    t, b, left, r = (int(v) for v in rng.integers(low, high, size=4))
    return np.asarray(
        cv2.copyMakeBorder(img, t, b, left, r, cv2.BORDER_CONSTANT, value=1.0), np.float32
    )


def _resize(img: npt.NDArray[np.float32], factor: float, method: int) -> npt.NDArray[np.float32]:
    h, w = img.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(cv2.resize(img, size, interpolation=method), dtype=np.float32)


def at_glyph_height(image: Gray, rng: np.random.Generator, low: float, high: float) -> Gray:
    """The render shrunk (never enlarged) so its typical glyph is ``low``–``high`` px high, as
    a screen or a printed page shows it before the camera: a large render would otherwise be
    photographed at several times the model's scale, and its blur, noise and JPEG blocks would
    vanish when the recognizer scales it down (and cost time on the way)."""
    measured = glyph_height(image, 200)
    target = rng.uniform(low, high)
    if measured is None or measured <= target:
        return image
    return _uint8(_resize(_float(image), target / measured, cv2.INTER_AREA))


# -- paper ------------------------------------------------------------------------------------


def neighbours(img: Float, rng: np.random.Generator) -> Float:
    """A crop with margins that catches pieces of the lines above and below (cut text)."""
    h, w = img.shape
    line = max(8, int(h * rng.uniform(0.35, 0.7)))
    gap = int(rng.integers(2, max(3, line // 2)))
    out = _uint8(
        cv2.copyMakeBorder(img, line + gap, line + gap, 0, 0, cv2.BORDER_CONSTANT, value=1.0)
    )
    for top in (0, h + line + 2 * gap):
        if rng.random() < 0.35:
            continue
        x = int(rng.integers(0, max(1, w // 4)))
        scale = line / 30.0 * rng.uniform(0.8, 1.2)
        words = " ".join(
            "".join(chr(int(c)) for c in rng.integers(97, 123, size=int(rng.integers(2, 9))))
            for _ in range(int(rng.integers(2, 10)))
        )
        base = top + int(line * 0.8)
        cv2.putText(out, words, (x, base), _font(rng), scale, 0, max(1, int(scale * 2)))
    keep_top = int(rng.integers(line // 3, line + gap + 1))
    keep_bottom = int(rng.integers(line // 3, line + gap + 1))
    return _float(out[line + gap - keep_top : out.shape[0] - (line + gap - keep_bottom)])


def _font(rng: np.random.Generator) -> int:
    fonts = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX)
    return int(fonts[int(rng.integers(len(fonts)))])


def curl(img: Float, rng: np.random.Generator) -> Float:
    """A page that is not flat: rows bend along a smooth curve, shaded where the page turns."""
    h, w = img.shape
    pad = int(0.08 * h) + 6
    img = np.asarray(
        cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=1.0), dtype=np.float32
    )
    h = img.shape[0]
    xs = np.linspace(-1.0, 1.0, w, dtype=np.float32)
    amplitude = rng.uniform(0.02, 0.07) * h
    if rng.random() < 0.5:
        bend = amplitude * xs**2  # a cylinder (a bound book)
    else:
        bend = amplitude * np.sin(np.pi * xs * rng.uniform(0.5, 1.2) + rng.uniform(0, np.pi))
    map_x = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    map_y = np.arange(h, dtype=np.float32)[:, None] + bend[None, :]
    warped = cv2.remap(
        img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=1.0
    )
    slope = np.gradient(bend)
    shade = 1.0 - rng.uniform(0.0, 4.0) * np.abs(slope) / max(h, 1)
    return np.asarray(warped * np.clip(shade, 0.6, 1.0)[None, :], dtype=np.float32)


def low_resolution(image: Gray, rng: np.random.Generator) -> Gray:
    """The formula (its ink) only 12–20 px high: area-averaged down, kept small."""
    rows = np.flatnonzero((image < 200).any(axis=1))
    ink_height = int(rows[-1] - rows[0] + 1) if rows.size else image.shape[0]
    target = rng.uniform(12.0, 20.0)
    if ink_height <= target:
        return image
    small = _resize(_float(image), target / ink_height, cv2.INTER_AREA)
    return _uint8(small)


def photo(image: Gray, rng: np.random.Generator) -> Gray:
    """Printed on paper, photographed (see the module docstring)."""
    if rng.random() < 0.25:  # taken from afar: the formula few pixels high in the photo
        image = low_resolution(image, rng)
    else:
        image = at_glyph_height(image, rng, 9.0, 16.0)
    img = _float(image)
    if rng.random() < 0.5:
        img = neighbours(img, rng)
    if rng.random() < 0.45:
        img = curl(img, rng)
    return photograph(_uint8(img), rng)


# -- screens ----------------------------------------------------------------------------------


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(background, ink) BGR colours: light, coloured, or dark mode (light ink on dark)."""
    mode = rng.choice(["white", "tinted", "coloured", "dark"], p=[0.3, 0.25, 0.15, 0.3])
    if mode == "white":
        bg = np.full(3, rng.uniform(0.93, 1.0))
        ink = np.full(3, rng.uniform(0.0, 0.3))
    elif mode == "tinted":
        bg = rng.uniform(0.78, 1.0, size=3)
        ink = rng.uniform(0.0, 0.35, size=3)
    elif mode == "coloured":
        bg = rng.uniform(0.45, 1.0, size=3)
        ink = np.clip(bg - rng.uniform(0.4, 0.7), 0.0, 1.0) * rng.uniform(0.3, 1.0, size=3)
    else:
        bg = rng.uniform(0.04, 0.25, size=3)
        ink = rng.uniform(0.75, 1.0, size=3)
    return bg.astype(np.float32), ink.astype(np.float32)


def screen_render(image: Gray, rng: np.random.Generator, fringes: float) -> Colour:
    """The render drawn by a screen: coloured, with sub-pixel (R, G, B stripes) anti-aliasing
    that leaves colour fringes on glyph edges with probability ``fringes``."""
    coverage = 1.0 - _float(image)
    bg, ink = _colours(rng)
    if rng.random() < fringes:
        h, w = coverage.shape
        wide = cv2.resize(coverage, (3 * w, h), interpolation=cv2.INTER_LINEAR)
        shift = 1 if rng.random() < 0.8 else -1  # RGB or BGR stripe order
        per = [np.roll(wide, k * shift, axis=1)[:, 1::3][:, :w] for k in (1, 0, -1)]
        alpha = np.stack(per, axis=-1).astype(np.float32)  # B, G, R
    else:
        alpha = np.repeat(coverage[:, :, None], 3, axis=2)
    return np.asarray(bg + (ink - bg) * alpha, dtype=np.float32)


def screenshot(image: Gray, rng: np.random.Generator) -> Gray:
    """A screenshot at 96–144 dpi (see the module docstring)."""
    img = _float(at_glyph_height(image, rng, 7.0, 13.0))  # 96-144 dpi
    img = _pad(img, rng, 2, 40)
    gray = _to_gray(screen_render(_uint8(img), rng, fringes=0.5))
    if rng.random() < 0.25:
        zoom = float(rng.choice([1.25, 1.5, 2.0]))
        gray = _uint8(_resize(_float(gray), zoom, cv2.INTER_LINEAR))
    if rng.random() < 0.25:
        gray = _jpeg(gray, int(rng.integers(70, 96)))
    return gray


def moire(colour: Colour, rng: np.random.Generator) -> Colour:
    """Interference of the screen's pixel grid with the camera's: two nearly equal gratings."""
    h, w = colour.shape[:2]
    xs, ys = np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)
    theta = rng.uniform(-0.3, 0.3)
    period = rng.uniform(2.0, 3.5)
    ku = 2 * np.pi / period
    kv = ku / rng.uniform(0.9, 1.1)
    c, s = np.cos(theta), np.sin(theta)
    # cos(ku (x c + y s)) cos(kv (y c - x s)), each factor split into x and y parts
    grid = _wave(xs, ys, ku * c, ku * s) * _wave(xs, ys, -kv * s, kv * c)
    depth = rng.uniform(0.08, 0.3)
    tint = rng.uniform(0.7, 1.0, size=3).astype(np.float32)
    pattern = 1.0 - depth * (0.5 + 0.5 * grid)[:, :, None] * tint
    return np.asarray(colour * pattern, dtype=np.float32)


def _wave(xs: Float, ys: Float, kx: float, ky: float) -> Float:
    """``cos(kx x + ky y)`` on the grid, from outer products of 1-D cosines and sines."""
    cx, sx = np.cos(kx * xs), np.sin(kx * xs)
    cy, sy = np.cos(ky * ys), np.sin(ky * ys)
    return np.asarray(np.outer(cy, cx) - np.outer(sy, sx), dtype=np.float32)


def screen_photo(image: Gray, rng: np.random.Generator) -> Gray:
    """A phone photo of a screen showing the formula (see the module docstring)."""
    image = at_glyph_height(image, rng, 8.0, 14.0)
    img = _resize(_float(image), rng.uniform(1.5, 3.0), cv2.INTER_CUBIC)
    img = _pad(img, rng, 8, 60)
    colour = moire(screen_render(_uint8(img), rng, fringes=0.3), rng)
    h, w = colour.shape[:2]
    cx, cy, spread = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.05, 0.4)
    along_x = np.exp(-(((np.arange(w) - cx) / w) ** 2) / spread)
    along_y = np.exp(-(((np.arange(h) - cy) / h) ** 2) / spread)
    glare = np.outer(along_y, along_x).astype(np.float32)
    colour = np.clip(colour + rng.uniform(0.0, 0.25) * glare[:, :, None], 0.0, 1.0)
    gray = _float(_to_gray(colour))
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    moved = corners + rng.uniform(-0.05, 0.05, size=(4, 2)).astype(np.float32) * [w, h]
    matrix = cv2.getPerspectiveTransform(corners, moved.astype(np.float32))
    fill = float(np.median(gray))
    warped = cv2.warpPerspective(
        gray, matrix, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=fill
    )
    gray = np.asarray(cv2.GaussianBlur(warped, (0, 0), rng.uniform(0.4, 1.5)), np.float32)
    gray = gray + rng.normal(0.0, rng.uniform(0.01, 0.04), size=gray.shape).astype(np.float32)
    return _jpeg(_uint8(np.clip(gray, 0.0, 1.0)), int(rng.integers(40, 90)))


def small(image: Gray, rng: np.random.Generator) -> Gray:
    """A tiny crop: 12–20 px high, slightly blurred, JPEG."""
    out = low_resolution(image, rng)
    if rng.random() < 0.5:
        out = _uint8(cv2.GaussianBlur(_float(out), (0, 0), rng.uniform(0.3, 0.7)))
    return _jpeg(out, int(rng.integers(30, 85))) if rng.random() < 0.7 else out


#: Kind → degradation (clean render in, picture out).
KINDS: dict[str, Callable[[Gray, np.random.Generator], Gray]] = {
    "photo": photo,
    "screen_photo": screen_photo,
    "screenshot": screenshot,
    "low_res": small,
}


def capture(image: Gray, kind: str, rng: np.random.Generator) -> Gray:
    """``image`` as a picture of ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown capture kind {kind!r}; known: {', '.join(KINDS)}")
    return KINDS[kind](image, rng)
