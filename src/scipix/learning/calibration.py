"""Calibrated confidence: the probability that a reading is exactly right.

The recognizer's ``confidence`` (the weakest token's probability) orders readings well but is not
a probability of being right. :class:`Calibrator` maps it through an isotonic (monotone
non-decreasing, piecewise-linear) curve fitted by pool-adjacent-violators with every block
pooling at least :data:`MIN_BLOCK_SHARE` of the readings, drawn through the blocks' (mean
score, share right) (:func:`pooled_isotonic_fit`; the plain steps of :func:`isotonic_fit` chase
a handful of readings) on readings whose truth is known: held-out splits of the training data
(``scipix learning calibrate --data``) or the verdicts users gave (corrections against accepted
readings, ``scipix learning calibrate``). The curve ships as ``weights/calibration.json``, keyed
by the model version it was fitted for: a different model ignores it (and reports the raw
confidence). With it comes :attr:`Calibrator.accept_above`, the lowest calibrated probability
whose readings were right at least ``precision`` (0.95) of the time on the fitting data: a
result at or above it is ``auto_accept``.

Per picture kind (``Result.preprocessing.kind``: render, screenshot, paper, handwriting): the same
raw confidence means more on a clean render than on a photo, so a kind with at least
:data:`MIN_KIND_READINGS` readings, :data:`MIN_KIND_EACH` of them right and as many wrong, gets
its own curve and threshold (:attr:`Calibrator.kinds`, ``"kinds"`` in the file); any other kind,
or a reading of unknown kind, uses the global curve. A kind's curve is the global one recalibrated
(:func:`kind_curve`: ``sigmoid(a + b logit(p))``, two numbers per kind, ``b`` pulled towards 1),
not an isotonic fit of its own. Measured on the held-out check half (``benchmarks/learning.py
calibrate``, fitted on 400 tune pictures: 75-160 per kind): ECE 0.052 global; own isotonic curves
0.077 (they overfit); the recalibration 0.051 (paper 0.061 -> 0.050, render 0.134 -> 0.116,
screenshot 0.106 -> 0.110) but auto-accept precision 94.7 % at 4.8 % coverage against the global
96.2 % at 6.5 %: it does not pay at that size, hence :data:`MIN_KIND_READINGS` (verdicts and
larger fits). A file without ``"kinds"`` is read as before.

The shipped fit (``benchmarks/learning.py calibrate --fit --chunks 8``: 3,200 tune pictures, 8
picture sets of 80 per condition; every kind has 450-1,300 readings, so each gets its curve),
reported on 3,200 check pictures: ECE raw 0.088 -> 0.025 (bootstrap over formulas
[0.019, 0.045]; the shipped 400-picture fit 0.039 on the same readings), auto-accept precision
97.0 % at 7.3 % coverage. Chosen on tune (5-fold cross-validation grouped by formula): the
pooled curve (block share 1-3 %) beats plain steps in log loss (0.398 vs 0.400) and ECE (0.015
vs 0.018); per-kind curves lower each kind's ECE (handwriting 0.060 -> 0.048). ECE on 400
readings is mostly noise: a perfectly calibrated confidence shows 0.035-0.044 there.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float64]
CALIBRATION_FILE = "calibration.json"
#: Bins of the expected calibration error and the reliability plot.
ECE_BINS = 10
#: A picture kind gets its own curve from this many readings, this many right and wrong each
#: (fewer did not pay: see the module docstring).
MIN_KIND_READINGS = 400
MIN_KIND_EACH = 40
#: The pull of a kind's slope ``b`` towards 1 (the global curve unchanged), and the points a
#: kind's curve is drawn through (besides the global knots).
SLOPE_PRIOR = 1.0
KIND_GRID = 64
#: Each block of the fitted curve pools at least this share of the readings (see the module
#: docstring; 1 reading below 50).
MIN_BLOCK_SHARE = 0.02


def packaged_calibration() -> Path:
    """The calibration shipped beside the packaged weights."""
    return Path(__file__).resolve().parent.parent / "weights" / CALIBRATION_FILE


def isotonic_fit(scores: Sequence[float], outcomes: Sequence[float]) -> tuple[Floats, Floats]:
    """The isotonic regression of ``outcomes`` (0/1) on ``scores``: knots ``(x, y)`` with ``x``
    increasing and ``y`` non-decreasing (pool-adjacent-violators on the sorted scores; tied
    scores are pooled first). Raises ValueError for empty or mismatched input."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if x.size == 0 or x.shape != y.shape:
        raise ValueError(f"need as many outcomes as scores (got {x.size} and {y.size})")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    ux, start = np.unique(x, return_index=True)
    sums = np.add.reduceat(y, start)
    counts = np.diff(np.append(start, x.size)).astype(np.float64)
    # blocks: [mean, weight, first index into ux, last index]
    means: list[float] = []
    weights: list[float] = []
    firsts: list[int] = []
    for i in range(ux.size):
        means.append(sums[i] / counts[i])
        weights.append(counts[i])
        firsts.append(i)
        while len(means) > 1 and means[-2] > means[-1]:
            w = weights[-2] + weights[-1]
            means[-2] = (means[-2] * weights[-2] + means[-1] * weights[-1]) / w
            weights[-2] = w
            means.pop()
            weights.pop()
            firsts.pop()
    lasts = [*firsts[1:], ux.size]
    knots_x: list[float] = []
    knots_y: list[float] = []
    for m, a, b in zip(means, firsts, lasts, strict=True):
        knots_x += [float(ux[a]), float(ux[b - 1])]
        knots_y += [m, m]
    kx, ky = np.asarray(knots_x), np.asarray(knots_y)
    keep = np.append(True, np.diff(kx) > 0) | np.append(True, np.diff(ky) != 0)
    kx, ky = kx[keep], ky[keep]
    # a knot inside a flat stretch changes nothing: keep the stretch's ends only
    inner = np.zeros(kx.size, dtype=bool)
    inner[1:-1] = (ky[1:-1] == ky[:-2]) & (ky[1:-1] == ky[2:])
    return kx[~inner], ky[~inner]


