"""Formula recognizer speed and size: latency p50/p95 per formula for beam 1 and the default
beam, with the beam's LaTeX constraint (the default) and without it (``unconstrained``), peak
resident memory, model size. Accuracy is `scipix eval` (see benchmarks/README.md); what the
constraint does to validity and accuracy is benchmarks/constraint.py.

    python3 benchmarks/recognizer.py [--images DIR] [--n 100] [--threads 2] [--model DIR]

Without --images it renders formulas with matplotlib mathtext (no ../shared needed).
Reports medians over the images; each image is recognized alone (batch 1), as `scipix ocr`
does for one crop, after one warm-up call; the two recognizers alternate image by image.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from scipix.recognition import BeamConfig, FormulaRecognizer

FORMULAS = [
    r"x^{2}+y^{2}=z^{2}",
    r"\frac{a}{b}+\frac{c}{d}",
    r"\sqrt{2}\approx 1.414",
    r"\sum_{i=1}^{n} i=\frac{n(n+1)}{2}",
    r"\int_{0}^{\infty} e^{-x^{2}} dx=\frac{\sqrt{\pi}}{2}",
    r"E=mc^{2}",
    r"\alpha+\beta=\gamma",
    r"f(x)=\sin x+\cos x",
    r"\lim_{x \to 0} \frac{\sin x}{x}=1",
    r"a_{n+1}=a_{n}+d",
]


def rendered_images(n: int) -> list[np.ndarray]:
    from scipix.training.mathtext import MathtextRenderer

    renderer = MathtextRenderer("cm")
    outcomes = renderer.render([FORMULAS[i % len(FORMULAS)] for i in range(n)], dpi=100)
    return [o.image for o in outcomes if o.image is not None]


def folder_images(folder: Path, n: int) -> list[np.ndarray]:
    paths = sorted(folder.rglob("*.png"))[:n]
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]


def latencies(
    recs: dict[str, FormulaRecognizer], images: list[np.ndarray], beam: int
) -> dict[str, list[float]]:
    """Milliseconds per image for each recognizer (they alternate image by image)."""
    for rec in recs.values():
        rec.recognize(images[:1], beam_width=beam)  # warm-up
    out: dict[str, list[float]] = {name: [] for name in recs}
    for image in images:
        for name, rec in recs.items():
            start = time.perf_counter()
            rec.recognize([image], beam_width=beam)
            out[name].append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=Path)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()
    images = folder_images(args.images, args.n) if args.images else rendered_images(args.n)
    rec = FormulaRecognizer.load(args.model, threads=args.threads)
    plain = FormulaRecognizer.load(args.model, args.threads, BeamConfig(constrained=False))
    report: dict[str, object] = {
        "model": rec.version,
        "images": len(images),
        "threads": args.threads,
        "model_mb": round(sum(p.stat().st_size for p in rec.model_dir.glob("*.onnx")) / 1e6, 2),
    }
    default_beam = BeamConfig().beam_width
    for beam in sorted({1, default_beam}):
        found = latencies({"": rec, "_unconstrained": plain}, images, beam)
        for name, ms in found.items():
            report[f"beam{beam}{name}_p50_ms"] = round(statistics.median(ms), 1)
            report[f"beam{beam}{name}_p95_ms"] = round(float(np.percentile(ms, 95)), 1)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
