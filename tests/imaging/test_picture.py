"""The picture-kind classifier and the cleaning strategies, on pictures made on the fly: clean
renders, screenshots, photos and scans made by the data engine's degradations, pen strokes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.drawing import formula
from scipix.imaging.cleaning import clean, estimate_background, flatten_illumination
from scipix.imaging.picture import FEATURES, KINDS, PictureClassifier, picture_features
from scipix.training.picture import photograph, scan, screenshot

FORMULAS = [r"\int_0^1 x^2\,dx = \frac{1}{3}", r"a^2+b^2=c^2", r"y = \log_2(p) - q"]


def pen_strokes(seed: int) -> np.ndarray:
    """Handwriting-like strokes: smooth curves of one width, anti-aliased, on white."""
    rng = np.random.default_rng(seed)
    img = np.full((200, 320), 255, np.uint8)
    t = np.linspace(0, 1, 40)
    for k in range(6):
        x = 20 + 48 * k + 30 * t + 8 * np.sin(6 * t + rng.uniform(0, 3))
        y = 100 + rng.uniform(-15, 15) + 40 * np.sin(np.pi * t * rng.uniform(1, 2))
        cv2.polylines(img, [np.stack([x, y], 1).astype(np.int32)], False, 0, 2, cv2.LINE_AA)
    return img


def pictures(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    render = formula(FORMULAS[seed % len(FORMULAS)], dpi=120, pad=8)
    if kind == "render":
        return render
    if kind == "screenshot":
        return screenshot(render, rng)
    if kind == "paper":
        return photograph(render, rng) if seed % 2 else scan(render, rng)
    return pen_strokes(seed)


@pytest.fixture(scope="module")
def classifier() -> PictureClassifier:
    return PictureClassifier.load()


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_recognized(classifier: PictureClassifier, kind: str) -> None:
    guesses = [classifier.classify(pictures(kind, seed)) for seed in range(4)]
    right = [g for g in guesses if g.kind == kind]
    assert len(right) >= 3, [g.kind for g in guesses]
    assert all(0.25 <= g.probability <= 1.0 for g in guesses)


def test_photos_are_told_from_everything_else(classifier: PictureClassifier) -> None:
    """The distinction that decides the cleaning: paper or not."""
    for seed in range(4, 8):
        assert classifier.classify(pictures("paper", seed)).kind == "paper"
        for kind in ("render", "screenshot", "handwriting"):
            assert classifier.classify(pictures(kind, seed)).kind != "paper", kind


@pytest.mark.parametrize(
    "gray",
    [
        np.zeros((1, 1), np.uint8),
        np.zeros((40, 40), np.uint8),
        np.full((40, 40), 255, np.uint8),
        np.full((3000, 4000), 200, np.uint8),
        np.tile(np.arange(256, dtype=np.uint8), (8, 1)),
    ],
    ids=["1x1", "black", "white", "huge-flat", "ramp"],
)
def test_features_of_strange_pictures_are_finite(gray: np.ndarray) -> None:
    features = picture_features(gray)
    assert features.shape == (len(FEATURES),)
    assert np.isfinite(features).all()


def test_the_shipped_classifier_matches_the_features() -> None:
    data = PictureClassifier.load().to_dict()
    assert data["features"] == list(FEATURES) and data["kinds"] == list(KINDS)
    with pytest.raises(ValueError, match="other features"):
        PictureClassifier.from_dict({**data, "features": ["paper_level"]})


def test_flattening_evens_the_light_and_keeps_the_ink() -> None:
    render = formula(FORMULAS[0], dpi=150)
    light = np.linspace(0.45, 1.0, render.shape[1], dtype=np.float32)[None, :]
    shaded = (render.astype(np.float32) * light).astype(np.uint8)
    paper = render > 250
    flat = flatten_illumination(shaded)
    assert np.ptp(shaded[paper]) > 100  # the paper goes from dark grey to white
    assert np.percentile(flat[paper], 2) > 220  # ... and is white all over once flattened
    assert (flat[render < 60] < 128).mean() > 0.95  # the ink stays dark
    background = estimate_background(shaded)
    assert background.shape == shaded.shape


def test_strategies() -> None:
    photo = photograph(formula(FORMULAS[1], dpi=120), np.random.default_rng(3))
    assert clean(photo, "plain") is photo
    flat = clean(photo, "flatten")
    assert flat.shape == photo.shape and flat.dtype == np.uint8
    assert np.median(flat) >= 250 > np.median(photo)  # the paper is white
    assert set(np.unique(clean(photo, "binarize")).tolist()) <= {0, 255}
    dark = 255 - formula(FORMULAS[1], dpi=120)  # light on dark: turned dark on light
    assert np.median(clean(dark, "flatten")) >= 250
