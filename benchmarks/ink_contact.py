"""Contact sheets of ink as training data (issue 15): what the model would see.

    python3 benchmarks/ink_contact.py [--data-root ../shared/data] [--out docs/contact]

Writes three PNG grids (training-side CROHME files only, never the held-out split):
- ``ink_redrawn.png``: per formula, the ``train/crohme`` PNG the model learned from, the same ink
  drawn by ``scipix.ink`` (CROHME style, what /v3/strokes sends the model), then random pens,
  sizes and resolutions, then with stroke augmentation;
- ``ink_augment.png``: one row per stroke augmentation (per-stroke jitter, elastic, slant,
  scale/aspect) at a strong level, and all of them together;
- ``ink_composed.png``: corpus formulas that no CROHME writer wrote, composed from CROHME
  symbol ink (mathtext layout), several writers each.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from scipix.ink import draw_ink, read_inkml
from scipix.training.contact import contact_sheet
from scipix.training.corpus import load_corpora
from scipix.training.ink import STROKE_AUGMENTATIONS, augment_strokes, draw_variant, load_ink_items
from scipix.training.ink_compose import SymbolLibrary, compose_strokes, glyph_layout

CELL = (96, 250)


def redrawn_sheet(items: list, root: Path, rng: np.random.Generator) -> np.ndarray:
    rows = {}
    for item in items:
        strokes = read_inkml(item.path).ink.strokes
        png = cv2.imread(str(root / "crohme" / "images" / (item.path.stem + ".png")), 0)
        cells = [png] if png is not None else []
        cells.append(draw_ink(read_inkml(item.path).ink))
        cells += [draw_variant(strokes, rng) for _ in range(2)]
        cells += [draw_variant(augment_strokes(strokes, rng, 0.8), rng) for _ in range(2)]
        rows[item.latex[:30]] = cells
    return contact_sheet(rows, cell=CELL, columns=6)


def augment_sheet(items: list, rng: np.random.Generator) -> np.ndarray:
    rows = {}
    strokes = [read_inkml(item.path).ink.strokes for item in items[:5]]
    rows["original"] = [draw_ink(read_inkml(item.path).ink) for item in items[:5]]
    for name, change in STROKE_AUGMENTATIONS.items():
        rows[name] = [draw_variant(change(list(s), rng, 1.0), rng) for s in strokes]
    rows["all, level 0.5"] = [draw_variant(augment_strokes(s, rng, 0.5), rng) for s in strokes]
    rows["all, level 1.0"] = [draw_variant(augment_strokes(s, rng, 1.0), rng) for s in strokes]
    return contact_sheet(rows, cell=CELL, columns=5)


def composed_sheet(library: SymbolLibrary, root: Path, rng: np.random.Generator) -> np.ndarray:
    corpus = load_corpora(root)
    rows: dict[str, list[np.ndarray]] = {}
    for source in ("handwritten", "k12", "arxiv_texnet"):
        formulas = [f for f in corpus.train if f.source == source]
        for i in rng.permutation(len(formulas)):
            boxes = glyph_layout(formulas[int(i)].latex, library.labels)
            if boxes is None or len(boxes) < 5:
                continue
            drawn = [compose_strokes(boxes, library, rng) for _ in range(5)]
            cells = [
                draw_variant(s if k < 2 else augment_strokes(s, rng, 0.6), rng)
                for k, s in enumerate(drawn)
            ]
            rows[f"{source}: {formulas[int(i)].latex[:20]}"] = cells
            if sum(key.startswith(source) for key in rows) >= 4:
                break
    return contact_sheet(rows, cell=CELL, columns=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("docs/contact"))
    parser.add_argument("--library-files", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    root = args.data_root / "train"
    rng = np.random.default_rng(args.seed)
    train, _ = load_ink_items(root)
    picked = [train[int(i)] for i in rng.permutation(len(train))[:8]]
    args.out.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out / "ink_redrawn.png"), redrawn_sheet(picked, root, rng))
    cv2.imwrite(str(args.out / "ink_augment.png"), augment_sheet(picked, rng))
    chosen = [train[int(i)] for i in rng.permutation(len(train))[: args.library_files]]
    library = SymbolLibrary.build(read_inkml(item.path) for item in chosen)
    cv2.imwrite(str(args.out / "ink_composed.png"), composed_sheet(library, root, rng))
    print(f"wrote {args.out}/ink_redrawn.png, ink_augment.png, ink_composed.png")


if __name__ == "__main__":
    main()
