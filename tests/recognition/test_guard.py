"""Regression guard: what the shipped model reads off the im2latex style, through the product.

A fixed small set of renders in the conditions users bring (a dark-mode screenshot, a 96 dpi
screenshot drawn by TeX and by MathJax, a photo of paper), read by ``Scipix.recognize``. The
assertions say what the shipped model does read today; a picture it misreads is a strict xfail,
so a better model has to un-mark it. Garbage (noise, prose lines) must score below formulas.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scipix.latex import NormalizeOptions, normalize
from scipix.recognition import FormulaRecognizer
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.capture import photo
from scipix.training.mathjax import MathjaxRenderer, mathjax_available
from scipix.training.render import TexRenderer, tex_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.tex,
    pytest.mark.skipif(not tex_available(), reason="needs TeX Live (scripts/setup.sh installs it)"),
]

FORMULAS = [
    r"x^{2}+y^{2}=z^{2}",
    r"\frac{a}{b}",
    r"\sqrt{2}",
    r"E=mc^{2}",
    r"\alpha+\beta",
    r"f(x)=x+1",
    r"\sum_{i=1}^{n} i",
    r"\int_{0}^{1} x\,dx",
]
LABELS = NormalizeOptions.for_labels()


@pytest.fixture(scope="module")
def service() -> Scipix:
    settings = Settings()
    settings.ocr.text_ocr = False
    return Scipix(settings)


def _tex(dpi: int, formulas: list[str] = FORMULAS) -> list[np.ndarray]:
    outcomes = TexRenderer("cm").render(formulas, dpi=dpi)
    assert all(o.image is not None for o in outcomes), [o.error for o in outcomes]
    return [o.image for o in outcomes if o.image is not None]


def _dark_mode(image: np.ndarray) -> np.ndarray:
    """Light ink on a dark-blue grey, as a colour (BGR) screenshot of a dark theme."""
    coverage = 1.0 - image.astype(np.float32)[:, :, None] / 255.0
    background = np.array([0.16, 0.13, 0.12], np.float32)
    ink = np.array([0.9, 0.92, 0.92], np.float32)
    colour = background + (ink - background) * coverage
    colour = cv2.copyMakeBorder(
        colour, 12, 12, 16, 16, cv2.BORDER_CONSTANT, value=background.tolist()
    )
    return np.asarray(np.rint(colour * 255), dtype=np.uint8)


def _reads(service: Scipix, images: list[np.ndarray], formulas: list[str]) -> list[bool]:
    found = []
    for image, formula in zip(images, formulas, strict=True):
        latex = service.recognize(image).latex_styled or ""
        found.append(normalize(latex, LABELS) == normalize(formula, LABELS))
    return found


def test_dark_mode_screenshots(service: Scipix) -> None:
    """Today: 8 of 8."""
    images = [_dark_mode(im) for im in _tex(150)]
    assert sum(_reads(service, images, FORMULAS)) >= 7


def test_96_dpi_tex_screenshots(service: Scipix) -> None:
    """Today: 7 of 8 (\\sqrt{2} at 96 dpi is read \\sqrt{3})."""
    assert sum(_reads(service, _tex(96), FORMULAS)) >= 6


@pytest.mark.skipif(not mathjax_available(), reason="MathJax not installed (scripts/setup.sh)")
def test_96_dpi_mathjax_screenshots(service: Scipix) -> None:
    """A web page's formulas (MathJax's own fonts, anti-aliased): today 8 of 8."""
    outcomes = MathjaxRenderer().render(FORMULAS, 96)
    images = [o.image for o in outcomes if o.image is not None]
    assert len(images) == len(FORMULAS)
    assert sum(_reads(service, images, FORMULAS)) >= 7


#: (formula index, seed) of photos (training/capture.photo of a 150 dpi render) read today.
#: Of 16 such photos (seeds 100+i and 200+i), the shipped model reads 8.
PHOTOS_READ = [(0, 100), (2, 102), (4, 204), (6, 106), (7, 207)]
#: Photos the shipped model misreads (today: E=m\alpha^{2} and \int_{0}^{\infty}dt).
PHOTOS_MISREAD = [(3, 203), (7, 107)]


def _photo(index: int, seed: int) -> np.ndarray:
    return photo(_tex(150, [FORMULAS[index]])[0], np.random.default_rng(seed))


def test_photos_of_paper(service: Scipix) -> None:
    images = [_photo(i, seed) for i, seed in PHOTOS_READ]
    read = _reads(service, images, [FORMULAS[i] for i, _ in PHOTOS_READ])
    assert sum(read) >= 4, read  # today 5 of 5


@pytest.mark.xfail(strict=True, reason="model gap: these photos are misread (MODEL.md)")
@pytest.mark.parametrize(("index", "seed"), PHOTOS_MISREAD)
def test_photos_the_shipped_model_misreads(service: Scipix, index: int, seed: int) -> None:
    assert _reads(service, [_photo(index, seed)], [FORMULAS[index]]) == [True]


PROSE = [
    r"\text{The results of the experiment are shown in the table below}",
    r"\text{which completes the proof of the lemma.}",
    r"\text{In this section we describe the method}",
    r"\text{see also the discussion in Section 3}",
]


def test_garbage_scores_below_formulas() -> None:
    """Noise and crops of prose lines read with lower confidence than formula crops (today:
    garbage at most 0.40 weakest-token probability, formulas at least 0.50)."""
    recognizer = FormulaRecognizer.load()
    rng = np.random.default_rng(0)
    noise = [  # (sparse dots, which decode to the length limit, are test_shipped_model's)
        (rng.random((80, 300)) * 255).astype(np.uint8),
        np.asarray(cv2.GaussianBlur((rng.random((50, 200)) * 255).astype(np.uint8), (0, 0), 2)),
    ]
    garbage = [recognizer.recognize([image])[0] for image in noise + _tex(120, PROSE)]
    formulas = recognizer.recognize(_tex(120))
    weakest = [r.confidence for r in formulas]
    assert max(r.confidence for r in garbage) < float(np.median(weakest))
    assert np.mean([r.confidence for r in garbage]) < 0.5 * np.mean(weakest)
    assert max(r.confidence_rate for r in garbage) < min(r.confidence_rate for r in formulas)
