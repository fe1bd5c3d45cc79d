"""Ink as training data: CROHME InkML drawn at varied pens, sizes and resolutions, after
stroke-level augmentation (torch-free; ``scipix.training.ink_compose`` makes new formulas).

The recognizer learned handwriting from ``train/crohme`` PNGs: one drawing of each CROHME
expression, 256 px, one pen. The same expressions' ink (``train/crohme_ink``) can be drawn
again and again, differently each time:

- :func:`augment_strokes`: the whole formula scaled with another aspect, slanted and turned a
  little; each stroke moved, scaled and turned on its own (a writer's imprecision); an elastic
  distortion (a smooth random displacement field); point noise, smoothed along the stroke;
- :func:`random_pen`: the drawing's size (its longer side 120-600 px), pen width, ink darkness
  and a resolution change (drawn small and scaled up, or large and scaled down).

Only files whose formula is on the training side of ``corpus.split_of`` are used, so the
held-out CROHME split (the validation and benchmark formulas) never reaches training.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from scipix.errors import LatexError
from scipix.ink import PenStyle, read_inkml
from scipix.ink.draw import draw_points, fit
from scipix.ink.strokes import Points
from scipix.recognition.preprocess import GrayImage
from scipix.training.corpus import label_options, normalized, split_of

INK_SET = "crohme_ink"
#: The shortest long side of a drawing after the resolution change (a long formula drawn
#: smaller is not legible, and nobody sends one).
MIN_SIDE = 160.0


@dataclass(frozen=True)
class InkItem:
    """One InkML file and its normalized label."""

    path: Path
    latex: str


def load_ink_items(root: Path) -> tuple[list[InkItem], list[InkItem]]:
    """``(train, val)`` of ``root/crohme_ink`` (``labels.tsv`` + ``ink/``), split by the
    normalized label's hash exactly as the PNG sets are (``corpus.split_of``)."""
    folder = root / INK_SET
    options = label_options(None, "crohme")
    found: tuple[list[InkItem], list[InkItem]] = ([], [])
    for line in (folder / "labels.tsv").read_text(encoding="utf-8").splitlines():
        name, sep, raw = line.partition("\t")
        path = folder / "ink" / name.strip()
        if not sep or not path.is_file():
            continue
        try:
            latex, _ = normalized(raw, options)
        except LatexError:
            continue
        found[split_of(latex) == "val"].append(InkItem(path, latex))
    return found


def _height(strokes: Sequence[Points]) -> float:
    """A typical symbol height: the median stroke extent (at least 1)."""
    sizes = [float(np.ptp(s, axis=0).max()) for s in strokes]
    return max(1.0, float(np.median(sizes)))


def _turn(points: Points, angle: float, centre: Points) -> Points:
    c, s = np.cos(angle), np.sin(angle)
    turned: Points = (points - centre) @ np.array([[c, s], [-s, c]]) + centre
    return turned


def _elastic(points: Points, rng: np.random.Generator, amplitude: float, scale: float) -> Points:
    """A smooth displacement field: a few random sinusoids of wavelength about ``scale``."""
    moved = points.copy()
    for axis in range(2):
        for _ in range(3):
            k = rng.normal(0.0, 1.0, 2) / scale
            phase = rng.uniform(0.0, 2 * np.pi)
            moved[:, axis] += amplitude / 3 * np.sin(points @ k * 2 * np.pi + phase)
    return moved


def _smooth_noise(n: int, rng: np.random.Generator, sigma: float) -> Points:
    noise = rng.normal(0.0, sigma, (n, 2))
    if n >= 5:
        kernel = np.ones(5) / 5
        noise = np.stack([np.convolve(noise[:, i], kernel, mode="same") for i in range(2)], 1)
    return noise


def jitter_strokes(
    strokes: Sequence[Points], rng: np.random.Generator, level: float
) -> list[Points]:
    """Each stroke moved, scaled and turned on its own, with smoothed point noise."""
    h = _height(strokes)
    out: list[Points] = []
    for stroke in strokes:
        points = stroke.astype(np.float64, copy=True)
        own = points.mean(axis=0)
        points = _turn(points, np.radians(rng.normal(0.0, 4.0 * level)), own)
        points = (points - own) * np.exp(rng.normal(0.0, 0.06 * level)) + own
        points += rng.normal(0.0, 0.05 * level * h, 2)
        points += _smooth_noise(len(points), rng, 0.015 * level * h)
        out.append(points)
    return out


