"""Strategies for an unsure reading, and what the trajectories say each one pays.

When a single formula's calibrated confidence is below ``learning.unsure_below``, the Learn
agent asks :class:`Strategist` to try, within ``learning.strategy_budget_ms``:

- ``tta_rerank`` (``rerank.py``): a beam of 5 on the crop and of 3 on the crop scaled 1.25x
  give candidates, each scored under both views by the decoder; a linear model fitted on the
  tune half of held-out pictures (or refitted from corrections) picks one. Its choice is final
  (it weighs every candidate the strategies before it found);
- ``wide_beam``: read the formula again with twice the beam (:data:`WIDE_BEAM` at most), which
  adds hypotheses the narrow beam pruned;
- ``rerank``: render each distinct valid hypothesis (narrow and wide beam) with TeX and compare
  it with the formula's picture (:func:`similarity`); the hypothesis whose rendering looks most
  like the input is kept when it beats the model's choice by :data:`RERANK_MARGIN`.

(Another pre-processing is tried earlier, by the Recognize agent: ``pipeline/strategy.py``'s
second reading, recorded in the trajectory as the cleaning strategy.) Each try is recorded in the
request's trajectory (``tried``: name, whether it changed the reading, milliseconds), and
:class:`StrategyStats` learns from them per kind of picture: a strategy that, after
:data:`MIN_TRIES` tries on a kind, changed fewer than :data:`MIN_PAYOFF` of its readings is no
longer tried on that kind, and strategies are tried in order of payoff. ("Changed" is what a
trajectory can tell without a verdict; it is not "right".)

Measured on hard pictures (screenshot, photo, scan, handwriting) of the check half:

- ``tta_rerank`` (``benchmarks/rerank.py check --seeds 201 202 203 204``, 1,600 pictures):
  32.7 % -> 36.6 % exact (+3.9 points, paired bootstrap 95 % [+2.2, +5.6]; screenshot +5.8,
  photo +4.2, scan +3.5, handwriting +2.0), run on the 66 % read unsure, 51 ms p50 there (2-core
  machine shared with other work); end to end (``benchmarks/learning.py strategies
  --per-condition 100 --budget-ms 200``, 400 pictures): 35.0 % -> 38.8 %, +36 ms paired p50.
  So the default budget (200 ms) runs it, and not the other two (assumed to cost
  :data:`DEFAULT_COST_MS` until tried);
- ``wide_beam`` + ``rerank`` (120 pictures): 38.3 % exact without, 33.3 % with, +1.4 s p50; the
  wide beam holds the right reading among its 10 for 70 % of the tune half's formulas against
  49 % read right, but TeX renderings compared with the picture do not find it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import numpy.typing as npt

from scipix.learning.recall import Gray, correlation, ink_box
from scipix.learning.rerank import Reranker, measure
from scipix.recognition.reading import Hypothesis, Reading

if TYPE_CHECKING:
    from scipix.recognition import FormulaRecognizer

log = logging.getLogger(__name__)

STRATEGIES = ("wide_beam", "rerank", "tta_rerank")
WIDE_BEAM = 10
#: A rerank switches only when the rendering is this much more like the input (correlation).
RERANK_MARGIN = 0.05
#: Rendering size for the comparison (height, width) and its dpi.
COMPARE_SHAPE = (32, 192)
RENDER_DPI = 150
#: Aspect ratios further apart than this (log) make a candidate unlike the input.
ASPECT_PENALTY = 0.5
#: What each strategy is assumed to cost before the trajectories say (ms).
DEFAULT_COST_MS = {"tta_rerank": 80.0, "wide_beam": 400.0, "rerank": 400.0}
MIN_TRIES = 30
MIN_PAYOFF = 0.03


@dataclass(frozen=True)
class Tried:
    """One strategy tried on one reading: did it change the reading, and what it cost."""

    name: str
    changed: bool
    ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "changed": self.changed, "ms": round(self.ms, 1)}


@dataclass
class StrategyStats:
    """Per (picture kind, strategy): tries, changed readings and milliseconds spent."""

    tries: dict[tuple[str, str], int] = field(default_factory=dict)
    changed: dict[tuple[str, str], int] = field(default_factory=dict)
    ms: dict[tuple[str, str], float] = field(default_factory=dict)

    @classmethod
    def learn(cls, records: Iterable[tuple[str | None, Sequence[dict[str, Any]]]]) -> StrategyStats:
        """From (kind, tried) pairs of trajectories."""
        stats = cls()
        for kind, tried in records:
            for t in tried:
                key = (kind or "unknown", str(t.get("name")))
                stats.tries[key] = stats.tries.get(key, 0) + 1
                stats.changed[key] = stats.changed.get(key, 0) + int(bool(t.get("changed")))
                stats.ms[key] = stats.ms.get(key, 0.0) + float(t.get("ms", 0.0))
        return stats

    def payoff(self, kind: str | None, name: str) -> float:
        """The share of readings it changed (smoothed: 1 of 2 before any try)."""
        key = (kind or "unknown", name)
        return (self.changed.get(key, 0) + 1) / (self.tries.get(key, 0) + 2)

    def cost(self, kind: str | None, name: str) -> float:
        key = (kind or "unknown", name)
        n = self.tries.get(key, 0)
        return self.ms[key] / n if n else DEFAULT_COST_MS.get(name, 400.0)

    def worth_trying(self, kind: str | None, name: str) -> bool:
        key = (kind or "unknown", name)
        tries = self.tries.get(key, 0)
        return tries < MIN_TRIES or self.changed.get(key, 0) / tries >= MIN_PAYOFF

    def order(self, kind: str | None) -> list[str]:
        """The strategies worth trying on ``kind``, best payoff first (on a tie in the order of
        :data:`STRATEGIES`: rerank then sees the wide beam's hypotheses, tta_rerank both's)."""
        found = [s for s in STRATEGIES if self.worth_trying(kind, s)]
        return sorted(found, key=lambda s: -self.payoff(kind, s))

    def table(self) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind,
                "strategy": name,
                "tries": n,
                "changed": self.changed.get((kind, name), 0),
                "mean_ms": round(self.ms.get((kind, name), 0.0) / max(n, 1), 1),
            }
            for (kind, name), n in sorted(self.tries.items())
        ]


def ink_image(gray: Gray) -> tuple[npt.NDArray[np.float32], float] | None:
    """The ink (1 = black) cropped and scaled to :data:`COMPARE_SHAPE`, and its aspect ratio."""
    box = ink_box(gray)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    ink = 1.0 - gray[y0:y1, x0:x1].astype(np.float32) / 255.0
    h, w = COMPARE_SHAPE
    small = cv2.GaussianBlur(cv2.resize(ink, (w, h), interpolation=cv2.INTER_AREA), (5, 5), 0)
    return small.astype(np.float32), (x1 - x0) / max(y1 - y0, 1)


def similarity(picture: Gray, rendering: Gray) -> float:
    """How much a rendering looks like the picture: the correlation of their ink scaled to one
    size, less a penalty for aspect ratios far apart."""
    a, b = ink_image(picture), ink_image(rendering)
    if a is None or b is None:
        return -1.0
    gap = abs(float(np.log(a[1] / b[1])))
    return correlation(a[0], b[0]) - max(0.0, gap - ASPECT_PENALTY)


class Strategist:
    """Tries strategies on an unsure single formula (see the module docstring)."""

    def __init__(
        self,
        formula: Callable[[], FormulaRecognizer],
        budget_ms: float,
        weights: Path | None = None,
    ) -> None:
        """``weights``: a reranker refitted from verdicts (``scipix learning rerank``),
        preferred to the shipped one when it was fitted for the model in use."""
        self.formula = formula
        self.budget_ms = budget_ms
        self.weights = weights
        self._renderer: Any = None
        self._reranker: Reranker | None = None
        self._reranker_loaded = False

    def renderer(self) -> Any:
        """The TeX renderer (None when TeX is not installed: no rerank)."""
        if self._renderer is None:
            from scipix.training.render import TexRenderer, tex_available

            self._renderer = TexRenderer("cm") if tex_available() else False
        return self._renderer or None

    def improve(
        self,
        picture: Gray,
        reading: Reading,
        order: Sequence[str],
        stats: StrategyStats,
        kind: str | None,
        beam_width: int,
    ) -> tuple[Reading, list[Tried]]:
        """The best reading the strategies in ``order`` find within the budget, and the tries."""
        start = time.perf_counter()
        tried: list[Tried] = []
        pool = reading
        for name in order:
            spent = (time.perf_counter() - start) * 1000.0
            if spent + stats.cost(kind, name) > self.budget_ms:
                continue
            t0 = time.perf_counter()
            if name == "tta_rerank":
                pool, changed = self.tta_rerank(picture, pool, kind)
            elif name == "wide_beam":
                pool, changed = self.wide_beam(picture, pool, beam_width)
            else:
                pool, changed = self.rerank(picture, pool)
            tried.append(Tried(name, changed, (time.perf_counter() - t0) * 1000.0))
            if name == "tta_rerank":
                break  # its choice is final: it weighed every candidate found so far
        return pool, tried

    def reranker(self) -> Reranker | None:
        """The learned reranker (refitted here, else shipped) fitted for this model, or None."""
        if not self._reranker_loaded:
            version = self.formula().version
            found = Reranker.load(self.weights, version) if self.weights is not None else None
            self._reranker = found or Reranker.load(None, version)
            self._reranker_loaded = True
            if self._reranker is None:
                log.info("no learned reranker for model %s", self.formula().version)
        return self._reranker

    def tta_rerank(self, picture: Gray, reading: Reading, kind: str | None) -> tuple[Reading, bool]:
        """The candidate the learned reranker prefers (``rerank.py``)."""
        reranker = self.reranker()
        if reranker is None:
            return reading, False
        try:
            measured = measure(self.formula(), picture, reading, kind)
        except Exception as exc:  # a strategy must never fail the request
            log.warning("tta rerank failed: %r", exc)
            return reading, False
        pick = reranker.choose(measured)
        if pick == measured.chosen:
            return reading, False
        return Reading(tuple(measured.candidates), pick, reading.handwritten), True

    def wide_beam(self, picture: Gray, reading: Reading, beam_width: int) -> tuple[Reading, bool]:
        """The hypotheses of a wider beam added to the reading's (the model's choice is the
        wide beam's when it scores better)."""
        width = max(WIDE_BEAM, beam_width * 2)
        try:
            wide = self.formula().recognize([picture], beam_width=width, n_best=width)[0]
        except Exception as exc:  # a strategy must never fail the request
            log.warning("wide beam failed: %r", exc)
            return reading, False
        merged = merge(reading, wide)
        return merged, merged.latex != reading.latex

    def rerank(self, picture: Gray, reading: Reading) -> tuple[Reading, bool]:
        """The valid hypothesis whose TeX rendering is most like the picture."""
        renderer = self.renderer()
        if renderer is None:
            return reading, False
        options = [i for i, h in enumerate(reading.hypotheses) if h.valid]
        if len(options) < 2:
            return reading, False
        outcomes = renderer.render([reading.hypotheses[i].latex for i in options], RENDER_DPI)
        scores = {
            i: similarity(picture, o.image) if o.image is not None else -1.0
            for i, o in zip(options, outcomes, strict=True)
        }
        best = max(scores, key=lambda i: scores[i])
        current = scores.get(reading.chosen, -1.0)
        if best == reading.chosen or scores[best] < current + RERANK_MARGIN:
            return reading, False
        return Reading(reading.hypotheses, best, reading.handwritten), True


def merge(first: Reading, second: Reading) -> Reading:
    """Both readings' hypotheses, each LaTeX once (the better score kept), by score; the chosen
    one is the first valid one (else the first), as the recognizer decides."""
    best: dict[str, Hypothesis] = {}
    for h in (*first.hypotheses, *second.hypotheses):
        if h.latex not in best or h.score > best[h.latex].score:
            best[h.latex] = h
    hyps = tuple(sorted(best.values(), key=lambda h: -h.score))
    chosen = next((i for i, h in enumerate(hyps) if h.valid), 0)
    return Reading(hyps, chosen, first.handwritten)
