"""Seeded image augmentation, from clean renders (level 0) to photo-like captures (level 1).

Every random choice comes from the ``numpy`` generator passed in, so the same image, seed and
level give the same result. Each step runs with a probability that grows with ``level`` and
with a strength that grows with it too. Images are grayscale ``uint8``, white paper, dark ink;
the output keeps roughly the input's size (scale changes are within ±25 %).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Image = np.ndarray  # float32 in [0, 1] inside this module: 1 = white paper
Step = Callable[[Image, np.random.Generator, float], Image]


def _thickness(img: Image, rng: np.random.Generator, level: float) -> Image:
    """Thicker ink (erode the white), or slightly thinner ink (half-way to a dilation: a full
    one erases the one-pixel strokes of small renders)."""
    if rng.random() < 0.7:
        size = 2 if rng.random() < 0.8 else 3
        return cv2.erode(img, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    thinner = cv2.dilate(img, np.ones((2, 2), np.uint8))
    weight = rng.uniform(0.2, 0.5)
    return ((1.0 - weight) * img + weight * thinner).astype(np.float32)


def _scale(img: Image, rng: np.random.Generator, level: float) -> Image:
    factor = float(np.exp(rng.uniform(-0.25, 0.25) * level))
    height, width = img.shape
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return np.clip(cv2.resize(img, size, interpolation=method), 0.0, 1.0)


def _pad(img: Image, rng: np.random.Generator, level: float) -> Image:
    top, bottom, left, right = (int(v) for v in rng.integers(0, 2 + int(16 * level), size=4))
    return cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=1.0)


def _geometry(img: Image, rng: np.random.Generator, level: float) -> Image:
    """A small rotation and perspective tilt; the canvas grows so no ink is cut off."""
    height, width = img.shape
    angle = np.deg2rad(rng.uniform(-3.0, 3.0) * level)
    turn = abs(np.sin(angle)) / 2
    dy = int(np.ceil(turn * width + 0.03 * level * height)) + 2
    dx = int(np.ceil(turn * height + 0.03 * level * width)) + 2
    img = cv2.copyMakeBorder(img, dy, dy, dx, dx, cv2.BORDER_CONSTANT, value=1.0)
    h, w = img.shape
    center = np.array([w / 2, h / 2])
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64) - center
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    jitter = rng.uniform(-0.03, 0.03, size=(4, 2)) * level * np.array([w, h])
    target = corners @ rotation.T + center + jitter
    source = (corners + center).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(source, target.astype(np.float32))
    return cv2.warpPerspective(
        img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=1.0
    )


def _smooth_field(shape: tuple[int, int], rng: np.random.Generator, cells: int) -> Image:
    """Low-frequency noise in [-1, 1]: a coarse random grid resized up smoothly."""
    coarse = rng.uniform(-1.0, 1.0, size=(cells, cells)).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _paper(img: Image, rng: np.random.Generator, level: float) -> Image:
    """Grey or yellowed paper with blotches and grain; ink not quite black."""
    base = 1.0 - rng.uniform(0.0, 0.25) * level
    blotches = _smooth_field(img.shape, rng, int(rng.integers(3, 8))) * 0.06 * level
    grain = rng.normal(0.0, 0.02 * level, size=img.shape).astype(np.float32)
    paper = np.clip(base + blotches + grain, 0.0, 1.0)
    ink = rng.uniform(0.0, 0.35) * level
    darkness = (1.0 - img) * (1.0 - ink)
    return np.clip(paper * (1.0 - darkness), 0.0, 1.0)


def _lighting(img: Image, rng: np.random.Generator, level: float) -> Image:
    """A linear light gradient in a random direction, or a vignette."""
    h, w = img.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.6:
        theta = rng.uniform(0, 2 * np.pi)
        ramp = (xs / max(w, 1)) * np.cos(theta) + (ys / max(h, 1)) * np.sin(theta)
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    else:
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        ramp = np.sqrt(((xs - cx) / max(w, 1)) ** 2 + ((ys - cy) / max(h, 1)) ** 2)
        ramp = ramp / max(float(ramp.max()), 1e-6)
    strength = rng.uniform(0.1, 0.45) * level
    return np.asarray(np.clip(img * (1.0 - strength * ramp), 0.0, 1.0), dtype=np.float32)


def _blur(img: Image, rng: np.random.Generator, level: float) -> Image:
    if rng.random() < 0.7:
        sigma = rng.uniform(0.3, 0.4 + 0.9 * level)
        return np.asarray(cv2.GaussianBlur(img, (0, 0), sigmaX=sigma), dtype=np.float32)
    length = int(rng.integers(2, 3 + int(3 * level)))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    center = (length / 2 - 0.5, length / 2 - 0.5)
    rotation = cv2.getRotationMatrix2D(center, float(rng.uniform(0, 180)), 1.0)
    turned = np.asarray(cv2.warpAffine(kernel, rotation, (length, length)), dtype=np.float32)
    turned /= max(float(turned.sum()), 1e-6)
    blurred = cv2.filter2D(img, -1, turned, borderType=cv2.BORDER_REPLICATE)
    return np.asarray(blurred, dtype=np.float32)


def _low_resolution(img: Image, rng: np.random.Generator, level: float) -> Image:
    """A screenshot taken small and blown up again."""
    factor = rng.uniform(1.3, 1.4 + 1.2 * level)
    h, w = img.shape
    small = (max(1, round(w / factor)), max(1, round(h / factor)))
    down = cv2.resize(img, small, interpolation=cv2.INTER_AREA)
    method = cv2.INTER_NEAREST if rng.random() < 0.4 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(down, (w, h), interpolation=method), dtype=np.float32)


def _noise(img: Image, rng: np.random.Generator, level: float) -> Image:
    sigma = rng.uniform(0.01, 0.02 + 0.05 * level)
    noisy = img + rng.normal(0.0, sigma, size=img.shape).astype(np.float32)
    if rng.random() < 0.3:
        specks = rng.random(img.shape) < 0.002 * level
        noisy[specks] = rng.uniform(0.0, 0.5)
    return np.asarray(np.clip(noisy, 0.0, 1.0), dtype=np.float32)


def _binarize(img: Image, rng: np.random.Generator, level: float) -> Image:
    """A black-and-white scan: Otsu's global threshold or an adaptive one."""
    gray = _to_uint8(img)
    if rng.random() < 0.5:
        _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    else:
        block = 2 * int(rng.integers(7, 16)) + 1
        binary = cv2.adaptiveThreshold(
            gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 10
        )
    return np.asarray(binary, dtype=np.float32) / 255.0


