"""Handwriting held-out scores as the CROHME papers report them, and /v3/strokes latency.

    python3 benchmarks/crohme.py [--data-root ../shared/data] [--limit 400] [--latency 30]

Only the held-out side (``corpus.split_of`` of the normalized label == "val", the split the
recipe never trains on) of ``train/crohme`` (PNG), ``train/crohme_ink`` (the same formulas'
ink, read through ``Scipix.recognize_ink``: what ``/v3/strokes`` does) and ``train/hand``
(photos). Never ``data/bench`` (the lead runs CROHME 2014/2016 there).

Scores, over model tokens after the evaluation normalizer (``training.evaluate.tokens_of``):
ExpRate (exact), ≤ 1 and ≤ 2 token errors (token edit distance), and BLEU-4. Latency: p50/p90
of ``POST /v3/strokes`` (in-process ASGI client, the real model) for held-out ink of 18-22
strokes, of ``Scipix.recognize_ink`` alone and of the bare recognizer on the drawn ink.
``crohme_png_same_formulas`` reads the PNGs of the very files ``crohme_ink`` reads as ink.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scipix.ink import draw_ink, read_inkml
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.corpus import load_paired
from scipix.training.evaluate import tokens_of
from scipix.training.ink import load_ink_items
from scipix.training.metrics import bleu4, levenshtein


def scores(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """ExpRate, <=1 and <=2 token errors, BLEU-4 over (label, prediction) pairs."""
    refs, hyps, distances = [], [], []
    for label, predicted in pairs:
        ref, _ = tokens_of(label, None)
        hyp, _ = tokens_of(predicted, None) if predicted else ((), False)
        refs.append(list(ref))
        hyps.append(list(hyp))
        distances.append(levenshtein(ref, hyp))
    n = max(1, len(pairs))
    return {
        "n": len(pairs),
        "exprate": round(100 * sum(d == 0 for d in distances) / n, 1),
        "le1": round(100 * sum(d <= 1 for d in distances) / n, 1),
        "le2": round(100 * sum(d <= 2 for d in distances) / n, 1),
        "bleu4": round(bleu4(refs, hyps), 3),
    }


def sample(items: Sequence[Any], limit: int) -> list[Any]:
    """A fixed random sample (the files are sorted by source: the first N are one source)."""
    chosen = list(items)
    random.Random(0).shuffle(chosen)
    return chosen[:limit]


def read_all(items: Sequence[tuple[Any, str]], read: Callable[[Any], str]) -> dict[str, Any]:
    started = time.perf_counter()
    pairs = []
    for source, label in items:
        try:
            pairs.append((label, read(source)))
        except Exception:  # a failure is a wrong answer here
            pairs.append((label, ""))
    result = scores(pairs)
    result["s_per_item"] = round((time.perf_counter() - started) / max(1, len(items)), 3)
    return result


def latency(service: Scipix, inks: Sequence[Any], repeat: int) -> dict[str, Any]:
    """p50/p90 ms of POST /v3/strokes and of recognize_ink alone, over ``repeat`` calls."""
    from fastapi.testclient import TestClient

    from scipix.server.app import create_app

    settings = Settings(
        runtime={"data_dir": Path(tempfile.mkdtemp())}, server={"auth": "none_on_loopback"}
    )  # type: ignore[arg-type]
    direct, http, alone = [], [], []
    recognizer = service.formula_recognizer()
    with TestClient(create_app(settings, service=service), client=("127.0.0.1", 5000)) as client:
        for i in range(repeat):
            ink = inks[i % len(inks)]
            body = {"strokes": {"strokes": ink.to_mathpix()}, "formats": ["text", "latex_styled"]}
            started = time.perf_counter()
            answer = client.post("/v3/strokes", json=body).json()
            http.append(1000 * (time.perf_counter() - started))
            assert "error" not in answer, answer
            started = time.perf_counter()
            service.recognize_ink(ink)
            direct.append(1000 * (time.perf_counter() - started))
            image = draw_ink(ink)
            started = time.perf_counter()
            recognizer.recognize([image])
            alone.append(1000 * (time.perf_counter() - started))

    def stats(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {
            "p50": round(statistics.median(ordered), 1),
            "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        }

    strokes = [len(ink.strokes) for ink in inks]
    return {
        "strokes": f"{min(strokes)}-{max(strokes)}",
        "http": stats(http),
        "recognize_ink": stats(direct),
        "recognizer_alone": stats(alone),
    }


class Report(dict[str, Any]):
    """The results, each section printed as soon as it is measured (a later failure keeps them)."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        print(json.dumps({key: value}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--latency", type=int, default=30, help="timed /v3/strokes calls")
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    root = args.data_root / "train"
    # a fresh data dir and no result cache: every image is read, none answered from memory
    data_dir = Path(tempfile.mkdtemp())
    settings = Settings(runtime={"data_dir": data_dir}, memory={"enabled": False})  # type: ignore[arg-type]
    service = Scipix(settings)
    service.warm_up()
    report = Report({"model": service.version})
    png = sample(load_paired(root / "crohme").val, args.limit)
    report["crohme_png"] = read_all(png, lambda p: service.recognize(p).latex or "")
    _, ink_val = load_ink_items(root)
    ink_items = sample([(item.path, item.latex) for item in ink_val], args.limit)
    report["crohme_ink"] = read_all(
        ink_items, lambda p: service.recognize_ink(read_inkml(p).ink).latex or ""
    )
    same_png = [(root / "crohme" / "images" / (p.stem + ".png"), label) for p, label in ink_items]
    report["crohme_png_same_formulas"] = read_all(
        same_png, lambda p: service.recognize(p).latex or ""
    )
    hand = sample(load_paired(root / "hand").val, args.limit)
    report["hand_photo"] = read_all(hand, lambda p: service.recognize(p).latex or "")
    twenty = [read_inkml(p).ink for p, _ in ink_items]
    twenty = [ink for ink in twenty if 18 <= len(ink.strokes) <= 22]
    if twenty and args.latency:
        report["strokes_latency_ms"] = latency(service, twenty, args.latency)
    text = json.dumps(report, indent=1)
    print(text)
    if args.report:
        args.report.write_text(text + "\n")


if __name__ == "__main__":
    main()
