"""Fitting the picture-kind classifier: the regression separates kinds, and what is written is
what the product loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scipix.imaging.picture import FEATURES, KINDS, PictureClassifier, expand

pytest.importorskip("scipy", reason="fitting needs scipy ([train] extra)")


def blobs(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Four kinds, each a cloud of positive feature vectors around its own centre."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).uniform(0.2, 1.0, size=(len(KINDS), len(FEATURES)))
    y = np.repeat(np.arange(len(KINDS)), n)
    x = np.abs(centres[y] + rng.normal(0.0, 0.05, size=(len(y), len(FEATURES))))
    return x, y


def test_the_regression_separates_the_kinds(tmp_path: Path) -> None:
    from scipix.training.classifier import ClassifierReport, fit_softmax

    x, y = blobs(1)
    wide = expand(x)
    mean, scale = wide.mean(axis=0), wide.std(axis=0) + 1e-6
    weights, bias = fit_softmax((wide - mean) / scale, y, len(KINDS))
    classifier = PictureClassifier(mean, scale, weights, bias)
    test_x, test_y = blobs(2)
    said = [int(np.argmax(classifier.probabilities(row))) for row in test_x]
    assert np.mean(np.array(said) == test_y) > 0.95
    matrix = np.eye(len(KINDS), dtype=np.int64) * 10
    path = tmp_path / "picture.json"
    ClassifierReport(classifier, matrix, matrix).write(path)
    loaded = PictureClassifier.load(path)
    assert np.allclose(loaded.probabilities(test_x[0]), classifier.probabilities(test_x[0]))
