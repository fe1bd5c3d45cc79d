"""Pre-processing that adapts to the picture (``preprocessing.mode``): auto mode cleans a photo
and leaves a clean render as it was, a second reading is made when the first is unsure (and the
winner reported), manual mode keeps the switches' behaviour, and strange pictures never fail."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from imaging.drawing import formula
from pipeline.scripted import ScriptedRecognizer
from scipix.errors import ImageNoContentError
from scipix.imaging import PreprocessConfig, decode_image, preprocess
from scipix.imaging.enhance import PageInk
from scipix.imaging.picture import KindGuess, PictureClassifier
from scipix.pipeline.strategy import CleaningPolicy, PictureCleaner, load_classifier
from scipix.schema import PreprocessingReport, RecognizeOptions, Result
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.picture import photograph

LATEX = "a^{2}+b^{2}=c^{2}"


@pytest.fixture(scope="module")
def render() -> np.ndarray:
    return formula(LATEX, dpi=120, pad=8)


@pytest.fixture(scope="module")
def photo(render: np.ndarray) -> np.ndarray:
    return photograph(render, np.random.default_rng(1))


def service(*script: tuple[str, float], **preprocessing: Any) -> tuple[Scipix, ScriptedRecognizer]:
    settings = Settings()
    settings.ocr.text_ocr = False
    for key, value in preprocessing.items():
        setattr(settings.preprocessing, key, value)
    fake = ScriptedRecognizer(script or [(LATEX, 0.9)])
    return Scipix(settings, recognizer=fake), fake  # type: ignore[arg-type]


def auto_cleaner(**policy: Any) -> PictureCleaner:
    return PictureCleaner(load_classifier(), CleaningPolicy(**policy))


def test_auto_mode_cleans_a_photo(photo: np.ndarray) -> None:
    page = decode_image(photo)
    prep, cleaning = auto_cleaner().prepare(page, PreprocessConfig(), RecognizeOptions())
    assert cleaning.kind == "paper" and cleaning.strategy == "flatten"
    plain = preprocess(page, PreprocessConfig())
    # the paper is white once cleaned; as decoded it is grey
    assert np.median(prep.page.gray) >= 250 > np.median(plain.page.gray)


def test_auto_mode_leaves_a_clean_render_untouched(render: np.ndarray) -> None:
    page = decode_image(render)
    prep, cleaning = auto_cleaner().prepare(page, PreprocessConfig(), RecognizeOptions())
    assert cleaning.kind == "render" and cleaning.strategy == "plain"
    assert np.array_equal(prep.page.gray, preprocess(page, PreprocessConfig()).page.gray)


def test_the_result_says_how_the_picture_was_cleaned(photo: np.ndarray) -> None:
    sp, fake = service((LATEX, 0.9))
    report = sp.recognize(photo).preprocessing
    assert report is not None
    assert (report.kind, report.strategy, report.second_reading) == ("paper", "flatten", False)
    assert fake.calls == 1  # sure enough: read once
    body = sp.recognize(photo).to_mathpix()
    assert body["preprocessing"]["strategy"] == "flatten"  # JSON: one more key for clients


def test_an_unsure_reading_is_read_the_other_way_and_the_better_one_kept(
    render: np.ndarray,
) -> None:
    sp, fake = service(("x", 0.1), (LATEX, 0.9), second_reading_below=0.3)
    result = sp.recognize(render)
    report = result.preprocessing
    assert report is not None and report.second_reading
    assert report.strategy == "binarize"  # the render's own strategy is plain: the other won
    assert result.latex_styled == LATEX and fake.calls == 2


def test_the_first_reading_stays_when_the_second_is_not_better(render: np.ndarray) -> None:
    sp, fake = service(("x", 0.2), ("y", 0.1), second_reading_below=0.3)
    result = sp.recognize(render)
    report = result.preprocessing
    assert report is not None and report.second_reading and report.strategy == "plain"
    assert result.latex_styled == "x" and fake.calls >= 2


def test_no_second_reading_above_the_threshold_or_beyond_the_budget(render: np.ndarray) -> None:
    for settings in ({"second_reading_below": 0.05}, {"second_reading_budget_ms": 0.0}):
        sp, _ = service(("x", 0.1), ("y", 0.05), **settings)
        result = sp.recognize(render)
        assert result.preprocessing is not None and not result.preprocessing.second_reading
        assert result.latex_styled == "x"


def test_manual_mode_keeps_the_switches(photo: np.ndarray) -> None:
    sp, fake = service(("x", 0.7), (LATEX, 0.9), mode="manual", second_reading_below=0.9)
    result = sp.recognize(photo)
    assert result.preprocessing is not None and result.preprocessing.strategy == "manual"
    assert result.preprocessing.kind is None and not result.preprocessing.second_reading
    assert fake.calls == 1
    page = decode_image(photo)
    switches = PreprocessConfig(denoise=True, binarize=True)
    expected = preprocess(page, switches).page.gray
    opts = RecognizeOptions(preprocessing={"denoise": True, "binarize": True})
    assert np.array_equal(sp.preprocess(photo, opts).page.gray, expected)
    assert np.array_equal(sp.preprocess(photo).page.gray, preprocess(page).page.gray)


def test_a_call_that_sets_a_switch_is_manual(photo: np.ndarray) -> None:
    sp, _ = service()
    opts = RecognizeOptions(preprocessing={"binarize": True})
    report = sp.recognize(photo, opts).preprocessing
    assert report is not None and report.strategy == "manual"


class BrokenClassifier(PictureClassifier):
    def classify_page(self, gray: np.ndarray) -> tuple[KindGuess, PageInk | None]:
        raise RuntimeError("boom")  # classify() fails too: it returns classify_page()'s guess


def test_a_classifier_failure_falls_back_to_the_default_path(
    photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    shipped = load_classifier()
    assert shipped is not None
    broken = BrokenClassifier(shipped.mean, shipped.scale, shipped.weights, shipped.bias)
    cleaner = PictureCleaner(broken, CleaningPolicy())
    page = decode_image(photo)
    with caplog.at_level(logging.WARNING, logger="scipix.pipeline.strategy"):
        prep, cleaning = cleaner.prepare(page, PreprocessConfig(), RecognizeOptions())
    assert cleaning.kind is None and cleaning.strategy == "plain"
    assert np.array_equal(prep.page.gray, preprocess(page).page.gray)
    assert "picture classifier failed" in caplog.text


def test_a_cleaning_failure_falls_back_to_the_default_path(
    photo: np.ndarray, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(gray: np.ndarray, strategy: str) -> np.ndarray:
        raise ValueError("cv2 says no")

    monkeypatch.setattr("scipix.pipeline.strategy.clean", broken)
    page = decode_image(photo)
    with caplog.at_level(logging.WARNING, logger="scipix.pipeline.strategy"):
        _, cleaning = auto_cleaner().prepare(page, PreprocessConfig(), RecognizeOptions())
    assert cleaning.kind == "paper" and cleaning.strategy == "plain"
    assert "failed" in caplog.text


@pytest.mark.parametrize(
    "gray",
    [
        np.zeros((1, 1), np.uint8),
        np.zeros((64, 64), np.uint8),
        np.full((2000, 3000), 180, np.uint8),
    ],
    ids=["1x1", "all-black", "huge-flat"],
)
@pytest.mark.parametrize("mode", ["auto", "manual"])
def test_strange_pictures_get_the_usual_answer(gray: np.ndarray, mode: str) -> None:
    """No internal error in either mode: a blank picture is image_no_content, as before."""
    sp, _ = service(mode=mode)
    with pytest.raises(ImageNoContentError):
        sp.recognize(gray)


def test_batch_summarises_how_often_each_strategy_won(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from scipix.cli.batch import Tally, print_summary

    tally = Tally()
    for strategy, kind, second in [
        ("plain", "render", False),
        ("flatten", "paper", False),
        ("binarize", "render", True),  # the second reading won
        ("plain", "render", True),  # the first reading stayed
        ("manual", None, False),
    ]:
        report = PreprocessingReport(kind=kind, strategy=strategy, second_reading=second)
        tally.add(Result(preprocessing=report))
    print_summary(tally, 1.0, tmp_path / "results.jsonl")
    err = capsys.readouterr().err
    assert tally.strategies == {"plain": 2, "flatten": 1, "binarize": 1, "manual": 1}
    assert (tally.second_readings, tally.second_won) == (2, 1)
    assert "cleaning kept: binarize" in err and "2 (1 won)" in err
