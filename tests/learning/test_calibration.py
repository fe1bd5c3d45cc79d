"""Calibration: the isotonic fit is monotone and makes confidence honest on real readings; a
calibration is used only for the model version it was fitted for."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scipix.learning import same_reading
from scipix.learning.calibration import (
    Calibrator,
    accept_threshold,
    expected_calibration_error,
    isotonic_fit,
    packaged_calibration,
    pooled_isotonic_fit,
)
from scipix.service import Scipix

from .conftest import png, render

#: Formulas the model reads right and wrong (a mix, so that the split is a real one).
FORMULAS = (
    "a+b",
    r"x^{2}+y^{2}=z^{2}",
    r"\frac{1}{2}",
    r"\sum_{i=1}^{n}i",
    r"\alpha\beta\gamma",
    r"\mathbf{A}\mathbf{x}=\mathbf{b}",
    r"\hat{\theta}_{k}",
    r"\prod_{k=1}^{m}(1-q^{k})",
)


def test_pav_is_monotone_and_pools_violators() -> None:
    xs, ys = isotonic_fit([0.1, 0.2, 0.3, 0.4, 0.5], [0, 1, 0, 1, 1])
    assert np.all(np.diff(xs) >= 0) and np.all(np.diff(ys) >= 0)
    cal = Calibrator("m", tuple(xs), tuple(ys))
    assert cal.probability(0.1) == 0.0
    assert cal.probability(0.25) == pytest.approx(0.5)  # 0.2 and 0.3 pooled: one right of two
    assert cal.probability(0.5) == 1.0
    rng = np.random.default_rng(3)
    scores = rng.random(500)
    outcomes = rng.random(500) < scores**2
    xs, ys = isotonic_fit(scores, outcomes)
    assert np.all(np.diff(ys) >= 0)
    with pytest.raises(ValueError):
        isotonic_fit([], [])


def test_pooled_blocks_hold_enough_readings_and_smooth_the_curve() -> None:
    xs, ys = pooled_isotonic_fit([0.1, 0.2, 0.3, 0.4, 0.5], [0, 1, 0, 1, 1])
    # the violators 0.2 and 0.3 pooled, each block drawn through its mean score
    assert xs.tolist() == pytest.approx([0.1, 0.25, 0.4, 0.5])
    assert ys.tolist() == pytest.approx([0.0, 0.5, 1.0, 1.0])
    xs, ys = pooled_isotonic_fit([0.1, 0.2, 0.3, 0.4, 0.5], [0, 1, 0, 1, 1], min_block=2)
    # {0.1} joins its only neighbour, {0.4} the one of the nearer mean
    assert xs.tolist() == pytest.approx([0.2, 0.45])
    assert ys.tolist() == pytest.approx([1 / 3, 1.0])
    rng = np.random.default_rng(3)
    scores = rng.random(2000)
    outcomes = rng.random(2000) < scores**2
    steps = isotonic_fit(scores, outcomes)
    xs, ys = pooled_isotonic_fit(scores, outcomes, 40)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) >= 0)
    assert 3 <= xs.size <= 2000 // 40
    fresh = rng.random(4000)
    truth = fresh**2
    # closer to the true curve than the steps it pools (fewer, larger blocks: less noise)
    assert (
        np.abs(np.interp(fresh, xs, ys) - truth).mean()
        < np.abs(np.interp(fresh, *steps) - truth).mean()
    )
    with pytest.raises(ValueError):
        pooled_isotonic_fit([0.5], [])


def test_the_accept_threshold_keeps_its_precision() -> None:
    probs = np.linspace(0, 1, 200)
    right = (np.arange(200) % 10 != 0) & (probs > 0.5)  # above 0.5: 9 of 10 right
    right[probs > 0.8] = True
    t = accept_threshold(probs, right, 0.95)
    kept = right[probs >= t]
    assert kept.mean() >= 0.95 and 0.5 < t <= 0.85
    assert accept_threshold([0.9, 0.8], [0, 0], 0.95) > 1.0  # never precise enough: never


def test_calibration_makes_real_readings_honest(service: Scipix, tmp_path: Path) -> None:
    raw, right = [], []
    for latex in FORMULAS:
        for dpi in (110, 220):
            result = service.recognize(png(render(latex, dpi)))
            value = result.confidence_raw if result.confidence_raw is not None else None
            raw.append(value if value is not None else (result.confidence or 0.0))
            right.append(same_reading(result.latex or "", latex))
    assert 0 < sum(right) < len(right), "the split must hold right and wrong readings"
    cal = Calibrator.fit("test-model", raw, right, 0.95)
    probs = [cal.probability(c) for c in raw]
    assert all(np.diff([cal.probability(c) for c in sorted(raw)]) >= 0)  # monotone
    assert expected_calibration_error(probs, right) < expected_calibration_error(raw, right)
    cal.save(tmp_path / "calibration.json")
    loaded = Calibrator.load(tmp_path / "calibration.json", "test-model")
    assert loaded is not None and loaded.accept_above == cal.accept_above
    assert all(abs(loaded.probability(c) - p) < 1e-5 for c, p in zip(raw, probs, strict=True))
    assert Calibrator.load(tmp_path / "calibration.json", "another-model") is None


def test_the_shipped_calibration_is_for_the_shipped_model(service: Scipix) -> None:
    data = json.loads(packaged_calibration().read_text(encoding="utf-8"))
    assert data["model_version"] == service.version
    result = service.recognize(png(render(r"x^{2}+1")))
    assert result.confidence_raw is not None and result.auto_accept is not None
    shipped = Calibrator.load(packaged_calibration(), service.version)
    assert shipped is not None
    cal = shipped.for_kind(result.preprocessing.kind if result.preprocessing else None)
    assert result.confidence == pytest.approx(cal.probability(result.confidence_raw), abs=1e-6)
    assert result.auto_accept == (result.confidence >= cal.accept_above)


def test_a_kind_with_enough_readings_gets_its_own_curve(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    raw = rng.random(1400)
    kinds = np.array(["render"] * 700 + ["paper"] * 600 + ["handwriting"] * 100)
    # the same raw confidence is worth more on a render than on a photo
    chance = np.where(kinds == "render", np.sqrt(raw), raw**3)
    right = rng.random(1400) < chance
    cal = Calibrator.fit("m", list(raw), list(right), 0.95, None, list(kinds))
    assert sorted(cal.kinds) == ["paper", "render"]  # handwriting: too few readings
    assert cal.for_kind("handwriting") is cal and cal.for_kind(None) is cal
    assert cal.for_kind("render").probability(0.5) > cal.probability(0.5)
    assert cal.for_kind("paper").probability(0.5) < cal.probability(0.5)
    fresh = rng.random(2000)
    fresh_kinds = np.where(rng.random(2000) < 0.5, "render", "paper")
    fresh_right = rng.random(2000) < np.where(fresh_kinds == "render", np.sqrt(fresh), fresh**3)
    for kind in ("render", "paper"):  # each kind's ECE on fresh readings: much lower
        mask = fresh_kinds == kind
        own = [cal.for_kind(kind).probability(c) for c in fresh[mask]]
        glob = [cal.probability(c) for c in fresh[mask]]
        ece_own = expected_calibration_error(own, fresh_right[mask])
        assert ece_own < 0.6 * expected_calibration_error(glob, fresh_right[mask]), kind
    cal.save(tmp_path / "calibration.json")
    loaded = Calibrator.load(tmp_path / "calibration.json", "m")
    assert loaded is not None and sorted(loaded.kinds) == ["paper", "render"]
    assert loaded.for_kind("render").probability(0.3) == pytest.approx(
        cal.for_kind("render").probability(0.3), abs=1e-5
    )
    assert loaded.for_kind("paper").accept_above == cal.for_kind("paper").accept_above


def test_a_file_without_kinds_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"model_version": "m", "xs": [0.0, 1.0], "ys": [0.1, 0.9]}))
    cal = Calibrator.load(path, "m")
    assert cal is not None and cal.kinds == {} and cal.for_kind("render") is cal
    assert cal.probability(0.5) == pytest.approx(0.5)
    Calibrator.fit("m", [0.1, 0.9], [False, True]).save(path)
    assert "kinds" not in json.loads(path.read_text())  # no per-kind curves: the old format


def test_results_use_their_kinds_curve(service: Scipix) -> None:
    assert service.learning is not None
    version = service.version
    flat = Calibrator(version, (0.0, 1.0), (0.2, 0.2), accept_above=1.01)
    kind_curve = Calibrator(version, (0.0, 1.0), (0.6, 0.6), accept_above=0.5)
    with_kind = Calibrator(version, flat.xs, flat.ys, 1.01, kinds={"render": kind_curve})
    path = service.learning.calibration_path
    with_kind.save(path)
    service.learning.reload_calibration()
    try:
        result = service.recognize(png(render(r"a+b")))
        assert result.preprocessing is not None and result.preprocessing.kind == "render"
        assert result.confidence == pytest.approx(0.6) and result.auto_accept is True
    finally:
        path.unlink()
        service.learning.reload_calibration()
