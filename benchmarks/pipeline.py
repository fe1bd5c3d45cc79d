"""Benchmark of the whole pipeline with the packaged model (decode → ... → Validate).

- batch throughput: images/s of ``Scipix.recognize_many`` (what ``scipix batch`` runs) on 200
  rendered formulas (PNG bytes), with 1 and with 2 workers per stage;
- latency: p50/p90 of one ``scipix ocr`` call (``Scipix.recognize`` with the CLI's options) on
  one image in a warm process (models loaded, first calls done);
- by kind: mean ms of ``Scipix.recognize`` (MMD) on formulas, lines of text, lines of prose with
  inline math and a page (a text line over two formulas), with the number of text OCR calls.

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
from scipix.recognition.text import TextLine, TextRecognizer
from scipix.service import Scipix
from scipix.settings import Settings, load_settings

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


SENTENCES = [
    "Perform the indicated operation and simplify.",
    "Find the area of the shaded region.",
    "Show that the sequence converges.",
    "Solve the following equations.",
]
MIXED = [
    r"Let $x^2+y^2=1$ be the unit circle",
    r"where $n \geq 1$ is an integer",
    r"The roots of $x^2-5x+6$ are $2$ and $3$.",
    r"Solve $\frac{a}{b}=c$ for $a$",
]


def mathtext_gray(source: str, size: int = 20, dpi: int = 200) -> np.ndarray:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    mathtext.math_to_image(source, buf, prop=FontProperties(size=size), dpi=dpi, format="png")
    gray = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))
    return np.pad(gray, 24, constant_values=255)


def text_gray(text: str, size: int = 32) -> np.ndarray:
    from PIL import ImageDraw, ImageFont

    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 32, bottom - top + 32), 255)
    ImageDraw.Draw(img).text((16 - left, 16 - top), text, fill=0, font=font)
    return np.asarray(img)


def page_gray(parts: list[np.ndarray], gap: int = 40) -> np.ndarray:
    width = max(p.shape[1] for p in parts)
    rows = [np.pad(p, ((0, gap), (0, width - p.shape[1])), constant_values=255) for p in parts]
    return np.vstack(rows)


class CountingText(TextRecognizer):
    """The packaged text OCR, counting its calls."""

    calls = 0

    def read(self, gray: np.ndarray, glyph_height: float | None = None) -> list[TextLine]:
        self.calls += 1
        return super().read(gray, glyph_height)


def by_kind(settings: Settings, texts: list[str]) -> dict[str, dict[str, float]]:
    """Mean ms per image and text OCR calls, per kind of image (a warm service)."""
    reader = CountingText(settings.runtime.threads)
    service = Scipix(settings, text=reader)
    sets = {
        "formula": [mathtext_gray(f"${t}$") for t in texts[:16]],
        "text line": [text_gray(t) for t in SENTENCES],
        "prose with math": [mathtext_gray(t, dpi=150) for t in MIXED],
        "page": [page_gray([text_gray(SENTENCES[3]), mathtext_gray(f"${t}$")]) for t in texts[:4]],
    }
    opts = options_for(OutputFormat.mmd)
    service.recognize(sets["formula"][0], opts)
    service.recognize(sets["text line"][0], opts)
    report = {}
    for name, images in sets.items():
        reader.calls, start = 0, time.perf_counter()
        for image in images:
            service.recognize(image, opts)
        ms = (time.perf_counter() - start) * 1000.0 / len(images)
        report[name] = {
            "images": len(images),
            "mean_ms": round(ms, 1),
            "text_ocr_calls": reader.calls,
        }
    return report


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
    parser.add_argument("--kinds-only", action="store_true", help="only the by-kind latency")
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
    if args.kinds_only:
        print(json.dumps(by_kind(settings, texts), indent=2))
        return 0
    images = [render(t) for t in texts]
    report: dict[str, Any] = {"model": version, "threads": args.threads}
    report["latency"] = latency(service, images[0], args.runs)
    report["by_kind"] = by_kind(settings, texts)
    report["batch"] = [batch_rate(service, images, w) for w in (1, 2)]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        lat = report["latency"]
        print(f"model {version}, ONNX Runtime threads {args.threads or 'all'}")
        print(f"scipix ocr, warm, one image: p50 {lat['p50_ms']} ms, p90 {lat['p90_ms']} ms")
        for kind, k in report["by_kind"].items():
            print(
                f"  {kind}: {k['mean_ms']} ms per image over {k['images']}, "
                f"text OCR calls {k['text_ocr_calls']}"
            )
        for b in report["batch"]:
            print(
                f"batch of {b['images']}, {b['workers']} worker(s): {b['images_per_s']} images/s "
                f"({b['seconds']} s, errors {b['errors'] or 'none'})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
