"""The learning loop (issue 17) on held-out data: calibration, strategies, correction memory.

    python3 benchmarks/learning.py calibrate [--fit] [--per-condition 80] [--chunks 1] [--cache]
        [--file CAL.json]
    python3 benchmarks/learning.py strategies [--per-condition 40]
    python3 benchmarks/learning.py memory [--part check] [--corrections 100] [--negatives 1000]

Pictures are the data engine's (``training/picture.py``): formulas of the held-out (val) split
rendered clean, as screenshots, photographed, scanned, and CROHME/``hand`` images. Everything is
fitted or chosen on the ``tune`` half and reported on the ``check`` half; never reads
../shared/data/bench.

- ``calibrate``: raw confidence vs exactly right on ``check`` (and, with ``--fit``, first fits the
  isotonic calibration on ``tune`` and writes ``src/scipix/weights/calibration.json``, or
  ``--file``, with a curve per picture kind that has enough readings): ECE raw, with the global
  curve and per kind (overall, per classifier kind and per condition; the calibrated ECE with its
  bootstrap interval and the ECE a perfectly calibrated confidence would show on as many
  readings), the auto-accept threshold's precision and coverage, a reliability plot PNG.
  ``--chunks K`` reads K picture sets per half (seeds +20 each) for a larger fit and check.
- ``strategies``: exact match with and without the strategies (wider beam, re-ranking by
  rendering) on the hard kinds of ``check``, and the paired extra time (p50, and over the
  readings the strategies ran on).
- ``memory``: correct ``--corrections`` renders, then read a JPEG q70 copy rescaled 0.8-1.25x of
  each (share answered with the correction) and look up ``--negatives`` renders of other
  formulas (false hits; target 0). ``--tune`` prints the similarity distributions the
  thresholds of ``learning/recall.py`` are chosen from.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from scipix.errors import ScipixError
from scipix.learning.calibration import (
    Calibrator,
    expected_calibration_error,
    packaged_calibration,
    reliability,
)
from scipix.learning.loop import same_reading
from scipix.learning.recall import EMBEDDING_MIN, MATCH_MIN, Fingerprint, upright
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.picture import Picture, held_out_formulas, picture_set, render_all

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OUT = Path(__file__).resolve().parent / "out"
HARD = ("screenshot", "photo", "scan", "handwriting")


def service(data_dir: Path, learning: bool = True, budget_ms: float = 0.0) -> Scipix:
    settings = Settings()
    settings.runtime.data_dir = data_dir
    settings.learning.enabled = learning
    settings.learning.strategy_budget_ms = budget_ms
    settings.memory.cache = False  # every reading is a reading
    return Scipix(settings)


def read_all(sp: Scipix, pictures: list[Picture]) -> list[dict[str, Any]]:
    rows = []
    for p in pictures:
        start = time.perf_counter()
        try:
            r = sp.recognize(p.image)
            latex = r.latex or ""
            raw = r.confidence_raw if r.confidence_raw is not None else r.confidence
            conf = r.confidence or 0.0
            ok = True
        except ScipixError:
            latex, raw, conf, ok = "", 0.0, 0.0, False
        ms = (time.perf_counter() - start) * 1000.0
        rows.append(
            {
                "condition": p.condition,
                "kind": r.preprocessing.kind if ok and r.preprocessing is not None else None,
                "right": same_reading(latex, p.latex) if latex else False,
                "raw": float(raw or 0.0),
                "confidence": float(conf),
                "ms": ms,
                "latex": latex,
                "truth": p.latex,
            }
        )
    return rows


# -- calibration -------------------------------------------------------------------------------


def readings(
    sp: Scipix, part: str, args: argparse.Namespace, first_seed: int
) -> list[dict[str, Any]]:
    """The readings of ``args.chunks`` picture sets of ``part`` (seeds ``first_seed``,
    ``first_seed + 20``, ...), each kept in ``benchmarks/out/readings/`` with ``--cache`` (and
    then read from there: the same readings for another fit)."""
    rows: list[dict[str, Any]] = []
    for i in range(args.chunks):
        seed = first_seed + 20 * i
        kept = OUT / "readings" / f"{part}_s{seed}_pc{args.per_condition}_{sp.version}.json"
        if args.cache and kept.is_file():
            rows += json.loads(kept.read_text(encoding="utf-8"))["rows"]
            continue
        chunk = read_all(sp, picture_set(DATA, part, args.per_condition, seed))
        if args.cache:
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(json.dumps({"version": sp.version, "rows": chunk}), encoding="utf-8")
        rows += chunk
    return rows


def ece_interval(probs: list[float], right: list[float], formulas: list[str], n: int = 1000) -> str:
    """ECE's bootstrap 95 % interval, resampling formulas (the readings of one formula, in
    several conditions or chunks, go together: the handwritten pool is small), and the ECE a
    perfectly calibrated confidence would show on as many readings (outcomes drawn from the
    probabilities): the noise floor of the estimate."""
    p, y = np.asarray(probs), np.asarray(right)
    groups: dict[str, list[int]] = {}
    for i, f in enumerate(formulas):
        groups.setdefault(f, []).append(i)
    members = list(groups.values())
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(n):
        idx = np.concatenate([members[j] for j in rng.integers(0, len(members), len(members))])
        boot.append(expected_calibration_error(p[idx], y[idx]))
    null = [expected_calibration_error(p, (rng.random(p.size) < p).astype(float)) for _ in range(n)]
    low, high = np.percentile(boot, [2.5, 97.5])
    return (
        f"bootstrap 95 % [{low:.4f}, {high:.4f}] ({len(members)} formulas); a perfectly "
        f"calibrated confidence on {p.size} readings: mean {np.mean(null):.4f}, 95th percentile "
        f"{np.percentile(null, 95):.4f}"
    )


def calibrate(args: argparse.Namespace) -> None:
    path = Path(args.file) if args.file else packaged_calibration()
    with tempfile.TemporaryDirectory() as tmp:
        sp = service(Path(tmp), learning=False)
        version = sp.version
        if args.fit:
            rows = readings(sp, "tune", args, args.seed)
            cal = Calibrator.fit(
                version,
                [r["raw"] for r in rows],
                [r["right"] for r in rows],
                0.95,
                {"tune_pictures": len(rows), "per_condition": args.per_condition * args.chunks},
                [r["kind"] for r in rows],
            )
            cal.save(path)
            print(f"fitted on {len(rows)} tune pictures -> {path}; own curves: {sorted(cal.kinds)}")
        cal_or_none = Calibrator.load(path, version)
        if cal_or_none is None:
            raise SystemExit("no calibration for this model: run with --fit")
        cal = cal_or_none
        rows = readings(sp, "check", args, args.seed + 1)
    raw = [r["raw"] for r in rows]
    right = [float(r["right"]) for r in rows]
    kinds = [r["kind"] for r in rows]
    glob = [cal.probability(c) for c in raw]
    probs = [cal.for_kind(k).probability(c) for c, k in zip(raw, kinds, strict=True)]
    print(f"check: {len(rows)} pictures, {100 * np.mean(right):.1f} % exactly right")
    print(f"ECE raw {expected_calibration_error(raw, right):.4f}")
    print(f"ECE global curve {expected_calibration_error(glob, right):.4f}")
    print(f"ECE calibrated (per kind) {expected_calibration_error(probs, right):.4f} (<= 0.05)")
    print(f"  {ece_interval(probs, right, [r['truth'] for r in rows])}")
    for field in ("kind", "condition"):
        for value in sorted({str(r[field]) for r in rows}):
            idx = [i for i, r in enumerate(rows) if str(r[field]) == value]
            y = [right[i] for i in idx]
            eces = [expected_calibration_error([v[i] for i in idx], y) for v in (raw, glob, probs)]
            print(
                f"  {field} {value}: n {len(idx)}, right {100 * np.mean(y):.1f} %, "
                f"mean p {np.mean([probs[i] for i in idx]):.3f}, ECE raw {eces[0]:.4f} "
                f"global {eces[1]:.4f} per-kind {eces[2]:.4f}"
            )
    accepted = [
        y for p, y, k in zip(probs, right, kinds, strict=True) if cal.for_kind(k).accepts(p)
    ]
    if accepted:
        print(
            f"auto_accept (global p >= {cal.accept_above:.3f}, per kind "
            f"{ {k: round(c.accept_above, 3) for k, c in cal.kinds.items()} }): precision "
            f"{100 * np.mean(accepted):.1f} %, coverage {100 * len(accepted) / len(rows):.1f} %"
        )
    plot(raw, probs, right, OUT / "reliability.png")


def plot(raw: list[float], probs: list[float], right: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k:", label="perfect")
    for name, values in (("raw confidence", raw), ("calibrated", probs)):
        bins = reliability(values, right)
        ece = expected_calibration_error(values, right)
        ax.plot([b[0] for b in bins], [b[1] for b in bins], "o-", label=f"{name} (ECE {ece:.3f})")
    ax.set_xlabel("confidence")
    ax.set_ylabel("share exactly right")
    ax.set_title("Reliability on held-out pictures (check half)")
    ax.legend()
    fig.savefig(path, dpi=100)
    print(f"reliability plot: {path}")


# -- strategies --------------------------------------------------------------------------------


def strategies(args: argparse.Namespace) -> None:
    pictures = picture_set(DATA, "check", args.per_condition, args.seed + 2)
    pictures = [p for p in pictures if p.condition in HARD]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        off = service(Path(a), budget_ms=0.0)
        on = service(Path(b), budget_ms=args.budget_ms)
        rows_off, rows_on = [], []
        for i, p in enumerate(pictures):  # alternate the order: a busy machine favours neither
            pair = [(off, rows_off), (on, rows_on)]
            for sp, rows in pair if i % 2 else pair[::-1]:
                rows += read_all(sp, [p])
        tried = on.learning.store.trajectories() if on.learning is not None else []
    print("| condition | n | exact without | with strategies | p50 ms without -> with (paired Δ) |")
    print("|---|---|---|---|---|")
    for cond in [*HARD, "all"]:
        idx = [i for i, r in enumerate(rows_off) if cond in ("all", r["condition"])]
        if not idx:
            continue
        e0 = 100 * np.mean([rows_off[i]["right"] for i in idx])
        e1 = 100 * np.mean([rows_on[i]["right"] for i in idx])
        t0 = statistics.median(rows_off[i]["ms"] for i in idx)
        t1 = statistics.median(rows_on[i]["ms"] for i in idx)
        delta = statistics.median(rows_on[i]["ms"] - rows_off[i]["ms"] for i in idx)
        cells = f"{e0:.1f} % | {e1:.1f} % | {t0:.0f} -> {t1:.0f} ({delta:+.0f})"
        print(f"| {cond} | {len(idx)} | {cells} |")
    counts: dict[str, list[int]] = {}
    for t in tried:
        for s in t.tried:
            c = counts.setdefault(s["name"], [0, 0])
            c[0] += 1
            c[1] += int(s["changed"])
    print("strategies tried / changed the reading:", counts)
    changed = sum(r0["latex"] != r1["latex"] for r0, r1 in zip(rows_off, rows_on, strict=True))
    print(f"readings changed {changed} of {len(rows_on)}")


# -- correction memory -------------------------------------------------------------------------


def degraded(image: np.ndarray, rng: random.Random) -> bytes:
    """A JPEG q70 copy rescaled by a factor drawn from 0.8-1.25."""
    factor = rng.uniform(0.8, 1.25)
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(image, None, fx=factor, fy=factor, interpolation=method)
    ok, buf = cv2.imencode(".jpg", scaled, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return buf.tobytes()


def png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


def renders(part: str, n: int, seed: int, skip: set[str]) -> list[tuple[str, np.ndarray]]:
    rng = random.Random(seed)
    formulas = [
        f for f in held_out_formulas(DATA / "train", part, int(n * 1.3), seed) if f not in skip
    ]
    dpis = [int(rng.choice((100, 120, 150, 200, 250))) for _ in formulas]
    found = [
        (f, im)
        for f, im in zip(formulas, render_all(formulas, dpis, rng), strict=True)
        if im is not None
    ]
    return found[:n]


def memory(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    corrected = renders(args.part, args.corrections, args.seed, set())
    negatives = renders(args.part, args.negatives, args.seed + 100, {f for f, _ in corrected})
    with tempfile.TemporaryDirectory() as tmp:
        sp = service(Path(tmp))
        loop = sp.learning
        assert loop is not None
        if args.tune:
            return similarity_report(sp, corrected, negatives, rng)
        for latex, image in corrected:
            sp.correct(latex, png(image))
        hits, ms = 0, []
        for latex, image in corrected:
            start = time.perf_counter()
            result = sp.recognize(degraded(image, rng))
            ms.append((time.perf_counter() - start) * 1000.0)
            hits += bool(result.corrected) and same_reading(result.latex or "", latex)
        false_hits = 0
        for _, image in negatives:
            prep = sp.preprocess(png(image))
            page = upright(prep.page.gray, prep.rotation)
            found = loop.find_correction(loop.scope_of(None), prep.page.hash, page)
            false_hits += found is not None
        sp.close()
    print(
        f"correction memory ({args.part}): {hits}/{len(corrected)} copies (JPEG q70, 0.8-1.25x) "
        f"answered with the correction = {100 * hits / len(corrected):.1f} % (target >= 95 %); "
        f"false hits {false_hits} in {len(negatives)} other formulas (target 0); "
        f"p50 {statistics.median(ms):.0f} ms per corrected copy"
    )


def similarity_report(
    sp: Scipix,
    corrected: list[tuple[str, np.ndarray]],
    negatives: list[tuple[str, np.ndarray]],
    rng: random.Random,
) -> None:
    """The distributions the thresholds of learning/recall.py are chosen from: cosine and
    match score (cosine + shifted thumbnail correlation) of each copy with its original, and
    of each other formula with its 20 nearest corrections."""
    loop = sp.learning
    assert loop is not None

    def fp(data: bytes) -> Fingerprint:
        prep = sp.preprocess(data)
        return loop.fingerprint(upright(prep.page.gray, prep.rotation))

    stored = [fp(png(im)) for _, im in corrected]
    matrix = np.stack([s.embedding for s in stored])
    pos_cos, pos_match, neg_cos, neg_match = [], [], [], []
    for s, (_, im) in zip(stored, corrected, strict=True):
        q = fp(degraded(im, rng))
        cosine = float(q.embedding @ s.embedding)
        pos_cos.append(cosine)
        pos_match.append(q.match(s.thumb, s.aspect, cosine))
    for _, im in negatives:
        q = fp(png(im))
        sims = matrix @ q.embedding
        neg_cos.append(float(sims.max()))
        near = np.argsort(-sims)[:20]
        neg_match.append(max(q.match(stored[i].thumb, stored[i].aspect, sims[i]) for i in near))

    def quantiles(values: list[float], qs: tuple[int, ...]) -> dict[int, float]:
        finite = [v for v in values if np.isfinite(v)] or [float("-inf")]
        return {q: round(float(np.percentile(finite, q)), 4) for q in qs}

    low, high = (0, 1, 2, 5, 50), (50, 95, 99, 100)
    print("copies: cosine", quantiles(pos_cos, low), "match", quantiles(pos_match, low))
    print("other formulas: best cosine", quantiles(neg_cos, high))
    print("other formulas: best match of 20 nearest", quantiles(neg_match, high))
    print(f"thresholds now: EMBEDDING_MIN {EMBEDDING_MIN}, MATCH_MIN {MATCH_MIN}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("what", choices=("calibrate", "strategies", "memory"))
    parser.add_argument("--per-condition", type=int, default=80)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--chunks", type=int, default=1, help="calibrate: picture sets per half (seeds +20)"
    )
    parser.add_argument(
        "--cache", action="store_true", help="calibrate: keep/reuse readings in out/readings"
    )
    parser.add_argument("--fit", action="store_true", help="calibrate: fit on tune first")
    parser.add_argument(
        "--file", default=None, help="calibrate: the calibration to fit/check (default: shipped)"
    )
    parser.add_argument("--budget-ms", type=float, default=1500.0)
    parser.add_argument("--part", default="check", choices=("tune", "check"))
    parser.add_argument("--corrections", type=int, default=100)
    parser.add_argument("--negatives", type=int, default=1000)
    parser.add_argument("--tune", action="store_true", help="memory: similarity distributions")
    args = parser.parse_args()
    started = time.perf_counter()
    {"calibrate": calibrate, "strategies": strategies, "memory": memory}[args.what](args)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
