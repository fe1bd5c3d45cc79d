"""Pre-processing on rendered pages: orientation, deskew, crop, polarity, switches, blanks."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.drawing import formula, photo_like, stack, text_line
from scipix.errors import ImageNoContentError
from scipix.imaging import PreprocessConfig, decode_image, preprocess, resize_pad
from scipix.imaging.geometry import rotate_image
from scipix.imaging.picture import picture_analysis

FORMULAS = [
    r"\int_0^1 x^2\,dx = \frac{1}{3} + \sqrt{y_k}",
    r"a^2+b^2=c^2",
    r"y = \log_2(p) - q",
    r"x_{n+1} = x_n - \frac{f(x_n)}{f'(x_n)}",
]


def page_of(gray: np.ndarray, **config: object) -> object:
    return preprocess(decode_image(np.ascontiguousarray(gray)), PreprocessConfig(**config))  # type: ignore[arg-type]


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of the ink of two pages of (nearly) the same size."""
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    ia, ib = a[:h, :w] < 128, b[:h, :w] < 128
    return float((ia & ib).sum() / max((ia | ib).sum(), 1))


@pytest.mark.parametrize("tex", FORMULAS)
@pytest.mark.parametrize("turn", [1, 3])
def test_quarter_turned_formula_is_put_upright(tex: str, turn: int) -> None:
    upright = page_of(formula(tex))
    turned = page_of(np.rot90(formula(tex), turn))
    assert turned.rotation == (-90 if turn == 1 else 90)
    assert turned.rotate_confidence >= 0.99
    assert overlap(turned.page.gray, upright.page.gray) > 0.9


#: Compact formulas, about as tall as long: the slanted strokes of a big operator once passed
#: for tilted vertical lines and the crop was turned by 11-15 degrees (losing the exponent).
COMPACT = [r"\sum_{i=1}^{n} i^{2}", r"\int_{0}^{1} f(x)\,dx"]


@pytest.mark.parametrize("tex", FORMULAS)
def test_upright_formula_is_left_alone(tex: str) -> None:
    prep = page_of(formula(tex))
    assert prep.rotation == 0 and prep.skew == 0.0
    assert prep.rotate_confidence < 0.5  # Mathpix's meaning: "probability a turn is needed"


@pytest.mark.parametrize("tex", COMPACT)
@pytest.mark.parametrize("dpi", [100, 200])
def test_compact_formula_is_not_tilted(tex: str, dpi: int) -> None:
    prep = page_of(formula(tex, dpi=dpi))
    assert prep.rotation == 0 and prep.skew == 0.0


def test_upside_down_text_is_turned_back() -> None:
    line = text_line("Perform the indicated operation and simplify.")
    prep = page_of(np.rot90(line, 2))
    assert prep.rotation == 180 and prep.rotate_confidence >= 0.99
    assert overlap(prep.page.gray, page_of(line).page.gray) > 0.9


def test_auto_rotate_off_or_threshold_one_keeps_the_turn() -> None:
    turned = np.rot90(formula(FORMULAS[0]), 1)
    assert page_of(turned, auto_rotate=False).rotation == 0
    assert page_of(turned, rotate_threshold=1.0).rotation == 0


@pytest.mark.parametrize("angle", [-12.0, -5.0, 3.0, 8.0])
def test_skewed_text_is_straightened(angle: float) -> None:
    page = stack([text_line("The quick brown fox jumps over the lazy dog"), text_line("0123")])
    prep = page_of(rotate_image(page, angle))
    assert prep.skew == pytest.approx(-angle, abs=0.4)


def test_skewed_blurred_photo_of_a_formula_is_straightened() -> None:
    prep = page_of(photo_like(formula(FORMULAS[1], dpi=300), angle=6.0))
    assert prep.skew == pytest.approx(-6.0, abs=1.0)


