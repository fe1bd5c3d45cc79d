"""Recognizer speed changes measured before/after in one run, at the same accuracy (issue 19).

    nice -n 10 python3 benchmarks/speed.py [--limit 300] [--model DIR] [--variants a,b,...]
    python3 benchmarks/speed.py --shipped [--rounds 5]   # scipix bench's images, no accuracy

On the im2latex validation split carved from ../shared/data/train (never bench/): every variant
reads every image (batch 1, the default beam), the variants alternating image by image so the
machine's load falls on all alike, with a 512x512 float32 numpy matmul timed every 20 images.
Per variant: BLEU-4 / exact match (``scipix eval``'s scoring), decoder steps per image, p50/p95
ms, CPU ms (the process's, all threads) and p50 / matmul512 p50 (the fastest of 3 back-to-back
products each time). Variants:

- ``before``: the sessions and beam search as they were (threads spinning, the decoder on
  all cores, exact beam stop);
- ``sessions``: the tuned sessions (no spinning, one decoder thread), exact stop;
- ``early``: the old sessions, the early beam stop;
- ``after``: both (the defaults);
- ``encoder2``: as ``after`` with a formula crop's encoder on two threads too;
- ``general_decoder``: as ``after`` without the decoder session for a fixed row count;
- ``greedy``: as ``after`` with beam width 1 (what a beam costs, and what it buys);
- ``before`` also runs without it.
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
OLD_SESSIONS = SessionConfig(threads=2, decoder_threads=2, spinning=True, small_input=0)
NEW_SESSIONS = SessionConfig(threads=2, decoder_threads=1)
VARIANTS = {
    "before": (OLD_SESSIONS, BeamConfig(early_stop=False)),
    "sessions": (NEW_SESSIONS, BeamConfig(early_stop=False)),
    "early": (OLD_SESSIONS, BeamConfig()),
    "after": (NEW_SESSIONS, BeamConfig()),
    "encoder2": (SessionConfig(threads=2, decoder_threads=1, small_input=0), BeamConfig()),
    "general_decoder": (NEW_SESSIONS, BeamConfig()),
    "greedy": (NEW_SESSIONS, BeamConfig(beam_width=1)),
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


#: matmul512s are timed every this many images (5 products, then a 0.3 s pause: a call timed
#: while OpenBLAS's threads still spun after a product ran on half of 2 cores, ~2x the CPU)
MATMUL_EVERY = 20


def matmul_ms(a: np.ndarray) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def labelled(args: argparse.Namespace) -> tuple[list[EvalPair], list[np.ndarray]]:
    """The held-out pairs and their images; with ``--shipped`` scipix bench's images, unlabelled
    (``rounds`` times each)."""
    if args.shipped:
        from scipix.bench import packaged_images

        paths = packaged_images() * args.rounds
        pairs = [EvalPair(f"{i}-{p.name}", p, "") for i, p in enumerate(paths)]
        return pairs, [read_gray(p) for p in paths]
    split = load_paired(args.data / "im2latex_val")
    chosen = split.val[: args.limit]
    pairs = [EvalPair(path.name, path, latex) for path, latex in chosen]
    return pairs, [read_gray(path) for path, _ in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--shipped", action="store_true", help="scipix bench's images")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pairs, images = labelled(args)
    names = args.variants.split(",")
    recs = {
        n: Counted(FormulaRecognizer.load(args.model, beam=VARIANTS[n][1], sessions=VARIANTS[n][0]))
        for n in names
    }
    for n in ("before", "sessions", "early", "general_decoder"):
        if n in recs:  # the decoder sessions of issue 19 before the fixed row count
            recs[n].recognizer.decoders.clear()
    for c in recs.values():
        c.recognizer.recognize(images[:2])  # warm-up
    a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    mm: list[float] = []
    times: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    steps: dict[str, list[int]] = {n: [] for n in names}
    preds: dict[str, dict[str, Prediction]] = {n: {} for n in names}
    for i, (pair, image) in enumerate(zip(pairs, images, strict=True)):
        if i % MATMUL_EVERY == 0:  # then a pause: OpenBLAS's threads spin ~0.1 s after a product
            mm += [matmul_ms(a) for _ in range(5)]
            time.sleep(0.3)
        for n in names[i % len(names) :] + names[: i % len(names)]:  # rotate who goes first
            counted = recs[n]
            before = counted.steps
            start, cpu = time.perf_counter(), time.process_time()
            [reading] = counted.recognizer.recognize([image])
            times[n].append((time.perf_counter() - start) * 1000)
            cpus[n].append((time.process_time() - cpu) * 1000)
            steps[n].append(counted.steps - before)
            preds[n][pair.name] = Prediction(reading.latex)
    mm50 = statistics.median(mm)
    report: dict[str, object] = {"n": len(pairs), "matmul512_p50_ms": round(mm50, 2)}
    for n in names:
        overall = {} if args.shipped else score(pairs, preds[n], render_match=False).overall
        scores = overall.to_dict() if not isinstance(overall, dict) else {}
        p50 = statistics.median(times[n])
        report[n] = {
            "bleu4": scores.get("bleu4"),
            "exact": scores.get("exact"),
            "cpu_p50_ms": round(statistics.median(cpus[n]), 1),
            "steps_mean": round(float(np.mean(steps[n])), 2),
            "p50_ms": round(p50, 1),
            "p95_ms": round(float(np.percentile(times[n], 95)), 1),
            "p50_over_matmul": round(p50 / mm50, 1),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