def pooled_isotonic_fit(
    scores: Sequence[float], outcomes: Sequence[float], min_block: int = 1
) -> tuple[Floats, Floats]:
    """The isotonic regression of ``outcomes`` on ``scores`` with every pooled block holding at
    least ``min_block`` readings (the smallest block is merged with its neighbour of the nearer
    mean until none is smaller), drawn through each block's (mean score, share right): a smooth
    curve, not steps, that does not chase a handful of readings. Raises ValueError for empty or
    mismatched input."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if x.size == 0 or x.shape != y.shape:
        raise ValueError(f"need as many outcomes as scores (got {x.size} and {y.size})")
    ux, inverse = np.unique(x, return_inverse=True)
    # blocks of tied scores first: [sum right, count, sum score]
    blocks = [
        [float(s), float(c), float(u) * float(c)]
        for s, c, u in zip(np.bincount(inverse, weights=y), np.bincount(inverse), ux, strict=True)
    ]
    pooled: list[list[float]] = []
    for block in blocks:
        pooled.append(block)
        while len(pooled) > 1 and pooled[-2][0] * pooled[-1][1] > pooled[-1][0] * pooled[-2][1]:
            last = pooled.pop()
            pooled[-1] = [a + b for a, b in zip(pooled[-1], last, strict=True)]
    while len(pooled) > 1:
        sizes = [b[1] for b in pooled]
        i = int(np.argmin(sizes))
        if sizes[i] >= min_block:
            break
        mean = [b[0] / b[1] for b in pooled]
        if i == 0 or (i < len(pooled) - 1 and mean[i + 1] - mean[i] < mean[i] - mean[i - 1]):
            j = i + 1
        else:
            j = i - 1
        a, b = min(i, j), max(i, j)
        pooled[a] = [u + v for u, v in zip(pooled[a], pooled[b], strict=True)]
        del pooled[b]
    kx = np.asarray([b[2] / b[1] for b in pooled])
    ky = np.asarray([b[0] / b[1] for b in pooled])
    return kx, ky


def expected_calibration_error(
    probs: Sequence[float], outcomes: Sequence[float], bins: int = ECE_BINS
) -> float:
    """ECE: the share-weighted mean |accuracy - mean probability| over equal-width bins."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if p.size == 0:
        return 0.0
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() / p.size * abs(float(y[mask].mean()) - float(p[mask].mean()))
    return total


