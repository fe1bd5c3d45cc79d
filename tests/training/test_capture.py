"""Capture kinds of mixture v2: seeded, grayscale, and each changes the picture its own way."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scipix.training.capture import KINDS, capture, low_resolution, screen_render


def _render() -> np.ndarray:
    image = np.full((40, 160), 255, np.uint8)
    cv2.putText(image, "x+y=2", (6, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2, cv2.LINE_AA)
    return image


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_is_seeded_gray_and_not_the_input(kind: str) -> None:
    image = _render()
    one = capture(image, kind, np.random.default_rng(3))
    two = capture(image, kind, np.random.default_rng(3))
    assert one.dtype == np.uint8 and one.ndim == 2 and np.array_equal(one, two)
    assert one.shape != image.shape or not np.array_equal(one, image)


def test_low_resolution_makes_the_formula_12_to_20_px_high() -> None:
    image = cv2.resize(_render(), None, fx=3, fy=3)
    for seed in range(5):
        small = low_resolution(image, np.random.default_rng(seed))
        rows = np.flatnonzero((small < 200).any(axis=1))
        assert 8 <= rows[-1] - rows[0] + 1 <= 21


def test_dark_mode_and_fringes_exist() -> None:
    image = _render()
    darks, fringed = 0, 0
    for seed in range(40):
        colour = screen_render(image, np.random.default_rng(seed), fringes=1.0)
        darks += float(np.median(colour)) < 0.4
        fringed += float(np.abs(colour[..., 0] - colour[..., 2]).max()) > 0.2
    assert darks >= 5 and fringed >= 20


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown capture kind"):
        capture(_render(), "fax", np.random.default_rng(0))
