"""Turned images: is a formula turned 90°, 180° or 270° read like the upright one?

Renders formulas with TeX in several fonts and sizes (hand-picked ones plus a sample of the
corpora's held-out split), reads each upright and turned by 90°, 180° and 270° through the whole
pipeline (``Scipix().recognize``), and reports, per turn, how often the reading equals the
upright reading (after normalization) and how often the detected turn was right; for upright
images, how often they were turned at all (should be never).

    python3 benchmarks/rotation.py [--corpus 12] [--fonts cm,mathptmx,mathpazo] [--dpi 120,200]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from scipix.latex import normalize
from scipix.service import Scipix
from scipix.training.render import TexRenderer

HAND_PICKED = [
    r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}",
    r"\int_{0}^{1}x^{2}\,dx=\frac{1}{3}",
    r"\sum_{i=1}^{n}i=\frac{n(n+1)}{2}",
    r"e^{i\pi}+1=0",
    r"f(x)=\begin{cases}x&x\geq 0\\-x&x<0\end{cases}",
    r"\lim_{x\to 0}\frac{\sin x}{x}=1",
    r"A=\begin{pmatrix}a&b\\c&d\end{pmatrix}",
    r"\nabla\cdot E=\frac{\rho}{\epsilon_{0}}",
]
#: np.rot90 turns counter-clockwise; the pipeline reports the clockwise turn it undid.
TURNS = {90: 1, 180: 2, 270: 3}


def canonical(latex: str | None) -> str:
    if latex is None:
        return ""
    try:
        return normalize(latex)
    except Exception:  # an unparsable reading is compared as it is
        return latex


def corpus_sample(n: int, data_root: Path) -> list[str]:
    if n <= 0 or not (data_root / "train").is_dir():
        return []
    from scipix.training.corpus import load_corpora

    val = [f.latex for f in load_corpora(data_root / "train").val if 8 <= len(f.tokens) <= 40]
    rng = np.random.default_rng(0)
    return [val[int(i)] for i in rng.choice(len(val), size=min(n, len(val)), replace=False)]


def render_all(formulas: list[str], fonts: list[str], dpis: list[int]) -> list[np.ndarray]:
    images = []
    for font in fonts:
        renderer = TexRenderer(font)
        for dpi in dpis:
            for outcome in renderer.render(formulas, dpi=dpi):
                if outcome.image is not None:
                    images.append(np.pad(outcome.image, 16, constant_values=255))
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=int, default=12, help="held-out corpus formulas")
    parser.add_argument("--fonts", default="cm,mathptmx,mathpazo")
    parser.add_argument("--dpi", default="120,200")
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    formulas = HAND_PICKED + corpus_sample(args.corpus, args.data_root)
    images = render_all(formulas, args.fonts.split(","), [int(d) for d in args.dpi.split(",")])
    service = Scipix()
    service.warm_up()
    same: Counter[int] = Counter()
    turn_right: Counter[int] = Counter()
    upright_turned = 0
    start = time.perf_counter()
    for image in images:
        upright = service.recognize(image)
        reference = canonical(upright.latex_styled or upright.text)
        upright_turned += upright.auto_rotate_degrees not in (0, None)
        for degrees, k in TURNS.items():
            result = service.recognize(np.ascontiguousarray(np.rot90(image, k)))
            same[degrees] += canonical(result.latex_styled or result.text) == reference
            turn_right[degrees] += abs(result.auto_rotate_degrees or 0) % 360 in (
                degrees,
                360 - degrees,
            )
    n = len(images)
    report = {
        "images": n,
        "formulas": len(formulas),
        "upright_turned": upright_turned,
        "same_as_upright": {d: same[d] / n for d in TURNS},
        "turn_detected": {d: turn_right[d] / n for d in TURNS},
        "same_overall": sum(same.values()) / (3 * n),
        "seconds": round(time.perf_counter() - start, 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{n} images ({len(formulas)} formulas), upright ones turned: {upright_turned}")
    print("turn   same reading as upright   turn detected")
    for d in TURNS:
        print(f"{d:>4}°  {same[d] / n:>22.1%}   {turn_right[d] / n:>13.1%}")
    print(f"all turns: {report['same_overall']:.1%} same ({report['seconds']} s)")


if __name__ == "__main__":
    main()
