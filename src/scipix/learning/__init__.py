"""The learning loop (ReasoningBank): the OCR gets better from what happens to its readings.

- Every recognition leaves a :class:`~scipix.learning.store.Trajectory` (input hash, strategy,
  n-best with scores, the reading served, latency, model version, scope) in
  ``<runtime.data_dir>/learning.sqlite3`` (bounded by ``learning.max_trajectories``).
- Corrections (``POST /v3/corrections``, the web page, ``scipix correct IMAGE LATEX``) are
  verdicts, scoped per API key by default; invalid LaTeX is refused (``math_syntax``).
- :mod:`~scipix.learning.recall`: an image near-identical to a corrected one gets the
  correction (``corrected: true``).
- :mod:`~scipix.learning.calibration`: ``confidence`` is the probability that the reading is
  exactly right (isotonic, fitted on held-out data, refitted from verdicts by
  ``scipix learning calibrate``), with ``auto_accept`` at precision >= 0.95; ``confidence_raw``
  keeps the recognizer's own.
- :mod:`~scipix.learning.strategies`: an unsure formula's n-best is re-ranked by a learned
  model (:mod:`~scipix.learning.rerank`), and with a larger budget read with a wider beam and
  re-ranked by rendering, within ``learning.strategy_budget_ms``; what pays per kind of picture
  is learned from the trajectories.
- :mod:`~scipix.learning.export`: ``scipix learning export --out pairs/`` writes corrections as
  a paired set that ``scipix train --pairs pairs/`` mixes in.

:class:`~scipix.learning.loop.LearningLoop` is what the service owns;
:class:`~scipix.learning.agent.LearnAgent` is the pipeline stage between Generate and Validate.
"""

from __future__ import annotations

from scipix.learning.calibration import Calibrator, expected_calibration_error, isotonic_fit
from scipix.learning.loop import LOCAL_SCOPE, LearningLoop, checked_latex, same_reading
from scipix.learning.store import Correction, LearningStore, Trajectory

__all__ = [
    "LOCAL_SCOPE",
    "Calibrator",
    "Correction",
    "LearningLoop",
    "LearningStore",
    "Trajectory",
    "checked_latex",
    "expected_calibration_error",
    "isotonic_fit",
    "same_reading",
]
