"""The Learn agent: between Generate and Validate, what the learning loop does to each request.

1. *Correction memory*: when the caller's scope has corrections, an input with the hash of a
   corrected one, or a cleaned page near-identical to one (``learning/recall.py``), is answered
   with the corrected LaTeX (``corrected: true``, ``confidence`` 1, ``auto_accept``).
2. *Strategies*: a single formula whose calibrated confidence is below ``unsure_below`` is
   given to the :class:`~scipix.learning.strategies.Strategist` (within the budget); when it
   changes the reading, the result is generated again.
3. *Calibration*: ``confidence`` becomes the probability that the reading is exactly right
   (``confidence_raw`` keeps the recognizer's), with ``auto_accept``; without a calibration for
   this model the confidence stays raw and neither field is set.
4. *Trajectory*: the request is recorded (input hash, strategy, n-best, choice, latency,
   model version, scope).

A failure of the learning loop itself (a locked database) never fails the request: it is
logged and the result goes on as generated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from scipix.errors import ImageNoContentError, LatexError, StoreError
from scipix.latex import model_tokens
from scipix.learning.loop import SAME_OPTIONS, LearningLoop
from scipix.learning.recall import upright
from scipix.learning.rerank import WEIGHTS_FILE
from scipix.learning.store import Correction, Trajectory
from scipix.learning.strategies import Strategist, StrategyStats, Tried
from scipix.pipeline.generate import GenerateAgent
from scipix.pipeline.job import Job
from scipix.recognition.reading import Hypothesis, Reading
from scipix.schema import Result

if TYPE_CHECKING:
    from scipix.recognition import FormulaRecognizer
    from scipix.settings.model import LearningSettings

log = logging.getLogger(__name__)

#: Trajectories read to learn what strategies pay (the newest).
STATS_WINDOW = 5000
#: The strategy statistics are learned again after this many requests.
STATS_EVERY = 200


def corrected_reading(latex: str, handwritten: float | None) -> Reading:
    """A reading that is the corrected LaTeX, certain."""
    try:
        tokens = tuple(model_tokens(latex, SAME_OPTIONS))
    except LatexError:
        tokens = tuple(latex.split())
    hyp = Hypothesis(latex, tokens, 0.0, (1.0,) * max(len(tokens), 1), True)
    return Reading((hyp,), 0, handwritten)


class LearnAgent:
    """See the module docstring."""

    name = "learn"

    def __init__(self, loop: LearningLoop, formula: Callable[[], FormulaRecognizer]) -> None:
        self.loop = loop
        self.generate = GenerateAgent()
        settings: LearningSettings = loop.settings
        self.strategist = (
            Strategist(formula, settings.strategy_budget_ms, loop.data_dir / WEIGHTS_FILE)
            if settings.strategy_budget_ms > 0
            else None
        )
        self._stats: StrategyStats | None = None
        self._since_stats = 0

    def process(self, job: Job) -> Job:
        if job.result is None or job.prep is None:
            raise ImageNoContentError("Image has no content")
        started = time.perf_counter()
        scope = self.loop.scope_of(job.scope)
        raw = job.result.confidence or 0.0
        tried: list[Tried] = []
        correction = self.recall(job, scope)
        if correction is not None:
            self.answer_with(job, correction)
        elif self.strategist is not None and self.unsure(job, raw):
            tried = self.try_strategies(job)
        self.calibrate(job)
        spent = sum(job.timings.values()) + (time.perf_counter() - started) * 1000.0
        self.record(job, scope, tried, spent, correction)
        return job

    # -- correction memory ---------------------------------------------------------------------

    def recall(self, job: Job, scope: str) -> Correction | None:
        """The correction that answers this single formula, if any (a correction is of one
        formula: a page of several is read as it is)."""
        prep, layout = job.prep, job.layout
        assert prep is not None
        if layout is None or not layout.single_formula or not job.readings:
            return None
        try:
            turned = prep.rotation + (180 if job.flipped else 0)
            return self.loop.find_correction(scope, prep.page.hash, upright(prep.page.gray, turned))
        except (StoreError, ImageNoContentError) as exc:
            log.warning("correction memory unavailable: %s", exc)
            return None

    def answer_with(self, job: Job, correction: Correction) -> None:
        layout = job.layout
        assert layout is not None and job.result is not None  # recall: one formula
        handwritten = next((r.handwritten for r in job.readings.values()), None)
        job.readings = {layout.regions[0].index: corrected_reading(correction.latex, handwritten)}
        self.generate.process(job)
        job.result.corrected = True

    # -- strategies ----------------------------------------------------------------------------

    def unsure(self, job: Job, raw: float) -> bool:
        layout = job.layout
        if layout is None or not layout.single_formula or not job.readings:
            return False
        calibrator = self.loop.calibrator(job.version or "")
        if calibrator is not None:
            calibrator = calibrator.for_kind(picture_kind(job))
        probability = calibrator.probability(raw) if calibrator is not None else raw
        settings: LearningSettings = self.loop.settings
        return probability < settings.unsure_below

    def stats(self) -> StrategyStats:
        self._since_stats += 1
        if self._stats is None or self._since_stats >= STATS_EVERY:
            self._since_stats = 0
            try:
                records = [(t.kind, t.tried) for t in self.loop.store.trajectories(STATS_WINDOW)]
            except StoreError:
                records = []
            self._stats = StrategyStats.learn(records)
        return self._stats

    def try_strategies(self, job: Job) -> list[Tried]:
        assert self.strategist is not None and job.prep is not None and job.layout is not None
        region = job.layout.regions[0]
        x0, y0, x1, y1 = region.box
        picture = job.prep.page.gray[y0:y1, x0:x1]
        kind = job.cleaning.kind if job.cleaning is not None else None
        stats = self.stats()
        reading = job.readings[region.index]
        width = job.options.beam_width or 1
        better, tried = self.strategist.improve(
            picture, reading, stats.order(kind), stats, kind, width
        )
        if better.latex != reading.latex:
            job.readings = {region.index: better}
            self.generate.process(job)
        return tried

    # -- calibration and trajectory ------------------------------------------------------------

    def calibrate(self, job: Job) -> None:
        result = job.result
        assert result is not None
        if result.corrected:  # a person's reading: accepted as it is
            result.auto_accept = True
            return
        calibrator = self.loop.calibrator(job.version or "")
        if calibrator is None or result.confidence is None:
            return
        calibrator = calibrator.for_kind(picture_kind(job))
        result.confidence_raw = result.confidence
        result.confidence = round(calibrator.probability(result.confidence), 6)
        result.auto_accept = calibrator.accepts(result.confidence)

    def record(
        self,
        job: Job,
        scope: str,
        tried: list[Tried],
        latency_ms: float,
        correction: Correction | None,
    ) -> None:
        result, prep = job.result, job.prep
        assert result is not None and prep is not None
        trajectory = Trajectory(
            request_id=result.request_id,
            scope=scope,
            input_hash=prep.page.hash,
            model_version=job.version or "",
            kind=job.cleaning.kind if job.cleaning is not None else None,
            strategy=strategy_name(job),
            tried=tuple(t.to_dict() for t in tried),
            nbest=nbest(job),
            chosen=chosen_text(result),
            raw_confidence=raw_confidence(result),
            confidence=float(result.confidence or 0.0),
            latency_ms=latency_ms,
            source="correction" if correction is not None else "model",
        )
        try:
            self.loop.store.record(trajectory)
        except StoreError as exc:
            log.warning("trajectory of %s not recorded: %s", result.request_id, exc)


def picture_kind(job: Job) -> str | None:
    """The classifier's kind of the picture (auto pre-processing), None when unknown."""
    return job.cleaning.kind if job.cleaning is not None else None


def strategy_name(job: Job) -> str:
    """The cleaning strategy kept, and ``+second`` when a second reading was made."""
    if job.cleaning is None:
        return "manual"
    return job.cleaning.strategy + ("+second" if job.cleaning.second_reading else "")


def nbest(job: Job) -> tuple[tuple[str, float, float, float, bool], ...]:
    """The n-best of the first math region, in beam order."""
    if not job.readings:
        return ()
    reading = job.readings[min(job.readings)]
    return tuple(
        (h.latex, round(h.score, 5), round(h.confidence, 5), round(h.confidence_rate, 5), h.valid)
        for h in reading.hypotheses
    )


def chosen_text(result: Result) -> str:
    return result.latex if result.latex is not None else (result.text or "")


def raw_confidence(result: Result) -> float:
    value = result.confidence_raw if result.confidence_raw is not None else result.confidence
    return float(value or 0.0)