def _whole(strokes: Sequence[Points], change: Callable[[Points, Points], Points]) -> list[Points]:
    """``change(all points, centre)`` applied to the strokes as one drawing."""
    every = np.concatenate(strokes)
    moved = change(every.astype(np.float64), every.mean(axis=0))
    return list(np.split(moved, np.cumsum([len(s) for s in strokes])[:-1]))


def elastic_strokes(
    strokes: Sequence[Points], rng: np.random.Generator, level: float
) -> list[Points]:
    """A smooth random displacement field over the whole drawing."""
    h = _height(strokes)
    return _whole(strokes, lambda pts, _: _elastic(pts, rng, 0.08 * level * h, 2.5 * h))


def slant_strokes(
    strokes: Sequence[Points], rng: np.random.Generator, level: float
) -> list[Points]:
    """Slanted (shear) and turned a little."""
    slant = np.tan(np.radians(rng.normal(0.0, 10.0 * level)))
    angle = np.radians(rng.normal(0.0, 3.0 * level))

    def change(pts: Points, centre: Points) -> Points:
        pts[:, 0] += slant * (centre[1] - pts[:, 1])
        return _turn(pts, angle, centre)

    return _whole(strokes, change)


def aspect_strokes(
    strokes: Sequence[Points], rng: np.random.Generator, level: float
) -> list[Points]:
    """Wider or narrower (the height is left: the drawing is scaled later anyway)."""
    aspect = np.exp(rng.normal(0.0, 0.12 * level))

    def change(pts: Points, _: Points) -> Points:
        pts[:, 0] *= aspect
        return pts

    return _whole(strokes, change)


#: The stroke augmentations, in the order :func:`augment_strokes` applies them.
STROKE_AUGMENTATIONS: dict[
    str, Callable[[Sequence[Points], np.random.Generator, float], list[Points]]
] = {
    "per-stroke jitter": jitter_strokes,
    "elastic": elastic_strokes,
    "slant": slant_strokes,
    "scale/aspect": aspect_strokes,
}


def augment_strokes(
    strokes: Sequence[Points], rng: np.random.Generator, level: float = 0.5
) -> list[Points]:
    """Strokes distorted as another writer might have drawn them (``level`` 0..1): every
    augmentation of :data:`STROKE_AUGMENTATIONS` in turn."""
    out = list(strokes)
    for change in STROKE_AUGMENTATIONS.values():
        out = change(out, rng, level)
    return out


def random_pen(rng: np.random.Generator) -> tuple[PenStyle, float]:
    """A random drawing: its style and the resolution factor applied after drawing."""
    box = float(rng.uniform(120.0, 600.0))
    pen = float(rng.uniform(0.9, 2.8)) * (box / 244.0) ** 0.5
    style = PenStyle(box=box, pen_width=pen, supersample=4, ink=int(rng.integers(0, 90)))
    resolution = float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    return style, max(resolution, MIN_SIDE / box)  # never below MIN_SIDE px on the long side


def draw_variant(strokes: Sequence[Points], rng: np.random.Generator) -> GrayImage:
    """Strokes drawn with a random pen, size and resolution."""
    style, resolution = random_pen(rng)
    fitted, size = fit(strokes, style.box)
    image = draw_points(fitted, size, style)
    if abs(resolution - 1.0) > 0.05:
        h, w = image.shape
        new = (max(8, round(w * resolution)), max(8, round(h * resolution)))
        method = cv2.INTER_AREA if resolution < 1 else cv2.INTER_LINEAR
        image = np.asarray(cv2.resize(image, new, interpolation=method), dtype=np.uint8)
    return image


@functools.lru_cache(maxsize=4096)
def _strokes_of(path: Path) -> tuple[Points, ...]:
    return read_inkml(path).ink.strokes


def render_ink_item(path: Path, level: float = 0.5, seed: int | None = None) -> GrayImage:
    """One InkML file drawn anew (a fresh random draw unless ``seed`` is given)."""
    rng = np.random.default_rng(seed)
    strokes = _strokes_of(path)
    if rng.random() < 0.8:
        strokes = tuple(augment_strokes(strokes, rng, float(rng.uniform(0.2, 1.0) * level * 2)))
    return draw_variant(strokes, rng)
