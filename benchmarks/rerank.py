"""The learned n-best reranker (strategy ``tta_rerank``, ``learning/rerank.py``), issue 17.

    python3 benchmarks/rerank.py measure --part tune --seeds 101 102 103 104 [--per-condition 100]
    python3 benchmarks/rerank.py measure --part check [--seeds 201 202 203 204]
    python3 benchmarks/rerank.py fit [--seeds 101 102 103 104]   # writes weights/rerank.json
    python3 benchmarks/rerank.py check [--seeds 201 202 203 204]

Pictures are the hard kinds (screenshot, photo, scan, handwriting) of ``training/picture.py``
made from held-out (val split) formulas. ``measure`` reads each with the service as it is
(learning on, the shipped calibration) and, where the Learn agent finds the reading unsure
(calibrated confidence below ``learning.unsure_below``), measures its candidates exactly as the
strategy does (:func:`~scipix.learning.rerank.measure`, timed); the rows are kept in
``benchmarks/out/rerank/``. ``fit`` chooses the ridge and the switching margin by 5-fold
cross-validation (folds by formula) on the tune half only and fits a conditional-logit
(softmax over each picture's candidates, Newton steps) on all of it. ``check`` reports on the
check half: exact match without and with the reranker, per condition, the paired bootstrap 95 %
interval of the difference (resampling formulas), and the strategy's milliseconds. The service
end to end (both paths alternating on the same pictures): ``benchmarks/learning.py strategies
--budget-ms 200``. Never reads ../shared/data/bench.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from scipix.errors import ScipixError
from scipix.learning.agent import LearnAgent
from scipix.learning.loop import same_reading
from scipix.learning.rerank import (
    Item,
    Measured,
    Reranker,
    features,
    fit,
    measure,
    packaged_weights,
)
from scipix.learning.strategies import Strategist, StrategyStats, Tried
from scipix.recognition.reading import Reading
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.picture import picture_set

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OUT = Path(__file__).resolve().parent / "out" / "rerank"
HARD = ("screenshot", "photo", "scan", "handwriting")
L2S = (0.1, 0.3, 1.0, 3.0)
MARGINS = (0.0, 0.25, 0.5, 1.0)


class Recorder(Strategist):
    """Measures the unsure reading as ``tta_rerank`` would and keeps it; changes nothing."""

    def __init__(self, sp: Scipix) -> None:
        super().__init__(sp.formula_recognizer, 1.0)
        self.kept: dict[str, Any] = {}

    def improve(
        self,
        picture: Any,
        reading: Reading,
        order: Any,
        stats: StrategyStats,
        kind: str | None,
        beam_width: int,
    ) -> tuple[Reading, list[Tried]]:
        start = time.perf_counter()
        try:
            self.kept["m"] = measure(self.formula(), picture, reading, kind)
        except ScipixError:
            return reading, []
        self.kept["ms"] = (time.perf_counter() - start) * 1000.0
        return reading, []


def measure_part(args: argparse.Namespace) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings()
        settings.runtime.data_dir = Path(tmp)
        settings.memory.cache = False
        settings.learning.strategy_budget_ms = 1.0  # the agent asks the recorder when unsure
        sp = Scipix(settings)
        recorder = Recorder(sp)
        for agent in sp.agents:
            if isinstance(agent, LearnAgent):
                agent.strategist = recorder
        for seed in args.seeds:
            pictures = picture_set(DATA, args.part, args.per_condition, seed)
            rows = [read_one(sp, recorder, p) for p in pictures if p.condition in HARD]
            path = OUT / f"{args.part}_s{seed}_pc{args.per_condition}_{sp.version}.pkl"
            path.write_bytes(pickle.dumps(rows))
            ran = [r for r in rows if r.get("m") is not None]
            print(
                f"{path.name}: {len(rows)} pictures, "
                f"{100 * np.mean([r['right'] for r in rows]):.1f} % exact, unsure (measured) "
                f"{len(ran)}, n-best holds the right reading "
                f"{100 * np.mean([any(r['rights']) for r in ran]):.1f} % of those, measure p50 "
                f"{statistics.median(r['ms'] for r in ran):.0f} ms"
            )
        sp.close()


def read_one(sp: Scipix, recorder: Recorder, p: Any) -> dict[str, Any]:
    recorder.kept.clear()
    row: dict[str, Any] = {"condition": p.condition, "truth": p.latex, "right": False}
    try:
        latex = sp.recognize(p.image).latex or ""
    except ScipixError:
        return row
    row["right"] = same_reading(latex, p.latex)
    m: Measured | None = recorder.kept.get("m")
    if m is not None:
        row.update(m=m, ms=recorder.kept["ms"])
        row["rights"] = [same_reading(h.latex, p.latex) for h in m.candidates]
    return row


def load(part: str, seeds: list[int], per_condition: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        found = sorted(OUT.glob(f"{part}_s{seed}_pc{per_condition}_*.pkl"))
        if not found:
            raise SystemExit(f"no measured {part} seed {seed}: run measure first")
        rows += pickle.loads(found[-1].read_bytes())
    return rows


def items_of(rows: list[dict[str, Any]]) -> list[Item | None]:
    """Per row, its candidates' features when it was measured (None: the reading stays)."""
    out: list[Item | None] = []
    for r in rows:
        m = r.get("m")
        ok = m is not None and len(m.candidates) > 1
        out.append((features(m), np.asarray(r["rights"], float), m.chosen) if ok else None)
    return out


