"""``scipix learning calibrate`` and ``rerank``: the calibration and the n-best reranker
refitted from the verdicts kept here.

A verdict is a correction of a served reading whose trajectory is kept (same scope, same model
version as the model in use): the reading was right when the correction equals it (a person
confirmed it), wrong otherwise. The refit needs ``min_verdicts`` of them with at least
:data:`MIN_EACH` of each outcome (corrections alone, all "wrong", would teach that nothing is
ever right); it is written to ``<runtime.data_dir>/calibration.json``, which the service then
prefers over the shipped one for that model version.

The reranker (``learning/rerank.py``) learns from every correction that kept its image (the
cleaned page): the page is read and measured again as the strategy would (the whole page as the
crop: a correction is of one formula), and the candidate equal to the corrected LaTeX is the
right one (a correction whose LaTeX no candidate matches teaches nothing). The shipped weights are
the prior: the fit's ridge pulls towards them, so a few verdicts move them a little. It is written
to ``<runtime.data_dir>/rerank.json``, preferred by the strategy for that model version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from scipix.errors import InputError, ScipixError
from scipix.learning.calibration import (
    CALIBRATION_FILE,
    Calibrator,
    expected_calibration_error,
)
from scipix.learning.loop import same_reading
from scipix.learning.rerank import (
    WEIGHTS_FILE,
    Item,
    Reranker,
    features,
    fit,
    measure,
    packaged_weights,
)
from scipix.learning.store import LearningStore

if TYPE_CHECKING:
    from scipix.recognition import FormulaRecognizer
    from scipix.settings import Settings

MIN_EACH = 10
#: The reranker refit's ridge towards the shipped weights (standardized features).
RERANK_RIDGE = 10.0


def verdicts(
    store: LearningStore, version: str, kinds: list[str | None] | None = None
) -> tuple[list[float], list[bool]]:
    """(raw confidence, right) of each correction of a kept trajectory of model ``version``;
    ``kinds``, when given, gets each one's picture kind."""
    confidences: list[float] = []
    right: list[bool] = []
    for c in store.corrections(with_images=False):
        if c.request_id is None:
            continue
        t = store.trajectory(c.request_id)
        if t is None or t.scope != c.scope or t.model_version != version or t.source != "model":
            continue
        confidences.append(t.raw_confidence)
        right.append(same_reading(c.latex, t.chosen))
        if kinds is not None:
            kinds.append(t.kind)
    return confidences, right


def refit_from_verdicts(settings: Settings, min_verdicts: int = 50) -> dict[str, Any]:
    """Fit and write the calibration (see the module docstring); InputError when there are too
    few verdicts."""
    from scipix.recognition import FormulaRecognizer

    version = FormulaRecognizer.load(settings.ocr.model_dir).version
    store = LearningStore.in_dir(settings.runtime.data_dir, settings.learning.max_trajectories)
    try:
        kinds: list[str | None] = []
        confidences, right = verdicts(store, version, kinds)
    finally:
        store.close()
    n_right = sum(right)
    if len(right) < min_verdicts or min(n_right, len(right) - n_right) < MIN_EACH:
        raise InputError(
            f"{len(right)} verdicts on model {version} ({n_right} confirmed, "
            f"{len(right) - n_right} corrected): need {min_verdicts} with at least {MIN_EACH} of "
            "each; the shipped calibration stays in use"
        )
    cal = Calibrator.fit(
        version, confidences, right, settings.learning.precision, {"verdicts": len(right)}, kinds
    )
    path = settings.runtime.data_dir / CALIBRATION_FILE
    cal.save(path)
    probs = [cal.for_kind(k).probability(c) for c, k in zip(confidences, kinds, strict=True)]
    return {
        "path": str(path),
        "model_version": version,
        "verdicts": len(right),
        "ece_raw": round(expected_calibration_error(confidences, right), 4),
        "ece_fitted": round(expected_calibration_error(probs, right), 4),
        "accept_above": cal.accept_above,
    }


def rerank_items(store: LearningStore, rec: FormulaRecognizer) -> list[Item]:
    """A training item per correction with an image whose candidates hold its LaTeX."""
    items: list[Item] = []
    for c in store.corrections():
        if c.image is None:
            continue
        decoded = cv2.imdecode(np.frombuffer(c.image, np.uint8), cv2.IMREAD_GRAYSCALE)
        if decoded is None:
            continue
        page = np.asarray(decoded, np.uint8)
        trajectory = store.trajectory(c.request_id) if c.request_id else None
        kind = trajectory.kind if trajectory is not None else None
        try:
            m = measure(rec, page, rec.recognize([page])[0], kind)
        except ScipixError:
            continue
        right = np.array([same_reading(h.latex, c.latex) for h in m.candidates], np.float64)
        if right.any() and len(m.candidates) > 1:
            items.append((features(m), right, m.chosen))
    return items


def refit_reranker(
    settings: Settings, min_verdicts: int = 30, ridge: float = RERANK_RIDGE
) -> dict[str, Any]:
    """Refit and write the n-best reranker (see the module docstring); InputError without a
    shipped one for this model or with too few usable verdicts."""
    from scipix.recognition import FormulaRecognizer

    rec = FormulaRecognizer.load(settings.ocr.model_dir)
    shipped = Reranker.load(packaged_weights(), rec.version)
    if shipped is None:
        raise InputError(f"no shipped reranker for model {rec.version}: nothing to refit")
    store = LearningStore.in_dir(settings.runtime.data_dir, settings.learning.max_trajectories)
    try:
        items = rerank_items(store, rec)
    finally:
        store.close()
    if len(items) < min_verdicts:
        raise InputError(
            f"{len(items)} corrections whose reading the n-best holds (model {rec.version}): "
            f"need {min_verdicts}; the shipped reranker stays in use"
        )
    w, mean, scale = fit(items, ridge, shipped)
    refit = Reranker(rec.version, w, mean, scale, shipped.margin, {"verdicts": len(items)})
    path = settings.runtime.data_dir / WEIGHTS_FILE
    refit.save(path)

    def right_share(model: Reranker) -> float:
        picks = [model.pick(x, chosen) for x, _, chosen in items]
        return round(float(np.mean([it[1][p] for it, p in zip(items, picks, strict=True)])), 4)

    return {
        "path": str(path),
        "model_version": rec.version,
        "verdicts": len(items),
        "right_shipped": right_share(shipped),
        "right_refit": right_share(refit),
    }
