"""Benchmark of the whole pipeline with the packaged model (decode → ... → Validate).

- batch throughput: images/s of ``Scipix.recognize_many`` (what ``scipix batch`` runs) on 200
  rendered formulas (PNG bytes), with 1 and with 2 workers per stage;
- latency: p50/p90 of one ``scipix ocr`` call (``Scipix.recognize`` with the CLI's options) on
  one image in a warm process (models loaded, first calls done).

Usage: ``python benchmarks/pipeline.py [--images N] [--runs N] [--threads N] [--json]``.
``--threads`` is ONNX Runtime's intra-op threads (0 = all cores). Needs matplotlib (rendering)
and a model in ``src/scipix/weights/`` (or ``SCIPIX_OCR__MODEL_DIR``).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
from collections import Counter
from typing import Any

import numpy as np
from PIL import Image

from scipix.cli.ocr import OutputFormat, options_for
from scipix.errors import ModelError
from scipix.service import Scipix
from scipix.settings import load_settings

TEMPLATES = [
    r"x^{{2}}+{a}x+{b}=0",
    r"\frac{{{a}}}{{{b}}}+\frac{{x}}{{{c}}}",
    r"\sqrt{{{a}+y^{{2}}}}",
    r"\sum_{{i=1}}^{{{a}}} i^{{{b}}}",
    r"\int_{{0}}^{{{a}}} x^{{{b}}}\,dx",
    r"({a}+x)({b}-y)={c}",
    r"e^{{{a}x}}-{b}",
    r"\alpha_{{{a}}}+\beta_{{{b}}}=\gamma",
]


def render(tex: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    mathtext.math_to_image(f"${tex}$", buf, prop=FontProperties(size=20), dpi=200, format="png")
    gray = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))
    out = io.BytesIO()
    Image.fromarray(np.pad(gray, 24, constant_values=255)).save(out, "PNG")
    return out.getvalue()


def formulas(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(TEMPLATES).format(a=rng.randint(1, 9), b=rng.randint(2, 9), c=rng.randint(2, 9))
        for _ in range(n)
    ]


def batch_rate(service: Scipix, images: list[bytes], workers: int) -> dict[str, Any]:
    start = time.perf_counter()
    results = list(service.recognize_many(images, options_for(OutputFormat.json), workers))
    seconds = time.perf_counter() - start
    errors = Counter(r.error_info.id for r in results if r.error_info is not None)
    return {
        "workers": workers,
        "images": len(images),
        "seconds": round(seconds, 2),
        "images_per_s": round(len(images) / seconds, 2),
        "errors": dict(errors),
    }


def latency(service: Scipix, image: bytes, runs: int) -> dict[str, float]:
    opts = options_for(OutputFormat.latex)
    for _ in range(3):
        service.recognize(image, opts)  # warm: models loaded, first-call costs paid
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        service.recognize(image, opts)
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(samples), 1),
        "p90_ms": round(samples[int(0.9 * (len(samples) - 1))], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0 = all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings.runtime.threads = args.threads
    service = Scipix(settings)
    try:
        version = service.version
    except ModelError as exc:
        print(f"no model to benchmark: {exc.message}", file=sys.stderr)
        return 2
    texts = formulas(args.images)
    images = [render(t) for t in texts]
    report: dict[str, Any] = {"model": version, "threads": args.threads}
    report["latency"] = latency(service, images[0], args.runs)
    report["batch"] = [batch_rate(service, images, w) for w in (1, 2)]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        lat = report["latency"]
        print(f"model {version}, ONNX Runtime threads {args.threads or 'all'}")
        print(f"scipix ocr, warm, one image: p50 {lat['p50_ms']} ms, p90 {lat['p90_ms']} ms")
        for b in report["batch"]:
            print(
                f"batch of {b['images']}, {b['workers']} worker(s): {b['images_per_s']} images/s "
                f"({b['seconds']} s, errors {b['errors'] or 'none'})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