def outcomes(rows: list[dict[str, Any]], items: list[Item | None], model: Reranker) -> np.ndarray:
    """Per row, whether the reading is right with the reranker."""
    out = []
    for r, it in zip(rows, items, strict=True):
        out.append(bool(it[1][model.choose(r["m"])]) if it is not None else bool(r["right"]))
    return np.array(out)


def fit_tune(args: argparse.Namespace) -> None:
    rows = load("tune", args.seeds, args.per_condition)
    items = items_of(rows)
    folds = np.array([zlib.crc32(r["truth"].encode()) % 5 for r in rows])
    base = np.array([bool(r["right"]) for r in rows])
    version = model_version(args)
    best: tuple[float, float, float] = (-1.0, 0.0, 0.0)
    for l2 in L2S:
        got = {m: np.zeros(len(rows), bool) for m in MARGINS}
        for k in range(5):
            train = [it for it, f in zip(items, folds, strict=True) if f != k and it is not None]
            w, mean, scale = fit(train, l2)
            test = np.flatnonzero(folds == k)
            for margin in MARGINS:
                model = Reranker(version, w, mean, scale, margin)
                part = [rows[i] for i in test], [items[i] for i in test]
                got[margin][test] = outcomes(*part, model)
        for margin, right in got.items():
            gain = 100 * (right.mean() - base.mean())
            print(f"l2 {l2:g} margin {margin:g}: cross-validated gain {gain:+.2f} points")
            best = max(best, (gain, l2, margin))
    gain, l2, margin = best
    w, mean, scale = fit([it for it in items if it is not None], l2)
    fitted = {
        "tune_pictures": len(rows),
        "measured": sum(it is not None for it in items),
        "seeds": args.seeds,
        "per_condition": args.per_condition,
        "l2": l2,
        "cv_gain_points": round(gain, 2),
        "tune_exact": round(100 * base.mean(), 2),
    }
    Reranker(version, w, mean, scale, margin, fitted).save(packaged_weights())
    print(f"chose l2 {l2:g}, margin {margin:g} (CV {gain:+.2f} points) -> {packaged_weights()}")


def model_version(args: argparse.Namespace) -> str:
    found = sorted(OUT.glob(f"tune_s{args.seeds[0]}_pc{args.per_condition}_*.pkl"))
    return found[-1].stem.split("_", 3)[3]


def check(args: argparse.Namespace) -> None:
    rows = load("check", args.seeds, args.per_condition)
    version = sorted(OUT.glob(f"check_s{args.seeds[0]}_pc{args.per_condition}_*.pkl"))[-1]
    model = Reranker.load(None, version.stem.split("_", 3)[3])
    if model is None:
        raise SystemExit("no reranker fitted for this model: run fit")
    items = items_of(rows)
    base = np.array([bool(r["right"]) for r in rows])
    with_ = outcomes(rows, items, model)
    print("| condition | n | exact without | with tta_rerank | Δ points |")
    print("|---|---|---|---|---|")
    for cond in [*HARD, "all"]:
        idx = [i for i, r in enumerate(rows) if cond in ("all", r["condition"])]
        e0, e1 = 100 * base[idx].mean(), 100 * with_[idx].mean()
        print(f"| {cond} | {len(idx)} | {e0:.1f} % | {e1:.1f} % | {e1 - e0:+.1f} |")
    low, high = bootstrap([r["truth"] for r in rows], with_.astype(float) - base)
    ran = [r["m"] for r, it in zip(rows, items, strict=True) if it is not None]
    changed = sum(model.choose(m) != m.chosen for m in ran)
    fixed, broke = int(((with_) & ~base).sum()), int((~with_ & base).sum())
    ms = [r["ms"] for r in rows if r.get("m") is not None]
    print(
        f"difference {100 * (with_.mean() - base.mean()):+.2f} points, paired bootstrap 95 % "
        f"[{low:+.2f}, {high:+.2f}]; changed {changed}, fixed {fixed}, broke {broke}; ran on "
        f"{len(ms)} of {len(rows)} (unsure); its ms p50 {statistics.median(ms):.0f}, p90 "
        f"{np.percentile(ms, 90):.0f}; over all pictures p50 "
        f"{statistics.median(ms + [0.0] * (len(rows) - len(ms))):.0f}"
    )


def bootstrap(formulas: list[str], diff: np.ndarray, n: int = 2000) -> tuple[float, float]:
    groups: dict[str, list[int]] = {}
    for i, f in enumerate(formulas):
        groups.setdefault(f, []).append(i)
    members = list(groups.values())
    rng = np.random.default_rng(0)
    sums = np.array([diff[g].sum() for g in members])
    sizes = np.array([len(g) for g in members])
    boot = []
    for _ in range(n):
        pick = rng.integers(0, len(members), len(members))
        boot.append(100 * sums[pick].sum() / sizes[pick].sum())
    low, high = np.percentile(boot, [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("what", choices=("measure", "fit", "check"))
    parser.add_argument("--part", default="tune", choices=("tune", "check"))
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--per-condition", type=int, default=100)
    args = parser.parse_args()
    if args.seeds is None:
        tune = args.what == "fit" or (args.what == "measure" and args.part == "tune")
        args.seeds = [101, 102, 103, 104] if tune else [201, 202, 203, 204]
    started = time.perf_counter()
    {"measure": measure_part, "fit": fit_tune, "check": check}[args.what](args)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
