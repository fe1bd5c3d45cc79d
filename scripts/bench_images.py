"""Render the formula images that ``scipix bench`` times (``src/scipix/bench/images/``).

    python3 scripts/bench_images.py

Real TeX (latex + dvipng, Computer Modern) at 150 dpi with a white margin of 16 px, as a
screenshot or a crop from a PDF looks: ten formulas from one symbol to a few dozen tokens.
Needs the ``[train]`` extra (the renderer) and TeX; the images are committed, so a user never
runs this.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from scipix.training.render import TexRenderer

FORMULAS = [
    r"E=mc^{2}",
    r"x^{2}+y^{2}=z^{2}",
    r"\alpha+\beta=\gamma",
    r"\frac{a+b}{c-d}",
    r"\sqrt{x^{2}+1}",
    r"a_{n+1}=a_{n}+d",
    r"f(x)=\sin x+\cos x",
    r"\sum_{i=1}^{n}i=\frac{n(n+1)}{2}",
    r"\int_{0}^{1}x^{2}\,dx=\frac{1}{3}",
    r"\lim_{x\to 0}\frac{\sin x}{x}=1",
]
OUT = Path(__file__).resolve().parents[1] / "src" / "scipix" / "bench" / "images"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    outcomes = TexRenderer("cm", margin=16).render(FORMULAS, dpi=150)
    for i, (latex, outcome) in enumerate(zip(FORMULAS, outcomes, strict=True)):
        if outcome.image is None:
            raise SystemExit(f"{latex!r} did not render: {outcome.reason}")
        path = OUT / f"formula_{i:02d}.png"
        cv2.imwrite(str(path), outcome.image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(path.name, outcome.image.shape, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
