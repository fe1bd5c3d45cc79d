"""Recognizer accuracy on the measurement-only benchmark sets (never used for training/tuning).

    python3 benchmarks/accuracy.py [--sets im2latex_test,crohme2014,crohme2016] [--limit 1000]
                                   [--beam 3] [--no-render] [--model DIR] [--report OUT.json]

Scores (exact match after normalization, corpus BLEU-4 over tokens, token edit similarity,
rendered match) come from ``scipix.training.evaluate``, the code behind ``scipix eval``.
``--limit`` takes the first N images of each set (the sets' own order), so runs compare.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from scipix.recognition import BeamConfig, FormulaRecognizer
from scipix.training.evaluate import evaluate, read_labels

BENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="im2latex_test,crohme2014")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--beam", type=int, default=None)
    parser.add_argument("--no-render", action="store_true")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--bench", type=Path, default=BENCH)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    recognizer = FormulaRecognizer.load(args.model, threads=2)
    beam = args.beam or BeamConfig().beam_width
    results: dict[str, object] = {"model": recognizer.version, "beam": beam}
    for name in args.sets.split(","):
        pairs = read_labels(args.bench / name / "labels.tsv", limit=args.limit)
        started = time.perf_counter()
        report = evaluate(
            recognizer, pairs, beam_width=beam, render_match=not args.no_render, jobs=args.jobs
        )
        results[name] = {
            **report.to_dict(),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"== {name} (first {len(pairs)} images, beam {beam})")
        print(report.table())
    if args.report:
        args.report.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
