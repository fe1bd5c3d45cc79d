"""Choose and check the result cache's near-duplicate threshold (``memory.near_duplicate``).

*shared*: reads held-out formulas of ``../shared/data/train`` (im2latex_val printed, crohme
handwritten). Each image's copies — JPEG q70, rescaled 0.8/0.9/1.1/1.25x, and rescaled+JPEG —
must hit the original (cosine of image embeddings at least the threshold, aspect ratios within
``ASPECT_MAX``), while other formulas (different normalized label) must never. The threshold is
chosen on the ``tune`` half (the lowest that lets no other formula through, plus a margin) and
reported on the ``check`` half, which it never saw.

    nice -n 10 python3 benchmarks/memory_cache.py [--per-set 300]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from scipix import Scipix
from scipix.errors import ScipixError
from scipix.imaging.decode import DecodeLimits, decode_image
from scipix.latex.normalize import NormalizeOptions, normalize
from scipix.memory.cache import ASPECT_MAX
from scipix.memory.embedding import gray_embedding

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"
SETS = ("im2latex_val", "crohme")
MARGIN = 0.01


def variants(path: Path) -> dict[str, bytes]:
    """The copies of one image that must hit it."""
    image = Image.open(path).convert("RGB")
    out: dict[str, bytes] = {}

    def save(img: Image.Image, fmt: str, **kw: int) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()

    out["jpeg70"] = save(image, "JPEG", quality=70)
    for scale in (0.8, 0.9, 1.1, 1.25):
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        scaled = image.resize(size, Image.Resampling.BICUBIC)
        out[f"x{scale}"] = save(scaled, "PNG")
    small = image.resize((round(image.width * 0.8), round(image.height * 0.8)))
    out["x0.8+jpeg70"] = save(small, "JPEG", quality=70)
    return out


def label_key(latex: str) -> str:
    try:
        return normalize(latex, NormalizeOptions.for_labels())
    except Exception:
        return " ".join(latex.split())


def load(per_set: int) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for name in SETS:
        rows = (DATA / name / "labels.tsv").read_text(encoding="utf-8").splitlines()
        for line in rows[:per_set]:
            file, latex = line.split("\t", 1)
            found.append((DATA / name / "images" / file, label_key(latex)))
    return found


def embed_all(sp: Scipix, items: list[tuple[Path, str]]) -> tuple[list, list, list[str]]:
    recognizer = sp.formula_recognizer()
    limits = DecodeLimits()
    originals, copies = [], []
    kept = []
    for path, label in items:
        try:
            gray = decode_image(path, limits).gray
            first = (gray_embedding(recognizer, gray), gray.shape[1] / gray.shape[0])
            row = {}
            for name, data in variants(path).items():
                vg = decode_image(data, limits).gray
                row[name] = (gray_embedding(recognizer, vg), vg.shape[1] / vg.shape[0])
        except ScipixError:  # a blank image: nothing to cache
            continue
        originals.append(first)
        copies.append(row)
        kept.append(label)
    return originals, copies, kept


def scores(originals, copies, labels, part):
    """Per copy: cosine with its own original, and the best cosine with another formula whose
    aspect ratio passes the check."""
    matrix = np.stack([e for e, _ in originals])
    aspects = np.array([a for _, a in originals])
    own, other, kinds = [], [], []
    for i in part:
        for name, (vec, aspect) in copies[i].items():
            sims = matrix[part] @ vec
            ok = np.abs(np.log(aspects[part] / aspect)) <= ASPECT_MAX
            own.append(float(matrix[i] @ vec))
            kinds.append(name)
            rivals = [
                s for j, s, a in zip(part, sims, ok, strict=True) if a and labels[j] != labels[i]
            ]
            other.append(max(rivals) if rivals else -1.0)
    return np.array(own), np.array(other), kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-set", type=int, default=300)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"needs {DATA}", file=sys.stderr)
        return 2
    items = load(args.per_set)
    started = time.perf_counter()
    with Scipix() as sp:
        originals, copies, labels = embed_all(sp, items)
    print(
        f"{len(items)} images, {6 * len(items)} copies embedded in "
        f"{time.perf_counter() - started:.0f} s"
    )
    tune = [i for i in range(len(labels)) if i % 2 == 0]
    check = [i for i in range(len(labels)) if i % 2 == 1]
    own, other, _ = scores(originals, copies, labels, tune)
    threshold = round(float(other.max()) + MARGIN, 3)
    print(
        f"tune:  other formulas max {other.max():.4f} (p99 {np.quantile(other, 0.99):.4f}); "
        f"copies min {own.min():.4f}, p1 {np.quantile(own, 0.01):.4f}"
    )
    print(f"threshold = other max + {MARGIN} = {threshold}")
    own, other, kinds = scores(originals, copies, labels, check)
    print(
        f"check: copies hit {np.mean(own >= threshold):.1%} ({int((own >= threshold).sum())}"
        f"/{own.size}); other formulas hit {int((other >= threshold).sum())}/{other.size} "
        f"(max {other.max():.4f})"
    )
    for name in dict.fromkeys(kinds):
        sel = np.array([k == name for k in kinds])
        print(f"  {name:12s} hit {np.mean(own[sel] >= threshold):.1%}  min {own[sel].min():.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
