"""The ink sources of the training mixture (opt-in): ``crohme_ink`` and ``ink_composed``.

- ``crohme_ink``: every training-side CROHME InkML file drawn anew at each draw (stroke
  augmentation, random pen, size and resolution: ``training/ink.py``);
- ``ink_composed``: corpus formulas (training side, never a held-out formula) written with
  CROHME symbol ink laid out by mathtext (``training/ink_compose.py``), also drawn anew.

Off by default, so the default recipe is unchanged. Turn them on in the training config,
either with a share of all samples (split 40 % / 60 %)::

    [extra]
    ink_share = 0.08             # 8 % of samples are ink
    ink_composed_formulas = 8000 # formulas laid out for ink_composed (default 6000)

or with explicit weights next to the other sources (``[[sources]] name = "crohme_ink"``,
``weight = 0.03``; ``name = "ink_composed"``, ``weight = 0.05``), which take precedence.
Building them reads the ~6 k InkML files (symbol library) and lays out the formulas with
mathtext: one to three minutes at the start of a run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from scipix.errors import ScipixError
from scipix.ink import InkDocument, read_inkml
from scipix.recognition.preprocess import GrayImage
from scipix.training.config import TrainConfig
from scipix.training.corpus import Formula
from scipix.training.dataset import Sample
from scipix.training.ink import (
    InkItem,
    augment_strokes,
    draw_variant,
    load_ink_items,
    render_ink_item,
)
from scipix.training.ink_compose import (
    LAYOUT_FONTS,
    Box,
    SymbolLibrary,
    compose_strokes,
    glyph_layout,
)

INK_SOURCES = ("crohme_ink", "ink_composed")
INK_SPLIT = {"crohme_ink": 0.4, "ink_composed": 0.6}
#: Corpus sources tried for composition, in order (handwritten formulas first).
COMPOSE_ORDER = ("handwritten", "k12", "arxiv_texnet", "im2latex_val")
Encode = Callable[[str], tuple[int, ...] | None]


def ink_weights(cfg: TrainConfig, weights: dict[str, float]) -> dict[str, float]:
    """The ink sources' weights: explicit ones, else ``extra.ink_share`` of the whole mixture."""
    given = {name: weights[name] for name in INK_SOURCES if weights.get(name, 0.0) > 0}
    if given:
        return given
    share = float(cfg.extra.get("ink_share", 0.0))
    if not 0.0 < share < 1.0:
        return {}
    others = sum(w for name, w in weights.items() if name not in INK_SOURCES)
    total = share * others / (1.0 - share)
    return {name: total * part for name, part in INK_SPLIT.items()}


@dataclass(frozen=True)
class ComposedLoader:
    """A formula's layout written with the library's symbols, new at each call."""

    boxes: tuple[Box, ...]
    library: SymbolLibrary

    def __call__(self) -> GrayImage:
        rng = np.random.default_rng()
        strokes = compose_strokes(self.boxes, self.library, rng)
        if rng.random() < 0.8:
            strokes = augment_strokes(strokes, rng, float(rng.uniform(0.2, 0.9)))
        return draw_variant(strokes, rng)


def redrawn_samples(items: Sequence[InkItem], encode: Encode, held_out: set[str]) -> list[Sample]:
    """The items (files that parse) drawn anew at each draw."""
    found = []
    for item in items:
        ids = encode(item.latex)
        if ids is not None and item.latex not in held_out:
            found.append(Sample(partial(render_ink_item, item.path), ids))
    return found


def parsed(items: Sequence[InkItem]) -> tuple[list[InkItem], list[InkDocument]]:
    """The items whose file parses, and their documents (each file read once)."""
    kept, documents = [], []
    for item in items:
        try:
            documents.append(read_inkml(item.path))
        except ScipixError:
            continue
        kept.append(item)
    return kept, documents


def composed_samples(
    library: SymbolLibrary,
    formulas: Sequence[Formula],
    encode: Encode,
    held_out: set[str],
    limit: int,
    seed: int,
) -> list[Sample]:
    """Up to ``limit`` corpus formulas that mathtext lays out with the library's labels."""
    rng = np.random.default_rng(seed)
    rank = {name: i for i, name in enumerate(COMPOSE_ORDER)}
    order = sorted(
        range(len(formulas)), key=lambda i: (rank.get(formulas[i].source, 9), rng.random())
    )
    found: list[Sample] = []
    for i in order:
        if len(found) >= limit:
            break
        formula = formulas[i]
        ids = encode(formula.latex)
        if ids is None or formula.latex in held_out:
            continue
        font = LAYOUT_FONTS[len(found) % len(LAYOUT_FONTS)]
        boxes = glyph_layout(formula.latex, library.labels, font)
        if boxes:
            found.append(Sample(ComposedLoader(tuple(boxes), library), ids))
    return found


def ink_sources(
    cfg: TrainConfig,
    formulas: Sequence[Formula],
    encode: Encode,
    held_out: set[str],
    weights: dict[str, float],
) -> tuple[list[tuple[str, float, Sequence[Sample]]], dict[str, Any]]:
    """The ink sources turned on by the config (none by default) and a summary of them."""
    chosen = ink_weights(cfg, weights)
    if not chosen:
        return [], {}
    train_items, documents = parsed(load_ink_items(Path(cfg.data_root) / "train")[0])
    out: list[tuple[str, float, Sequence[Sample]]] = []
    summary: dict[str, Any] = {}
    if "crohme_ink" in chosen:
        redrawn = redrawn_samples(train_items, encode, held_out)
        out.append(("crohme_ink", chosen["crohme_ink"], redrawn))
        summary["crohme_ink"] = {"train": len(redrawn), "weight": chosen["crohme_ink"]}
    if "ink_composed" in chosen:
        library = SymbolLibrary.build(documents)
        limit = int(cfg.extra.get("ink_composed_formulas", 6000))
        composed = composed_samples(library, formulas, encode, held_out, limit, cfg.seed)
        out.append(("ink_composed", chosen["ink_composed"], composed))
        summary["ink_composed"] = {
            "train": len(composed),
            "weight": chosen["ink_composed"],
            "symbols": len(library.labels),
            "writers": len(library.writers()),
        }
    return out, summary
