"""Verdicts refit the calibration (``scipix learning calibrate``); the CLI refuses bad LaTeX."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scipix.errors import InputError
from scipix.learning.loop import LearningLoop
from scipix.learning.refit import refit_from_verdicts, verdicts
from scipix.learning.store import Correction, LearningStore, Trajectory
from scipix.service import Scipix
from scipix.settings import Settings


def served(store: LearningStore, i: int, confidence: float, version: str) -> None:
    store.record(
        Trajectory(
            request_id=f"r{i}",
            scope="k",
            input_hash=f"{i:064d}",
            model_version=version,
            kind="render",
            strategy="plain",
            tried=(),
            nbest=(("x^{2}", -0.1, confidence, confidence, True),),
            chosen="x^{2}",
            raw_confidence=confidence,
            confidence=confidence,
            latency_ms=10.0,
        )
    )


def test_verdicts_refit_the_calibration_the_service_then_prefers(
    service: Scipix, tmp_path: Path
) -> None:
    settings = Settings(runtime={"data_dir": tmp_path})  # type: ignore[arg-type]
    store = LearningStore.in_dir(tmp_path)
    version = service.version
    for i in range(60):  # confident readings confirmed, unsure ones corrected
        confidence = 0.4 + 0.01 * i
        served(store, i, confidence, version)
        latex = "x^{2}" if confidence > 0.7 else "x^{3}"
        store.add_correction(Correction(0, "k", latex, 0.0, request_id=f"r{i}"))
    confidences, right = verdicts(store, version)
    assert len(right) == 60 and sum(right) == 29 and min(confidences) == pytest.approx(0.4)
    assert verdicts(store, "another-model") == ([], [])
    store.close()
    with pytest.raises(InputError):
        refit_from_verdicts(settings, min_verdicts=100)
    report = refit_from_verdicts(settings, min_verdicts=50)
    assert report["verdicts"] == 60 and report["ece_fitted"] <= report["ece_raw"]
    loop = LearningLoop(settings.learning, tmp_path, service.formula_recognizer, lambda: None)
    cal = loop.calibrator(version)
    assert cal is not None and cal.fitted_on == {"verdicts": 60}
    assert cal.probability(0.95) == 1.0 and cal.probability(0.45) == 0.0


def test_the_cli_refuses_invalid_latex_before_reading_the_image(tmp_path: Path) -> None:
    image = tmp_path / "x.png"
    image.write_bytes(b"not read")
    run = subprocess.run(
        [sys.executable, "-m", "scipix", "correct", str(image), r"\frac{1}{"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2 and "math_syntax" in run.stderr