def _jpeg(img: Image, rng: np.random.Generator, level: float) -> Image:
    quality = int(rng.integers(max(10, int(95 - 75 * level)), 96))
    ok, data = cv2.imencode(".jpg", _to_uint8(img), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return img
    decoded = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return img if decoded is None else np.asarray(decoded, dtype=np.float32) / 255.0


def _to_uint8(img: Image) -> np.ndarray:
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


#: The steps in the order they run, each with its probability at level 1 (scaled by level).
STEPS: tuple[tuple[str, float, Step], ...] = (
    ("thickness", 0.35, _thickness),
    ("scale", 0.6, _scale),
    ("pad", 0.5, _pad),
    ("geometry", 0.5, _geometry),
    ("paper", 0.5, _paper),
    ("lighting", 0.4, _lighting),
    ("blur", 0.45, _blur),
    ("low_resolution", 0.25, _low_resolution),
    ("binarize", 0.12, _binarize),
    ("noise", 0.5, _noise),
    ("jpeg", 0.45, _jpeg),
)
STEP_NAMES: tuple[str, ...] = tuple(name for name, _, _ in STEPS)


def augment(image: np.ndarray, rng: np.random.Generator, level: float) -> np.ndarray:
    """A randomly degraded copy of a grayscale ``uint8`` image; ``level`` 0 returns it unchanged.

    Each step of :data:`STEPS` runs with probability ``p * level`` and strength ``level``.
    """
    level = float(min(max(level, 0.0), 1.0))
    if level == 0.0:
        return image.copy()
    img = image.astype(np.float32) / 255.0
    for _, probability, step in STEPS:
        if rng.random() < probability * level:
            img = step(img, rng, level)
    return _to_uint8(img)


def apply_step(image: np.ndarray, name: str, rng: np.random.Generator, level: float) -> np.ndarray:
    """Run one named step (for contact sheets and tests)."""
    steps = {step_name: step for step_name, _, step in STEPS}
    if name not in steps:
        raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(STEP_NAMES)}")
    return _to_uint8(steps[name](image.astype(np.float32) / 255.0, rng, float(level)))
