"""Pre-processing that adapts to the picture (``preprocessing.mode = "auto"``) against today's
default (``manual``, no denoise, no binarize) and the global switches (``denoise`` +
``binarize``), on held-out pictures of each kind that the data engine makes.

    python3 benchmarks/preprocess_auto.py [--per-condition 100] [--seed 7] [--conditions render,...]

Pictures: formulas of the ``check`` half of the corpora's held-out (val) split rendered clean
(TeX and mathtext), as screenshots, photographed and scanned, plus CROHME/``hand`` images of the
same half (``training/picture.py``); the strategies and the second-reading threshold were chosen
on the other half (``tune``). Never reads ../shared/data/bench.

Prints one table: per condition, exact match (and BLEU-4) today, with the switches on and in
auto mode; for photos and scans also the same formulas read clean (the target: auto within 10
points of it); how often auto read a second time and which strategy it kept; p50 latency.
Then the picture classifier's confusion matrix on these pictures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from scipix.errors import ScipixError
from scipix.imaging.picture import KINDS, PictureClassifier
from scipix.schema import RecognizeOptions
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.evaluate import tokens_of
from scipix.training.metrics import bleu4
from scipix.training.picture import Picture, picture_set

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CONDITIONS = ("render", "screenshot", "photo", "scan", "handwriting")
SWITCHES = RecognizeOptions(preprocessing={"denoise": True, "binarize": True})


def service(mode: str) -> Scipix:
    settings = Settings()
    settings.preprocessing.mode = mode  # type: ignore[assignment]
    return Scipix(settings)


def read(sp: Scipix, image: np.ndarray, options: RecognizeOptions | None = None) -> dict[str, Any]:
    """One reading: the canonical tokens, the time, how the picture was cleaned."""
    start = time.perf_counter()
    try:
        result = sp.recognize(image, options)
    except ScipixError:
        return {"tokens": (), "ms": (time.perf_counter() - start) * 1000.0, "report": None}
    ms = (time.perf_counter() - start) * 1000.0
    report = result.preprocessing.model_dump() if result.preprocessing else None
    return {"tokens": tokens_of(result.latex or "", None)[0], "ms": ms, "report": report}


def measure(pictures: list[Picture]) -> list[dict[str, Any]]:
    today, auto = service("manual"), service("auto")
    rows = []
    for i, p in enumerate(pictures):
        label = tokens_of(p.latex, None)[0]
        row: dict[str, Any] = {"condition": p.condition, "label": label}
        # alternate which goes first, so that a noisy machine favours neither
        order = [("today", today, None), ("auto", auto, None), ("switches", today, SWITCHES)]
        for name, sp, opts in order if i % 2 else order[::-1]:
            row[name] = read(sp, p.image, opts)
        if p.condition in ("photo", "scan"):
            row["clean"] = read(today, p.clean)
        rows.append(row)
    return rows


def scores(rows: list[dict[str, Any]], name: str) -> tuple[float, float]:
    """Exact match (%) and BLEU-4 of one way of reading."""
    exact = 100.0 * float(np.mean([r[name]["tokens"] == r["label"] for r in rows]))
    refs = [list(r["label"]) for r in rows]
    return exact, bleu4(refs, [list(r[name]["tokens"]) for r in rows])


def p50(rows: list[dict[str, Any]], name: str) -> float:
    return statistics.median(r[name]["ms"] for r in rows)


def paired(rows: list[dict[str, Any]]) -> float:
    """The median of auto's extra time over today's, picture by picture (steadier than the
    difference of two medians on a busy machine)."""
    return statistics.median(r["auto"]["ms"] - r["today"]["ms"] for r in rows)


def table(rows: list[dict[str, Any]]) -> list[str]:
    head = (
        "| condition | n | today exact / BLEU | switches on | auto | same formulas clean "
        "| auto − clean | second reading | kept (auto) | p50 ms today → auto (paired Δ) |"
    )
    lines = [head, "|" + "---|" * 10]
    for condition in CONDITIONS:
        part = [r for r in rows if r["condition"] == condition]
        if not part:
            continue
        cells = {n: scores(part, n) for n in ("today", "switches", "auto")}
        fmt = {n: f"{e:.1f} % / {b:.3f}" for n, (e, b) in cells.items()}
        clean, gap = "", ""
        if "clean" in part[0]:
            e, b = scores(part, "clean")
            clean, gap = f"{e:.1f} % / {b:.3f}", f"{cells['auto'][0] - e:+.1f}"
        reports = [r["auto"]["report"] for r in part if r["auto"]["report"]]
        second = 100.0 * sum(rep["second_reading"] for rep in reports) / max(len(part), 1)
        kept = Counter(rep["strategy"] for rep in reports)
        kept_text = ", ".join(f"{k} {v}" for k, v in kept.most_common())
        lines.append(
            f"| {condition} | {len(part)} | {fmt['today']} | {fmt['switches']} | {fmt['auto']} "
            f"| {clean} | {gap} | {second:.0f} % | {kept_text} "
            f"| {p50(part, 'today'):.0f} → {p50(part, 'auto'):.0f} ({paired(part):+.0f}) |"
        )
    return lines


def confusion(pictures: list[Picture]) -> list[str]:
    classifier = PictureClassifier.load()
    matrix = np.zeros((len(KINDS), len(KINDS)), dtype=int)
    for p in pictures:
        guess = classifier.classify(p.image)
        matrix[KINDS.index(p.kind), KINDS.index(guess.kind)] += 1
    lines = ["| true \\ said | " + " | ".join(KINDS) + " |", "|" + "---|" * (len(KINDS) + 1)]
    for kind, row in zip(KINDS, matrix, strict=True):
        lines.append(f"| {kind} | " + " | ".join(str(v) for v in row) + " |")
    accuracy = 100.0 * np.trace(matrix) / max(matrix.sum(), 1)
    return [*lines, f"accuracy {accuracy:.1f} % on {matrix.sum()} pictures"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-condition", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--part", default="check", choices=("tune", "check"))
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="Which to read.")
    parser.add_argument("--json", type=Path, help="Also write every reading here.")
    args = parser.parse_args()
    started = time.perf_counter()
    wanted = set(args.conditions.split(","))
    pictures = picture_set(DATA, args.part, args.per_condition, args.seed)
    pictures = [p for p in pictures if p.condition in wanted]
    made = time.perf_counter() - started
    rows = measure(pictures)
    print(f"{len(pictures)} pictures ({args.part} half, seed {args.seed}; made in {made:.0f} s)")
    print("\n".join(table(rows)))
    print()
    print("\n".join(confusion(pictures)))
    if args.json:
        args.json.write_text(json.dumps(rows, default=list), encoding="utf-8")


if __name__ == "__main__":
    main()
