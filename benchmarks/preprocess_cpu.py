"""Pre-processing and detection on small formulas: CPU per call, and a fingerprint of what they
hand on (issue 19).

    python3 benchmarks/preprocess_cpu.py time [REPEAT]      # ms CPU (thread time) per call
    python3 benchmarks/preprocess_cpu.py fingerprint OUT.json

``time`` runs the Preprocess and Detect agents of ``Scipix()`` on the ten shipped bench
formulas (PNG bytes, so decoding is included), REPEAT passes. ``fingerprint`` writes, for ~130
varied images (the bench formulas; im2latex renders as shipped, rescaled x0.8-x3, inverted,
turned 90°, tilted 4°; handwriting and CROHME crops from ``../shared/data/train``), hashes of
the cleaned page and its mask, the pre-processing's geometry, the cleaning chosen and the
layout: run it before and after a change (e.g. with ``PYTHONPATH`` at an older tree's ``src``)
and compare the files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from scipix.pipeline.job import Job, Tag
from scipix.schema import RecognizeOptions
from scipix.service import Scipix

BENCH = Path(__file__).resolve().parents[1] / "src" / "scipix" / "bench" / "images"
TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"


def gray(path: Path) -> np.ndarray:
    return np.asarray(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))


def images() -> list[tuple[str, np.ndarray]]:
    out = [(p.name, gray(p)) for p in sorted(BENCH.glob("*.png"))]
    renders = [gray(p) for p in sorted((TRAIN / "im2latex_val" / "images").glob("*.png"))[:25]]
    out += [(f"im2latex{i}", g) for i, g in enumerate(renders)]
    for i, g in enumerate(renders[:12]):
        for s in (0.8, 1.5, 2.2, 3.0):
            interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
            out.append((f"im2latex{i}x{s}", cv2.resize(g, None, fx=s, fy=s, interpolation=interp)))
    for i, g in enumerate(renders[12:20]):
        tilt = cv2.getRotationMatrix2D((g.shape[1] / 2, g.shape[0] / 2), 4, 1)
        out.append((f"inverted{i}", 255 - g))
        out.append((f"turned{i}", np.ascontiguousarray(np.rot90(g))))
        out.append((f"tilted{i}", cv2.warpAffine(g, tilt, g.shape[::-1], borderValue=255)))
    for sub, n in (("hand", 12), ("crohme", 8)):
        paths = sorted((TRAIN / sub / "images").glob("*.png"))[:n]
        out += [(f"{sub}/{p.name}", gray(p)) for p in paths]
    if renders:
        big = cv2.resize(renders[0], None, fx=8, fy=8, interpolation=cv2.INTER_CUBIC)
        out += [("big8x", big), ("color", cv2.cvtColor(renders[1], cv2.COLOR_GRAY2BGR))]
    return out


def png(image: np.ndarray) -> bytes:
    return bytes(cv2.imencode(".png", image)[1].tobytes())


def run(scipix: Scipix, data: bytes, options: RecognizeOptions) -> tuple[Job, dict[str, float]]:
    job = Job(seq=0, tag=Tag("bench"), source=data, options=options)
    cpu: dict[str, float] = {}
    for name, agent in zip(("preprocess", "detect"), scipix.agents[:2], strict=True):
        start = time.thread_time()
        agent.process(job)
        cpu[name] = (time.thread_time() - start) * 1000.0
    return job, cpu


def digest(a: np.ndarray) -> str:
    return f"{hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]} {a.shape} {a.dtype}"


def fingerprint(job: Job) -> dict[str, Any]:
    prep, cleaning = job.prep, job.cleaning
    assert prep is not None
    source = cleaning.source if cleaning is not None else None
    return {
        "gray": digest(prep.page.gray),
        "mask": digest(prep.mask),
        "geometry": repr((prep.rotation, prep.skew, prep.inverted, prep.crop_box)),
        "orientation": repr(prep.orientation),
        "cleaning": repr((cleaning.strategy, cleaning.kind, cleaning.probability))
        if cleaning is not None
        else None,
        "second_source": digest(source.gray) if source is not None else None,
        "layout": repr(job.layout),
    }


def main(argv: list[str]) -> None:
    scipix = Scipix()
    options = scipix.effective_options(RecognizeOptions())
    if argv[:1] == ["fingerprint"] and len(argv) == 2:
        found: dict[str, Any] = {}
        for name, image in images():
            try:
                found[name] = fingerprint(run(scipix, png(image), options)[0])
            except Exception as exc:  # a blank crop: its error is part of the fingerprint
                found[name] = f"error {exc!r}"
        Path(argv[1]).write_text(json.dumps(found, indent=0, sort_keys=True), encoding="utf-8")
        print(f"{len(found)} images -> {argv[1]}")
        return
    if argv[:1] != ["time"]:
        raise SystemExit(__doc__)
    repeat = int(argv[1]) if len(argv) > 1 else 30
    formulas = [png(gray(p)) for p in sorted(BENCH.glob("*.png"))]
    for data in formulas:  # warm up
        run(scipix, data, options)
    total = {"preprocess": 0.0, "detect": 0.0}
    for _ in range(repeat):
        for data in formulas:
            for name, ms in run(scipix, data, options)[1].items():
                total[name] += ms
    calls = repeat * len(formulas)
    per_call = {name: round(ms / calls, 3) for name, ms in total.items()}
    print(f"ms CPU per call over {calls} calls: {per_call}; load {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