def reliability(
    probs: Sequence[float], outcomes: Sequence[float], bins: int = ECE_BINS
) -> list[tuple[float, float, int]]:
    """Per non-empty bin: (mean probability, share right, count), for a reliability plot."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    which = np.minimum((p * bins).astype(int), bins - 1)
    return [
        (float(p[which == b].mean()), float(y[which == b].mean()), int((which == b).sum()))
        for b in range(bins)
        if (which == b).any()
    ]


def accept_threshold(
    probs: Sequence[float], outcomes: Sequence[float], precision: float = 0.95, min_count: int = 20
) -> float:
    """The lowest probability ``t`` such that readings with probability >= ``t`` are right at
    least ``precision`` of the time (at least ``min_count`` of them); 1.01 (never) when none."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    p, y = p[order], y[order]
    right = np.cumsum(y)
    n = np.arange(1, p.size + 1)
    best = 1.01
    for i in range(p.size):
        # only cut between distinct probabilities: a threshold keeps all readings tied with it
        if i + 1 < p.size and p[i + 1] == p[i]:
            continue
        if n[i] >= min_count and right[i] / n[i] >= precision:
            best = float(p[i])
    return best


@dataclass(frozen=True)
class Calibrator:
    """An isotonic curve from raw confidence to P(exactly right), for one model version."""

    model_version: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    accept_above: float = 1.01
    precision: float = 0.95
    fitted_on: dict[str, int] = field(default_factory=dict)
    fitted_at: float = 0.0
    kinds: dict[str, Calibrator] = field(default_factory=dict)

    def for_kind(self, kind: str | None) -> Calibrator:
        """The curve of picture ``kind`` when it has one, else this (the global) one."""
        return self.kinds.get(kind, self) if kind is not None else self

    def probability(self, confidence: float) -> float:
        """The calibrated probability of a raw confidence (clamped at the curve's ends)."""
        return float(np.interp(confidence, self.xs, self.ys))

    def accepts(self, probability: float) -> bool:
        return probability >= self.accept_above

    @classmethod
    def fit(
        cls,
        model_version: str,
        confidences: Sequence[float],
        outcomes: Sequence[bool],
        precision: float = 0.95,
        fitted_on: dict[str, int] | None = None,
        kinds: Sequence[str | None] | None = None,
    ) -> Calibrator:
        """The global curve of all readings and, given each reading's picture ``kinds``, a
        curve per kind with enough readings (see the module docstring)."""
        min_block = max(1, round(MIN_BLOCK_SHARE * len(outcomes)))
        xs, ys = pooled_isotonic_fit(confidences, [float(o) for o in outcomes], min_block)
        cal = cls(model_version, tuple(map(float, xs)), tuple(map(float, ys)))
        probs = [cal.probability(c) for c in confidences]
        accept = accept_threshold(probs, [float(o) for o in outcomes], precision)
        per_kind: dict[str, Calibrator] = {}
        for kind in sorted({k for k in kinds or () if k is not None}):
            assert kinds is not None
            idx = [i for i, k in enumerate(kinds) if k == kind]
            right = sum(bool(outcomes[i]) for i in idx)
            if len(idx) >= MIN_KIND_READINGS and min(right, len(idx) - right) >= MIN_KIND_EACH:
                conf = [confidences[i] for i in idx]
                curve = kind_curve(cal, conf, [bool(outcomes[i]) for i in idx], precision)
                if curve is not None:
                    # too few of a kind to find its own threshold: the global one (the curve
                    # is calibrated, so p >= it is as likely right)
                    own = curve.accept_above if curve.accept_above <= 1.0 else accept
                    per_kind[kind] = replace(curve, accept_above=own, fitted_on={kind: len(idx)})
        return cls(
            model_version,
            cal.xs,
            cal.ys,
            accept,
            precision,
            dict(fitted_on or {"readings": len(outcomes)}),
            time.time(),
            per_kind,
        )

    def save(self, path: Path) -> None:
        """Written atomically (a temporary file, then renamed)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        data = self.to_dict()
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["xs"] = [round(v, 6) for v in self.xs]
        data["ys"] = [round(v, 6) for v in self.ys]
        data["kinds"] = {k: c.to_dict() for k, c in self.kinds.items()}
        if not data["kinds"]:
            del data["kinds"]  # the format without per-kind curves, as before
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        kinds = {str(k): cls.from_dict(v) for k, v in dict(data.get("kinds", {})).items()}
        return cls(
            str(data["model_version"]),
            tuple(float(v) for v in data["xs"]),
            tuple(float(v) for v in data["ys"]),
            float(data.get("accept_above", 1.01)),
            float(data.get("precision", 0.95)),
            {str(k): int(v) for k, v in dict(data.get("fitted_on", {})).items()},
            float(data.get("fitted_at", 0.0)),
            kinds,
        )

    @classmethod
    def load(cls, path: Path, model_version: str) -> Calibrator | None:
        """The calibration in ``path`` when it was fitted for ``model_version``; None (logged)
        when the file is missing, unreadable or for another model."""
        try:
            cal = cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("calibration %s is unreadable (%s): confidence stays raw", path, exc)
            return None
        curves = [cal, *cal.kinds.values()]
        if any(len(c.xs) != len(c.ys) or not c.xs for c in curves):
            log.warning("calibration %s has no curve: confidence stays raw", path)
            return None
        if cal.model_version != model_version:
            log.info(
                "calibration %s is for model %s, not %s: confidence stays raw",
                path,
                cal.model_version,
                model_version,
            )
            return None
        return cal


def _logit(p: Floats) -> Floats:
    q = np.clip(p, 1e-3, 1.0 - 1e-3)
    return np.asarray(np.log(q / (1.0 - q)), dtype=np.float64)


def recalibration(
    scores: Floats, outcomes: Floats, prior: float = SLOPE_PRIOR
) -> tuple[float, float]:
    """``(a, b)`` of ``P(right) = sigmoid(a + b * score)`` by Newton's method (logistic
    regression, ``b`` pulled towards 1 with weight ``prior``)."""
    a, b = 0.0, 1.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(a + b * scores)))
        w = p * (1.0 - p)
        grad = np.array([np.sum(p - outcomes), np.sum((p - outcomes) * scores) + prior * (b - 1)])
        hess = np.array(
            [
                [np.sum(w) + 1e-9, np.sum(w * scores)],
                [np.sum(w * scores), np.sum(w * scores * scores) + prior + 1e-9],
            ]
        )
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if float(np.abs(step).max()) < 1e-9:
            break
    return a, b


def kind_curve(
    base: Calibrator, confidences: Sequence[float], outcomes: Sequence[bool], precision: float
) -> Calibrator | None:
    """The global curve ``base`` recalibrated on one kind's readings (see the module
    docstring), drawn through the global knots and a grid; None when it would not rise."""
    raw = np.asarray(confidences, dtype=np.float64)
    right = np.asarray(outcomes, dtype=np.float64)
    base_probs = np.interp(raw, base.xs, base.ys)
    a, b = recalibration(_logit(base_probs), right)
    if not np.isfinite([a, b]).all() or b <= 0:
        return None
    grid = np.union1d(np.asarray(base.xs), np.linspace(base.xs[0], base.xs[-1], KIND_GRID))
    ys = 1.0 / (1.0 + np.exp(-(a + b * _logit(np.interp(grid, base.xs, base.ys)))))
    curve = Calibrator(base.model_version, tuple(map(float, grid)), tuple(map(float, ys)))
    probs = [curve.probability(c) for c in confidences]
    accept = accept_threshold(probs, [float(o) for o in outcomes], precision)
    return replace(curve, accept_above=accept, precision=precision, fitted_at=time.time())
