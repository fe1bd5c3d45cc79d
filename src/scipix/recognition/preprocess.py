"""Turn one formula crop into the recognizer's input: the same code at training and inference.

Steps: dark-on-light polarity, crop to the ink, scale so glyphs have the size the model was
trained on (im2latex's renders: typical glyph height about 10 px), cap the size, add a margin,
and encode ink as 1.0 on a 0.0 background (so padding looks like paper).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from scipix.errors import ImageNoContentError

GrayImage = npt.NDArray[np.uint8]
FloatImage = npt.NDArray[np.float32]


@dataclass(frozen=True)
class InputSpec:
    """The model's input geometry; stored in the ONNX metadata and read back at inference."""

    glyph_height: float = 10.0  # target typical glyph height (see glyph_height()), px
    min_height: int = 16
    max_height: int = 192
    max_width: int = 1024
    margin: int = 4
    pad_height: int = 16  # batches are padded to multiples of these
    pad_width: int = 32
    ink_threshold: int = 200  # a pixel darker than this (0..255) is ink
    rescale_band: float = 0.25  # no rescale when the estimated factor is within ±25 %

    def to_dict(self) -> dict[str, float | int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, float | int]) -> InputSpec:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)  # type: ignore[arg-type]


def to_dark_on_light(gray: GrayImage) -> GrayImage:
    """Invert light-on-dark images (a median brighter than mid-grey is paper)."""
    if float(np.median(gray)) < 128.0:
        return np.ascontiguousarray(255 - gray)
    return gray


def ink_box(gray: GrayImage, threshold: int) -> tuple[int, int, int, int] | None:
    """Bounding box (y0, y1, x0, x1) of the ink, or None when there is none."""
    ink = gray < threshold
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def glyph_height(gray: GrayImage, threshold: int) -> float | None:
    """Typical glyph height: the median height of the connected ink components that hold
    90 % of the ink (so specks of noise do not count), bars and rules left out (None if none)."""
    binary = (gray < threshold).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    heights = stats[1:count, cv2.CC_STAT_HEIGHT]
    widths = stats[1:count, cv2.CC_STAT_WIDTH]
    areas = stats[1:count, cv2.CC_STAT_AREA]
    keep = (heights > 2) & (widths < 5 * heights)
    if not keep.any():
        return None
    heights, areas = heights[keep], areas[keep]
    order = np.argsort(-areas, kind="stable")
    share = np.cumsum(areas[order]) / areas.sum()
    major = order[: int(np.searchsorted(share, 0.9)) + 1]
    return float(np.median(heights[major]))


def scale_factor(gray: GrayImage, spec: InputSpec) -> float:
    """The factor that brings the image's glyphs to ``spec.glyph_height`` (1.0 inside the band)."""
    measured = glyph_height(gray, spec.ink_threshold)
    if measured is None:
        return 1.0
    factor = spec.glyph_height / measured
    if abs(factor - 1.0) <= spec.rescale_band:
        return 1.0
    return float(np.clip(factor, 0.05, 4.0))


def resize(gray: GrayImage, factor: float) -> GrayImage:
    if factor == 1.0:
        return gray
    h, w = gray.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    interpolation = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(gray, size, interpolation=interpolation), dtype=np.uint8)


def prepare_image(gray: GrayImage, spec: InputSpec, scale: float | None = None) -> FloatImage:
    """One crop -> float32 (H, W), ink 1.0 on 0.0; raises ImageNoContentError if blank.

    ``scale`` forces a resize factor (training uses it for scale augmentation); None estimates it.
    """
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError("prepare_image expects a 2-D uint8 grayscale image")
    gray = to_dark_on_light(gray)
    box = ink_box(gray, spec.ink_threshold)
    if box is None:
        raise ImageNoContentError("Image has no content")
    y0, y1, x0, x1 = box
    crop = gray[y0:y1, x0:x1]
    factor = scale_factor(crop, spec) if scale is None else scale
    h, w = crop.shape
    inner_h, inner_w = spec.max_height - 2 * spec.margin, spec.max_width - 2 * spec.margin
    factor = min(factor, inner_h / h, inner_w / w)
    crop = resize(crop, factor)
    h, w = crop.shape
    out_h = max(spec.min_height, h + 2 * spec.margin)
    out = np.zeros((out_h, w + 2 * spec.margin), dtype=np.float32)
    top = (out_h - h) // 2
    out[top : top + h, spec.margin : spec.margin + w] = (255.0 - crop.astype(np.float32)) / 255.0
    return out


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def batch_images(images: Sequence[FloatImage], spec: InputSpec) -> npt.NDArray[np.float32]:
    """Pad prepared images (top-left aligned) into one (B, 1, H, W) batch."""
    height = round_up(max(im.shape[0] for im in images), spec.pad_height)
    width = round_up(max(im.shape[1] for im in images), spec.pad_width)
    batch = np.zeros((len(images), 1, height, width), dtype=np.float32)
    for i, im in enumerate(images):
        batch[i, 0, : im.shape[0], : im.shape[1]] = im
    return batch
