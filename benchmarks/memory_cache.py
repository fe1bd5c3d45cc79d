"""Choose and check the result cache's near-duplicate thresholds (``memory.near_duplicate``).

*shared*: reads held-out formulas of ``../shared/data/train`` (im2latex_val printed, crohme
handwritten). Each image's copies — JPEG q70, rescaled 0.8/0.9/1.1/1.25x, and 0.8x+JPEG — must
hit the original, while other formulas (different normalized label) must never. A copy hits
when its image embedding's cosine with the original is at least the *gate* (the candidate
search) and their ink thumbnails (``memory/thumbnail.py``: aspect within 10 %, pixel
correlation) correlate at least ``near_duplicate``. Both are chosen on the ``tune`` half (the
gate: the copies' lowest cosine minus 0.02; the threshold: midway between the copies' lowest
thumbnail similarity and the best other formula's through the gate) and reported on the
``check`` half, which they never saw.

    nice -n 10 python3 benchmarks/memory_cache.py [--per-set 200]
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
from scipix.memory.cache import NEIGHBOURS
from scipix.memory.embedding import gray_embedding, ink_thumbnail
from scipix.memory.thumbnail import Thumbnail

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"
SETS = ("im2latex_val", "crohme")
GATE_MARGIN = 0.02
Sample = tuple[np.ndarray, Thumbnail]


def variants(path: Path) -> dict[str, bytes]:
    """The copies of one image that must hit it."""
    image = Image.open(path).convert("RGB")

    def save(img: Image.Image, fmt: str, **kw: int) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()

    def scaled(scale: float) -> Image.Image:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        return image.resize(size, Image.Resampling.BICUBIC)

    out = {"jpeg70": save(image, "JPEG", quality=70)}
    for scale in (0.8, 0.9, 1.1, 1.25):
        out[f"x{scale}"] = save(scaled(scale), "PNG")
    out["x0.8+jpeg70"] = save(scaled(0.8), "JPEG", quality=70)
    return out


def label_key(latex: str) -> str:
    try:
        return normalize(latex, NormalizeOptions.for_labels())
    except ScipixError:
        return " ".join(latex.split())


def load(per_set: int) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for name in SETS:
        rows = (DATA / name / "labels.tsv").read_text(encoding="utf-8").splitlines()
        for line in rows[:per_set]:
            file, latex = line.split("\t", 1)
            found.append((DATA / name / "images" / file, label_key(latex)))
    return found


def sample(recognizer, source) -> Sample:
    gray = decode_image(source, DecodeLimits()).gray
    return gray_embedding(recognizer, gray), ink_thumbnail(gray)


def embed_all(sp: Scipix, items):
    recognizer = sp.formula_recognizer()
    originals, copies, labels = [], [], []
    for path, label in items:
        try:
            first = sample(recognizer, path)
            row = {name: sample(recognizer, data) for name, data in variants(path).items()}
        except ScipixError:  # a blank image: nothing to cache
            continue
        originals.append(first)
        copies.append(row)
        labels.append(label)
    return originals, copies, labels


def pairs(originals, copies, labels, part):
    """Per copy: (embedding cosine, thumbnail similarity) with its own original, and the list
    of the same with every other formula of ``part``."""
    own, rivals, kinds = [], [], []
    for i in part:
        for name, (vec, thumb) in copies[i].items():
            e0, t0 = originals[i]
            own.append((float(e0 @ vec), t0.similarity(thumb)))
            kinds.append(name)
            rivals.append(
                [
                    (float(originals[j][0] @ vec), originals[j][1].similarity(thumb))
                    for j in part
                    if labels[j] != labels[i]
                ]
            )
    return np.array(own), rivals, kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-set", type=int, default=200)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"needs {DATA}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with Scipix() as sp:
        originals, copies, labels = embed_all(sp, load(args.per_set))
    n = len(labels)
    print(f"{n} images, {6 * n} copies embedded in {time.perf_counter() - started:.0f} s")
    tune, check = list(range(0, n, 2)), list(range(1, n, 2))
    own, rivals, _ = pairs(originals, copies, labels, tune)
    gate = round(float(own[:, 0].min()) - GATE_MARGIN, 3)
    through = [t for row in rivals for e, t in row if e >= gate]
    worst_copy, best_other = float(own[:, 1].min()), max(through, default=0.0)
    threshold = round((worst_copy + best_other) / 2, 3)
    print(
        f"tune:  gate = copies' lowest embedding cosine {own[:, 0].min():.4f} - {GATE_MARGIN} "
        f"= {gate}; thumbnails: copies' lowest {worst_copy:.4f}, best of {len(through)} other "
        f"formulas through the gate {best_other:.4f} -> near_duplicate = midpoint {threshold}"
    )
    own, rivals, kinds = pairs(originals, copies, labels, check)
    hit = (own[:, 0] >= gate) & (own[:, 1] >= threshold)
    false = sum(any(e >= gate and t >= threshold for e, t in row) for row in rivals)
    probes = sum(len(row) for row in rivals)
    print(
        f"check: copies hit {hit.mean():.1%} ({int(hit.sum())}/{hit.size}); copies with a "
        f"false hit {false}/{len(rivals)} ({probes} copy x other-formula pairs)"
    )
    for name in dict.fromkeys(kinds):
        sel = np.array([k == name for k in kinds])
        print(f"  {name:12s} hit {hit[sel].mean():.1%}  thumbnail min {own[sel, 1].min():.4f}")
    served, wrong = as_served(originals, copies, labels, check, gate, threshold)
    print(
        f"as the cache serves (all {n} originals cached, {NEIGHBOURS} nearest by embedding "
        f"above the gate, first whose thumbnail passes): check copies get their own result "
        f"{served:.1%}, another formula's {wrong}"
    )
    return 0


def as_served(originals, copies, labels, part, gate, threshold) -> tuple[float, int]:
    """The product's rule (``ResultCache.near``) with every original in the cache."""
    matrix = np.stack([e for e, _ in originals])
    own = wrong = total = 0
    for i in part:
        for vec, thumb in copies[i].values():
            sims = matrix @ vec
            order = [j for j in np.argsort(-sims)[:NEIGHBOURS] if sims[j] >= gate]
            chosen = next(
                (j for j in order if originals[j][1].similarity(thumb) >= threshold), None
            )
            total += 1
            own += chosen is not None and labels[chosen] == labels[i]
            wrong += chosen is not None and labels[chosen] != labels[i]
    return own / max(total, 1), wrong


if __name__ == "__main__":
    raise SystemExit(main())
