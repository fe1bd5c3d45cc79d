"""Benchmark of decoding and pre-processing: median milliseconds per step and in total.

Two inputs, made on the fly: a 1000×300 PNG crop of a rendered formula (target: total <= 5 ms
with the default steps) and a 3000×4000 JPEG "phone photo" of a page (tilted, shaded, noisy).
Each runs with the default steps (polarity, deskew, orientation, crop) and with every step on
(plus CLAHE, denoise, binarize). One thread (``cv2.setNumThreads(1)``) unless ``--threads``.

Usage: ``python benchmarks/preprocess.py [--repeat N] [--threads N] [--json] [--check]``;
``--check`` exits with 1 when the crop's default total misses the 5 ms target.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from scipix.imaging import PreprocessConfig, decode_image, preprocess
from scipix.imaging.geometry import rotate_image

CROP_TARGET_MS = 5.0
FORMULA = r"\int_0^1 x^2\,dx = \frac{1}{3} + \sqrt{y_k}"


def render_formula(dpi: int) -> np.ndarray:
    """The formula rendered by matplotlib's mathtext, or a text line when it is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import mathtext
        from matplotlib.font_manager import FontProperties
    except ImportError:
        font = ImageFont.load_default(size=dpi // 4)
        img = Image.new("L", (dpi * 4, dpi // 2), 255)
        ImageDraw.Draw(img).text((10, 10), "x^2 + y^2 = z^2 (no matplotlib)", fill=0, font=font)
        return np.asarray(img)
    buf = io.BytesIO()
    mathtext.math_to_image(f"${FORMULA}$", buf, prop=FontProperties(size=20), dpi=dpi)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))


def crop_png() -> bytes:
    """A 1000×300 screenshot-like crop: the formula on white with a margin."""
    f = render_formula(300)
    canvas = np.full((300, 1000), 255, dtype=np.uint8)
    h, w = min(f.shape[0], 280), min(f.shape[1], 960)
    canvas[(300 - h) // 2 : (300 - h) // 2 + h, 20 : 20 + w] = f[:h, :w]
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, "PNG")
    return buf.getvalue()


def photo_jpeg(seed: int = 0) -> bytes:
    """A 3000×4000 photo of a page: formulas and text, tilted 4°, shaded, noisy, JPEG."""
    rng = np.random.default_rng(seed)
    page = np.full((4000, 3000), 255, dtype=np.uint8)
    f = render_formula(600)
    font = ImageFont.load_default(size=90)
    y = 300
    for k in range(6):
        text = Image.new("L", (2600, 140), 255)
        ImageDraw.Draw(text).text(
            (0, 10), f"Step {k + 1}: simplify the expression", fill=0, font=font
        )
        page[y : y + 140, 200:2800] = np.asarray(text)
        y += 220
        h, w = min(f.shape[0], 400), min(f.shape[1], 2600)
        page[y : y + h, 200 : 200 + w] = f[:h, :w]
        y += h + 120
        if y > 3500:
            break
    tilted = rotate_image(page, 4.0)[:4000, :3000]
    shade = np.linspace(0.75, 1.0, tilted.shape[1])[None, :] * np.linspace(0.85, 1.0, 4000)[:, None]
    img = 25 + tilted.astype(np.float32) * shade[: tilted.shape[0]] * 0.8
    img += rng.normal(0, 5, img.shape)
    ok, enc = cv2.imencode(
        ".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    assert ok
    return bytes(enc)


def measure(data: bytes, config: PreprocessConfig, repeat: int) -> dict[str, float]:
    """Median milliseconds of decode, of each pre-processing step, and of the total."""
    samples: dict[str, list[float]] = {}
    for i in range(repeat + 2):
        start = time.perf_counter()
        page = decode_image(data)
        decoded = time.perf_counter()
        prep = preprocess(page, config)
        total = (time.perf_counter() - start) * 1000.0
        if i < 2:
            continue  # warm-up
        samples.setdefault("decode", []).append((decoded - start) * 1000.0)
        for step, ms in prep.timings.items():
            samples.setdefault(step, []).append(ms)
        samples.setdefault("preprocess", []).append(total - samples["decode"][-1])
        samples.setdefault("total", []).append(total)
    return {step: statistics.median(values) for step, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=0, help="runs per case (default 200/10)")
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if the crop misses 5 ms")
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)
    inputs = {"crop 1000x300 png": crop_png(), "photo 3000x4000 jpeg": photo_jpeg()}
    configs = {
        "default": PreprocessConfig(),
        "all steps": PreprocessConfig(clahe=True, denoise=True, binarize=True),
    }
    report: dict[str, Any] = {}
    for name, data in inputs.items():
        repeat = args.repeat or (200 if name.startswith("crop") else 10)
        for cname, cfg in configs.items():
            report[f"{name} / {cname}"] = measure(data, cfg, repeat)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for case, steps in report.items():
            print(f"{case}")
            for step, ms in steps.items():
                print(f"  {step:<12} {ms:9.2f} ms")
    crop_total = report["crop 1000x300 png / default"]["total"]
    verdict = "meets" if crop_total <= CROP_TARGET_MS else "misses"
    print(f"crop default total: {crop_total:.2f} ms ({verdict} the {CROP_TARGET_MS} ms target)")
    return 1 if args.check and crop_total > CROP_TARGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())
