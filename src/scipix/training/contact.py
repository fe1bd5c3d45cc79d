"""Contact sheets: a grid of random samples per condition, so a person can see the training data.

One row per condition (renderer and font, clean), then rows of the same kind of samples after
augmentation at a few levels. Each cell is scaled to the row height, keeping its aspect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from scipix.errors import StoreError
from scipix.training.augment import augment
from scipix.training.cache import DatasetCache

LABEL_WIDTH = 190
GAP = 6


def fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale ``image`` to at most ``height`` x ``width`` (never up by more than 2x)."""
    factor = min(height / image.shape[0], width / image.shape[1], 2.0)
    size = (max(1, int(image.shape[1] * factor)), max(1, int(image.shape[0] * factor)))
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, size, interpolation=method), dtype=np.uint8)


def contact_sheet(
    rows: Mapping[str, Sequence[np.ndarray]], cell: tuple[int, int] = (56, 260), columns: int = 6
) -> np.ndarray:
    """A grid image: one labelled row per key, ``columns`` cells of ``cell`` (height, width)."""
    height, width = cell
    row_height = height + GAP
    canvas = np.full(
        (row_height * len(rows) + GAP, LABEL_WIDTH + columns * (width + GAP) + GAP), 235, np.uint8
    )
    for r, (name, images) in enumerate(rows.items()):
        top = GAP + r * row_height
        cv2.putText(
            canvas,
            name[:26],
            (6, top + height // 2 + 5),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            0,
            1,
            cv2.LINE_AA,
        )
        for c, image in enumerate(images[:columns]):
            tile = fit(image, height, width)
            left = LABEL_WIDTH + GAP + c * (width + GAP)
            canvas[top : top + height, left : left + width] = 255
            canvas[top : top + tile.shape[0], left : left + tile.shape[1]] = tile
    return canvas


def cache_contact_sheet(
    cache: DatasetCache,
    path: Path,
    columns: int = 6,
    seed: int = 0,
    levels: Sequence[float] = (0.3, 0.6, 1.0),
) -> Path:
    """Write a PNG contact sheet of ``cache``: each condition clean, then augmented rows."""
    if len(cache) == 0:
        raise StoreError(f"{cache.root}: the cache is empty; build it first")
    rng = np.random.default_rng(seed)
    by_condition: dict[str, list[int]] = {}
    for index in range(len(cache)):
        meta = cache.meta(index)
        engine = f"/{meta.engine}" if meta.engine == "pdf" else ""
        by_condition.setdefault(f"{meta.renderer}{engine} {meta.font}", []).append(index)
    rows: dict[str, list[np.ndarray]] = {}
    for name in sorted(by_condition):
        indices = by_condition[name]
        picks = rng.choice(len(indices), size=min(columns, len(indices)), replace=False)
        rows[name] = [cache.image(indices[int(k)]) for k in picks]
    for level in levels:
        for copy in range(2):
            picks = rng.choice(len(cache), size=min(columns, len(cache)), replace=False)
            images = [augment(cache.image(int(k)), rng, level) for k in picks]
            rows[f"augment {level:.1f} #{copy + 1}"] = images
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), contact_sheet(rows, columns=columns)):
        raise StoreError(f"cannot write {path}")
    return path


def kinds_contact_sheet(
    v2: DatasetCache, renders: DatasetCache, path: Path, columns: int = 6, seed: int = 0
) -> Path:
    """Mixture v2's contact sheet: MathJax renders, each structure family (every renderer),
    then each capture kind (``training/capture.py``) applied to random renders of both caches."""
    from scipix.training.capture import KINDS, capture

    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for index in range(len(v2)):
        meta = v2.meta(index)
        if meta.source.startswith("val/"):
            continue
        if meta.renderer == "mathjax" and not meta.source.startswith("structure/"):
            groups.setdefault("mathjax", []).append(index)
        if meta.source.startswith("structure/"):
            groups.setdefault(meta.source.removeprefix("structure/"), []).append(index)
    rows: dict[str, list[np.ndarray]] = {}
    for name in sorted(groups):
        picks = rng.choice(len(groups[name]), size=min(columns, len(groups[name])), replace=False)
        rows[name] = [v2.image(groups[name][int(k)]) for k in picks]
    pools = [(cache, len(cache)) for cache in (v2, renders) if len(cache)]
    for kind in KINDS:
        for copy in range(2):
            images = []
            for _ in range(columns):
                cache, size = pools[int(rng.integers(len(pools)))]
                images.append(capture(cache.image(int(rng.integers(size))), kind, rng))
            rows[f"{kind} #{copy + 1}"] = images
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), contact_sheet(rows, cell=(64, 280), columns=columns)):
        raise StoreError(f"cannot write {path}")
    return path
