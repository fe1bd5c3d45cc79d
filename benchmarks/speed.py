"""Recognizer speed changes measured before/after in one run, at the same accuracy (issue 19).

    nice -n 10 python3 benchmarks/speed.py [--limit 300] [--model DIR] [--variants a,b,...]

On the im2latex validation split carved from ../shared/data/train (never bench/): every variant
reads every image (batch 1, the default beam), the variants alternating image by image so the
machine's load falls on all alike, with a 512x512 float32 numpy matmul timed between images.
Per variant: BLEU-4 / exact match (``scipix eval``'s scoring), decoder steps per image, p50/p95
ms and p50 / matmul512 p50. Variants:

- ``before``: the sessions and beam search as they were (threads spinning, the decoder on
  all cores, exact beam stop);
- ``sessions``: the tuned sessions (no spinning, one decoder thread), exact stop;
- ``early``: the old sessions, the early beam stop;
- ``after``: both (the defaults).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from scipix.recognition import BeamConfig, FormulaRecognizer, SessionConfig
from scipix.training.corpus import load_paired
from scipix.training.evaluate import EvalPair, Prediction, score
from scipix.training.recipe import read_gray

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"
OLD_SESSIONS = SessionConfig(threads=2, decoder_threads=2, spinning=True)
NEW_SESSIONS = SessionConfig(threads=2, decoder_threads=1)
VARIANTS = {
    "before": (OLD_SESSIONS, BeamConfig(early_stop=False)),
    "sessions": (NEW_SESSIONS, BeamConfig(early_stop=False)),
    "early": (OLD_SESSIONS, BeamConfig()),
    "after": (NEW_SESSIONS, BeamConfig()),
}


class Counted:
    """A recognizer whose decoder steps are counted."""

    def __init__(self, recognizer: FormulaRecognizer) -> None:
        self.recognizer = recognizer
        self.steps = 0
        inner = recognizer.step

        def step(*args):  # type: ignore[no-untyped-def]
            self.steps += 1
            return inner(*args)

        recognizer.step = step  # type: ignore[method-assign]


def matmul_ms(a: np.ndarray) -> float:
    start = time.perf_counter()
    a @ a
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    split = load_paired(args.data / "im2latex_val")
    chosen = split.val[: args.limit]
    pairs = [EvalPair(path.name, path, latex) for path, latex in chosen]
    images = [read_gray(path) for path, _ in chosen]
    names = args.variants.split(",")
    recs = {
        n: Counted(FormulaRecognizer.load(args.model, beam=VARIANTS[n][1], sessions=VARIANTS[n][0]))
        for n in names
    }
    for c in recs.values():
        c.recognizer.recognize(images[:2])  # warm-up
    a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    mm: list[float] = []
    times: dict[str, list[float]] = {n: [] for n in names}
    steps: dict[str, list[int]] = {n: [] for n in names}
    preds: dict[str, dict[str, Prediction]] = {n: {} for n in names}
    for i, (pair, image) in enumerate(zip(pairs, images, strict=True)):
        mm.append(matmul_ms(a))
        for n in names[i % len(names) :] + names[: i % len(names)]:  # rotate who goes first
            counted = recs[n]
            before = counted.steps
            start = time.perf_counter()
            [reading] = counted.recognizer.recognize([image])
            times[n].append((time.perf_counter() - start) * 1000)
            steps[n].append(counted.steps - before)
            preds[n][pair.name] = Prediction(reading.latex)
    mm50 = statistics.median(mm)
    report: dict[str, object] = {"n": len(pairs), "matmul512_p50_ms": round(mm50, 2)}
    for n in names:
        overall = score(pairs, preds[n], render_match=False).overall.to_dict()
        p50 = statistics.median(times[n])
        report[n] = {
            "bleu4": overall.get("bleu4"),
            "exact": overall.get("exact"),
            "steps_mean": round(float(np.mean(steps[n])), 2),
            "p50_ms": round(p50, 1),
            "p95_ms": round(float(np.percentile(times[n], 95)), 1),
            "p50_over_matmul": round(p50 / mm50, 1),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
