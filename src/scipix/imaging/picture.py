"""What kind of picture is this? A cheap classifier on image statistics.

Four kinds need different pre-processing: a clean ``render`` (a TeX or web render as saved), a
``screenshot`` (anti-aliased, flat background, possibly tinted or dark), ``paper`` (a photo or a
scan of a printed or handwritten page: uneven light, paper texture, noise, blur, perspective) and
``handwriting`` (pen strokes on a clean background: digital ink, a clean scan). The features
(:data:`FEATURES`) are measured on a copy no longer than :data:`ANALYSIS_SIDE` after polarity
normalization, in about a millisecond for a formula crop; a multinomial logistic regression on
them, their squares and their logarithms (``weights/picture.json``, fitted by ``scipix train
picture`` on pictures the data engine makes, see ``training/picture.py``) gives the kind and its
probability.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from scipix.imaging import enhance
from scipix.imaging.enhance import PageInk
from scipix.imaging.geometry import downscale
from scipix.imaging.levels import Levels, median_of, percentile_of
from scipix.imaging.page import Gray
from scipix.schema import PictureKind

KINDS: tuple[PictureKind, ...] = ("render", "screenshot", "paper", "handwriting")
#: The features are measured on a copy no longer than this (photos are large; noise and texture
#: show at this size too).
ANALYSIS_SIDE = 1024
#: The classifier's parameters, shipped with the package.
CLASSIFIER_FILE = Path(__file__).resolve().parents[1] / "weights" / "picture.json"

FEATURES = (
    "paper_level",  # the background's median brightness (tinted, grey or dark paper is lower)
    "paper_spread",  # p95 - p5 of the background estimate: uneven light, shadows
    "paper_texture",  # std of the background pixels around their local mean: grain, noise
    "flat_share",  # share of pixels within 2 levels of the most common one
    "paper_entropy",  # entropy (bits) of the background pixels' histogram
    "white_share",  # share of pixels at 250 or brighter
    "ink_share",  # share of pixels that are ink
    "ink_contrast",  # paper minus the darkest ink, over the paper
    "transition",  # half-tone pixels per ink pixel: blur and anti-aliasing widen edges
    "stroke_cv",  # coefficient of variation of the stroke width along the strokes
    "stroke_width",  # median stroke width over the typical component height
    "dark",  # 1 when the picture was light on dark
    "axis_edges",  # share of strong edges within 10° of the axes: printed stems and bars
    "diagonal_edges",  # share of strong edges within 10° of the diagonals
    "fill",  # median share of its bounding box a component's ink fills (pen strokes: little)
    "components",  # log of the number of ink components
)

Vector = npt.NDArray[np.float64]


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else 0.0


Stats = npt.NDArray[np.int32]


def _stroke_stats(ink: npt.NDArray[np.uint8], stats: Stats) -> tuple[float, float]:
    """Coefficient of variation of stroke widths (twice the distance to the paper at the
    strokes' ridge) and the median width over the median component height (``stats``: the
    components' OpenCV stats, background row first)."""
    dist = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    ridge = (dist > 0) & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    widths = 2.0 * dist[ridge]
    if widths.size < 8:
        return 0.0, 0.0
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    heights = heights[heights > 2]
    typical = median_of(heights) if heights.size else 0.0
    median = median_of(widths)
    return _ratio(float(np.std(widths)), float(np.mean(widths))), _ratio(median, typical)


def _edge_stats(small: Gray, values: npt.NDArray[np.float32] | None = None) -> tuple[float, float]:
    """The shares of the strongest edges' gradient near the axes and near the diagonals
    (``values``: ``small`` as float32, when already converted)."""
    values = small.astype(np.float32) if values is None else values
    gx = cv2.Sobel(values, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(values, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)
    strong = magnitude > percentile_of(magnitude, 90)
    weight = magnitude[strong]
    total = float(weight.sum())
    if total <= 0:
        return 0.0, 0.0
    angle = np.degrees(np.arctan2(gy[strong], gx[strong])) % 90
    axis = float(weight[(angle < 10) | (angle > 80)].sum())
    diagonal = float(weight[(angle > 35) & (angle < 55)].sum())
    return axis / total, diagonal / total


def _component_stats(stats: Stats) -> tuple[float, float]:
    """The median fill of the components' bounding boxes, and the log of their number."""
    count = len(stats)
    if count < 2:
        return 0.0, 0.0
    boxes = stats[1:, cv2.CC_STAT_HEIGHT] * stats[1:, cv2.CC_STAT_WIDTH]
    fill = stats[1:, cv2.CC_STAT_AREA] / np.maximum(boxes, 1)
    return median_of(fill), float(np.log(count - 1))


def expand(features: Vector) -> Vector:
    """What the regression weighs: the features, their squares and their logarithms (the
    kinds are not linearly separable in the features themselves)."""
    return np.concatenate([features, features**2, np.log(np.abs(features) + 1e-3)], axis=-1)


def _polarity_and_counts(small: Gray) -> tuple[Gray, bool, npt.NDArray[np.int64]]:
    """``enhance.normalize_polarity(small)`` and the gray-level counts of its result, from one
    count of the levels where the polarity check would count every pixel anyway."""
    if small.size > enhance.FULL_HISTOGRAM_PIXELS:
        small, dark = enhance.normalize_polarity(small)
        return small, dark, np.bincount(small.ravel(), minlength=256)
    counts = np.bincount(small.ravel(), minlength=256)
    if enhance.counts_inverted(counts.astype(np.float64)):
        return np.ascontiguousarray(255 - small), True, counts[::-1]
    return small, False, counts


def picture_features(gray: Gray) -> Vector:
    """The :data:`FEATURES` of a gray picture (see the module docstring)."""
    return picture_analysis(gray)[0]


def picture_analysis(gray: Gray) -> tuple[Vector, PageInk | None]:
    """The :data:`FEATURES` of a gray picture, and its ink when measured at full size (a
    picture no longer than :data:`ANALYSIS_SIDE`), for pre-processing to reuse."""
    small, scale = downscale(gray, ANALYSIS_SIDE)
    small, dark, counts = _polarity_and_counts(small)
    kernel = enhance.stroke_kernel(small.shape)
    paper = enhance.paper_level(small, kernel)
    darkening = np.asarray(cv2.subtract(paper, small), dtype=np.uint8)
    mask = enhance.ink_of_darkening(darkening)  # enhance.ink_mask(small), from the same paper
    background = (darkening < 12) & ~cv2.dilate(mask.astype(np.uint8), np.ones((5, 5))).astype(bool)
    values = small.astype(np.float32)
    local = cv2.blur(values, (5, 5))
    bg_levels = small[background] if background.any() else small.ravel()
    paper_levels = Levels.of(paper)
    level = paper_levels.median()  # float(np.median(paper)), faster
    hist = np.bincount(bg_levels.ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / max(hist.sum(), 1.0)
    full = counts.astype(np.float64)
    mode = int(np.argmax(full))
    flat = full[max(0, mode - 2) : mode + 3].sum() / max(full.sum(), 1.0)
    ink_share = float(mask.mean())
    darkest = Levels.of(small[mask]).percentile(5) if mask.any() else level
    contrast = _ratio(level - darkest, level)
    half = (darkening >= 0.2 * (level - darkest)) & (darkening <= 0.8 * (level - darkest))
    ink = mask.astype(np.uint8)
    stats = np.asarray(cv2.connectedComponentsWithStats(ink, connectivity=8)[2], dtype=np.int32)
    stroke_cv, stroke_width = _stroke_stats(ink, stats)
    residual = (values - local)[background] if background.any() else np.zeros(1, np.float32)
    axis, diagonal = _edge_stats(small, values)
    fill, components = _component_stats(stats)
    spread = paper_levels.percentile(95) - paper_levels.percentile(5)
    features = np.array(
        [
            level / 255.0,
            spread / 255.0,
            float(np.std(residual)) / 255.0,
            flat,
            float(-(p * np.log2(p)).sum()),
            float((small >= 250).mean()),
            ink_share,
            contrast,
            _ratio(float(half.sum()), float(mask.sum())),
            stroke_cv,
            stroke_width,
            1.0 if dark else 0.0,
            axis,
            diagonal,
            fill,
            components,
        ],
        dtype=np.float64,
    )
    return features, PageInk(small, dark, mask) if scale >= 1.0 else None


@dataclass(frozen=True)
class KindGuess:
    """The classifier's answer: the most probable kind and its probability."""

    kind: PictureKind
    probability: float


@dataclass(frozen=True)
class PictureClassifier:
    """A multinomial logistic regression on the standardized :func:`expand`-ed
    :data:`FEATURES`: ``weights`` is (kinds × expanded features), ``bias`` one per kind;
    ``mean`` and ``scale`` standardize."""

    mean: Vector
    scale: Vector
    weights: Vector
    bias: Vector
    kinds: tuple[PictureKind, ...] = KINDS

    def probabilities(self, features: Vector) -> Vector:
        z = self.weights @ ((expand(features) - self.mean) / self.scale) + self.bias
        e = np.exp(z - z.max())
        probs: Vector = e / e.sum()
        return probs

    def classify(self, gray: Gray) -> KindGuess:
        return self.classify_page(gray)[0]

    def classify_page(self, gray: Gray) -> tuple[KindGuess, PageInk | None]:
        """The kind, and the page's ink when it was measured at full size (see
        :func:`picture_analysis`)."""
        features, ink = picture_analysis(gray)
        probs = self.probabilities(features)
        best = int(np.argmax(probs))
        return KindGuess(self.kinds[best], float(probs[best])), ink

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "kinds": list(self.kinds),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> PictureClassifier:
        """A classifier from :meth:`to_dict`'s shape; ValueError when it does not fit this
        code's features and kinds."""
        if data.get("features") != list(FEATURES) or data.get("kinds") != list(KINDS):
            raise ValueError("the picture classifier was fitted for other features or kinds")
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "bias")}
        weights = np.asarray(data["weights"], dtype=np.float64)
        if weights.shape != (len(KINDS), 3 * len(FEATURES)):
            raise ValueError(f"picture classifier weights have shape {weights.shape}")
        return cls(arrays["mean"], arrays["scale"], weights, arrays["bias"])

    @classmethod
    def load(cls, path: Path = CLASSIFIER_FILE) -> PictureClassifier:
        """The shipped classifier (raises OSError or ValueError when it cannot be read)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a picture classifier")
        return cls.from_dict(data)
