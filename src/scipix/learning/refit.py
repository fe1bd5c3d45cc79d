"""``scipix learning calibrate``: the calibration refitted from the verdicts kept here.

A verdict is a correction of a served reading whose trajectory is kept (same scope, same model
version as the model in use): the reading was right when the correction equals it (a person
confirmed it), wrong otherwise. The refit needs ``min_verdicts`` of them with at least
:data:`MIN_EACH` of each outcome (corrections alone, all "wrong", would teach that nothing is
ever right); it is written to ``<runtime.data_dir>/calibration.json``, which the service then
prefers over the shipped one for that model version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scipix.errors import InputError
from scipix.learning.calibration import (
    CALIBRATION_FILE,
    Calibrator,
    expected_calibration_error,
)
from scipix.learning.loop import same_reading
from scipix.learning.store import LearningStore

if TYPE_CHECKING:
    from scipix.settings import Settings

MIN_EACH = 10


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
