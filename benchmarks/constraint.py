"""Valid by construction: what the beam's LaTeX constraint buys and costs, on held-out images.

    python3 benchmarks/constraint.py [--sets im2latex_val,crohme] [--limit 250] [--beam 3]

For each set (the val split of ../shared/data/train, never bench/), the recognizer with the
constraint on (``BeamConfig(constrained=True)``, the default) and off: the share of outputs the
LaTeX validator refuses, exact match and BLEU-4 (``scipix eval``'s scoring, without the TeX
render) and the median latency per formula (batch 1; the two runs alternate image by image, so
background load hits both alike). Latency on renders: ``benchmarks/recognizer.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from scipix.recognition import BeamConfig, FormulaRecognizer
from scipix.training.corpus import load_paired
from scipix.training.evaluate import EvalPair, Prediction, score
from scipix.training.recipe import read_gray

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"


def compare(
    name: str, limit: int, beam: int, recognizers: dict[str, FormulaRecognizer]
) -> dict[str, object]:
    items = load_paired(TRAIN / name).val[:limit]
    pairs = [EvalPair(path.name, path, label) for path, label in items]
    predictions: dict[str, dict[str, Prediction]] = {mode: {} for mode in recognizers}
    invalid = dict.fromkeys(recognizers, 0)
    times: dict[str, list[float]] = {mode: [] for mode in recognizers}
    examples: list[dict[str, str]] = []
    for recognizer in recognizers.values():  # warm-up
        recognizer.recognize([read_gray(items[0][0])], beam_width=beam)
    for pair, (path, _) in zip(pairs, items, strict=True):
        image = read_gray(path)
        for mode, recognizer in recognizers.items():
            started = time.perf_counter()
            [reading] = recognizer.recognize([image], beam_width=beam)
            times[mode].append((time.perf_counter() - started) * 1000)
            predictions[mode][pair.name] = Prediction(reading.latex)
            invalid[mode] += not reading.valid
            if not reading.valid and len(examples) < 5:
                examples.append({"mode": mode, "image": pair.name, "latex": reading.latex})
    report: dict[str, object] = {"n": len(pairs)}
    for mode in recognizers:
        overall = score(pairs, predictions[mode], render_match=False).overall.to_dict()
        report[mode] = {
            "invalid": invalid[mode],
            "invalid_share": round(invalid[mode] / max(len(pairs), 1), 4),
            "exact": overall["exact"],
            "bleu4": overall["bleu4"],
            "p50_ms": round(statistics.median(times[mode]), 1),
        }
    report["invalid_examples"] = examples
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="im2latex_val,crohme")
    parser.add_argument("--limit", type=int, default=250)
    parser.add_argument("--beam", type=int, default=BeamConfig().beam_width)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()
    recognizers = {
        "constrained": FormulaRecognizer.load(args.model, args.threads, BeamConfig()),
        "unconstrained": FormulaRecognizer.load(
            args.model, args.threads, BeamConfig(constrained=False)
        ),
    }
    report: dict[str, object] = {"model": recognizers["constrained"].version, "beam": args.beam}
    for name in args.sets.split(","):
        report[name] = compare(name, args.limit, args.beam, recognizers)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
