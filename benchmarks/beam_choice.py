"""Choose the default beam width on the validation split (never on bench/).

    python3 benchmarks/beam_choice.py [--beams 1,3,5] [--limit 300] [--model DIR]

For each beam width: greedy-equivalent scores (exact, BLEU-4, edit similarity over label
tokens) on the im2latex validation split carved from ../shared/data/train, and the median
latency per formula (batch 1, 2 threads).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from scipix.recognition import FormulaRecognizer
from scipix.training.corpus import load_paired
from scipix.training.evaluate import EvalPair, Prediction, score
from scipix.training.recipe import read_gray

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--beams", default="1,3,5")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    split = load_paired(args.data / "im2latex_val")
    pairs = [EvalPair(path.name, path, latex) for path, latex in split.val[: args.limit]]
    images = [read_gray(path) for path, _ in split.val[: args.limit]]
    recognizer = FormulaRecognizer.load(args.model, threads=2)
    recognizer.recognize(images[:1])
    rows = {}
    for beam in (int(b) for b in args.beams.split(",")):
        predictions, times = {}, []
        for pair, image in zip(pairs, images, strict=True):
            started = time.perf_counter()
            [result] = recognizer.recognize([image], beam_width=beam)
            times.append((time.perf_counter() - started) * 1000)
            predictions[pair.name] = Prediction(result.latex)
        report = score(pairs, predictions, render_match=False)
        rows[f"beam{beam}"] = {
            **report.overall.to_dict(),
            "p50_ms": round(statistics.median(times), 1),
        }
    print(json.dumps({"model": recognizer.version, "n": len(pairs), **rows}, indent=2))


if __name__ == "__main__":
    main()