def test_crop_keeps_the_ink_and_a_margin() -> None:
    canvas = np.full((400, 900), 255, dtype=np.uint8)
    f = formula(FORMULAS[1], pad=0)
    canvas[150 : 150 + f.shape[0], 300 : 300 + f.shape[1]] = f
    prep = page_of(canvas, margin=8)
    x0, y0, _, _ = prep.crop_box
    assert 300 - 8 <= x0 <= 300 and 150 - 8 <= y0 <= 150
    assert prep.page.gray.shape[1] <= f.shape[1] + 16 + 2
    assert (prep.page.gray < 128).sum() == (canvas < 128).sum()
    assert page_of(canvas, crop=False).page.gray.shape == canvas.shape


def test_dark_mode_page_is_inverted() -> None:
    line = text_line("dark mode 123")
    prep = page_of(255 - line)
    assert prep.inverted
    assert overlap(prep.page.gray, page_of(line).page.gray) > 0.95


def test_enhancement_switches() -> None:
    photo = photo_like(formula(FORMULAS[0]))
    plain = page_of(photo)
    assert set(plain.timings) == {"polarity", "analyse", "deskew", "orient", "crop"}
    every = page_of(photo, clahe=True, denoise=True, binarize=True)
    assert {"clahe", "denoise", "binarize"} <= set(every.timings)
    assert set(np.unique(every.page.gray)) <= {0, 255}


def test_blank_and_uniform_images_have_no_content() -> None:
    for blank in (np.full((300, 300), 255, np.uint8), np.full((80, 80), 128, np.uint8)):
        with pytest.raises(ImageNoContentError) as info:
            page_of(blank)
        assert info.value.error_id == "image_no_content"
    noisy = np.clip(np.random.default_rng(0).normal(235, 3, (200, 200)), 0, 255).astype(np.uint8)
    with pytest.raises(ImageNoContentError):
        page_of(noisy)


def test_points_map_back_to_the_source_image() -> None:
    page = stack([text_line("Points map back to the source"), text_line("image: 42")])
    turned = np.ascontiguousarray(np.rot90(rotate_image(page, 4.0), 1))
    prep = page_of(turned)
    ys, xs = np.nonzero(prep.page.gray < 128)
    pick = np.linspace(0, ys.shape[0] - 1, 60).astype(int)
    back = prep.to_source(np.stack([xs[pick], ys[pick]], axis=1).astype(float))
    hits = 0
    for x, y in np.rint(back).astype(int):
        near = turned[max(0, y - 3) : y + 4, max(0, x - 3) : x + 4]
        hits += bool((near < 128).any())
    assert prep.rotation == -90 and prep.skew != 0.0
    assert hits >= 57  # ink of the cleaned page maps back onto ink of the source image


def test_resize_pad() -> None:
    img = np.zeros((50, 400), dtype=np.uint8)
    out = resize_pad(img, max_height=64, max_width=200, pad_multiple=16)
    assert out.shape == (32, 208) and out[-1, -1] == 255 and out[0, 0] == 0
    assert resize_pad(img, 64, 800, upscale=True).shape == (64, 512)


@pytest.mark.parametrize("invert", [False, True])
def test_the_classifiers_ink_leaves_the_cleaned_page_unchanged(invert: bool) -> None:
    """Pre-processing handed the picture classifier's ink (issue 19: measured once) makes the
    same page, mask and geometry as measuring it itself, on a formula and on its negative."""
    gray = formula(FORMULAS[0])
    page = decode_image(np.ascontiguousarray(255 - gray if invert else gray))
    _, ink = picture_analysis(page.gray)
    assert ink is not None and ink.inverted == invert
    alone, shared = preprocess(page), preprocess(page, ink=ink)
    assert np.array_equal(alone.page.gray, shared.page.gray)
    assert np.array_equal(alone.mask, shared.mask)
    assert (alone.crop_box, alone.skew, alone.inverted) == (shared.crop_box, shared.skew, invert)
    assert set(alone.timings) == set(shared.timings)
