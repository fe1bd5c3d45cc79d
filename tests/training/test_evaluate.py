"""The evaluation harness: scores, breakdowns, rendered match, and any recognizer object."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from scipix.errors import ImageNoContentError
from scipix.training.evaluate import (
    EvalPair,
    Prediction,
    evaluate,
    read_labels,
    rendered_matches,
    score,
)
from scipix.training.metrics import images_match
from scipix.training.render import TexRenderer

from .conftest import FORMULAS, MATRIX_FORMULAS, needs_tex


@dataclass(frozen=True)
class Guess:
    latex: str
    confidence: float


class TemplateRecognizer:
    """A nearest-template recognizer: it renders its candidate formulas once and answers
    the candidate whose rendering matches the image (a real, if tiny, recognizer)."""

    def __init__(self, candidates: Sequence[str]) -> None:
        outcomes = TexRenderer("cm").render(list(candidates), dpi=100)
        self.templates = [(c, o.image) for c, o in zip(candidates, outcomes, strict=True)]

    def recognize(
        self, images: Sequence[npt.NDArray[np.uint8]], beam_width: int | None = None
    ) -> list[Guess]:
        found = []
        for image in images:
            if image.min() > 128:
                raise ImageNoContentError("blank image")
            best = next(
                (c for c, t in self.templates if t is not None and images_match(t, image)), ""
            )
            found.append(Guess(best, 1.0 if best else 0.0))
        return found


def write_set(folder: Path, formulas: Sequence[str]) -> Path:
    """Render ``formulas`` into ``folder/images`` and write ``folder/labels.tsv``."""
    (folder / "images").mkdir(parents=True)
    outcomes = TexRenderer("cm").render(list(formulas), dpi=100)
    lines = []
    for i, (latex, outcome) in enumerate(zip(formulas, outcomes, strict=True)):
        assert outcome.image is not None
        cv2.imwrite(str(folder / "images" / f"{i}.png"), outcome.image)
        lines.append(f"{i}.png\t{latex}")
    (folder / "labels.tsv").write_text("\n".join(lines) + "\n")
    return folder / "labels.tsv"


def pairs_of(labels: dict[str, str]) -> list[EvalPair]:
    return [EvalPair(name, Path(name), latex) for name, latex in labels.items()]


def test_identical_predictions_score_one() -> None:
    labels = {str(i): f for i, f in enumerate(FORMULAS + MATRIX_FORMULAS)}
    report = score(pairs_of(labels), {k: Prediction(v) for k, v in labels.items()})
    overall = report.overall
    assert (overall.n, overall.exact, overall.bleu4, overall.edit) == (8, 1.0, 1.0, 1.0)
    assert overall.rendered == 1.0  # exact implies the same rendering
    assert report.by_construct["matrix"].n == 1 and report.by_construct["cases"].n == 1
    assert sum(s.n for s in report.by_length.values()) == 8
    assert report.latency_ms is None


def test_scores_compare_normalized_forms() -> None:
    labels = {"a": r"x^2+\frac12", "b": r"\alpha", "c": "y", "d": "z"}
    predictions = {
        "a": Prediction(r"x^{2} + \frac{1}{2}"),  # the same formula, spelled differently
        "b": Prediction(r"\beta"),  # one token of one wrong
        "c": Prediction(r"\frac{"),  # does not parse
    }  # "d" is missing
    report = score(pairs_of(labels), predictions, render_match=False)
    items = {i.name: i for i in report.items}
    assert items["a"].exact and not items["b"].exact
    spacing = score(pairs_of({"e": r"a\,b \text{x y}"}), {"e": Prediction(r"ab\text{xy}")})
    assert spacing.overall.exact == 1.0  # spacing and text spaces do not count
    assert items["b"].edit == 0.0 and items["c"].edit == 0.0
    assert report.overall.exact == 0.25
    assert report.counts["missing"] == 1 and report.counts["unparsable"] == 1
    assert report.overall.rendered is None
    table = report.table()
    assert table.splitlines()[1].split()[:3] == ["overall", "4", "0.250"]
    assert json.loads(json.dumps(report.to_dict(items=True)))["items"][0]["exact"] is True


@pytest.mark.tex
@needs_tex
def test_rendered_match_says_frac12_equals_frac_1_2() -> None:
    labels = [r"\frac{1}{2}", r"\frac{1}{2}", r"\sin x", r"\mathbf{x}"]
    guesses = [r"\frac12", r"\frac{1}{3}", r"\mathrm{sin}x", "x"]
    assert rendered_matches(labels, guesses, jobs=2) == [True, False, True, False]
    assert rendered_matches([r"\nosuchcommand"], ["x"]) == [None]


@pytest.mark.tex
@needs_tex
def test_rendered_match_in_the_report_credits_other_spellings() -> None:
    labels = {"a": r"\sin x", "b": r"\sin x"}
    predictions = {"a": Prediction(r"\mathrm{sin}\,x"), "b": Prediction(r"\sin y")}
    report = score(pairs_of(labels), predictions)
    assert report.overall.exact == 0.0 and report.overall.rendered == 0.5


@pytest.mark.tex
@needs_tex
def test_evaluate_runs_a_recognizer_over_labelled_images(tmp_path: Path) -> None:
    formulas = FORMULAS[:4]
    labels_file = write_set(tmp_path / "set", formulas)
    blank = np.full((30, 60), 255, np.uint8)
    cv2.imwrite(str(tmp_path / "set" / "images" / "blank.png"), blank)
    with labels_file.open("a") as handle:
        handle.write("blank.png\tx\nmissing.png\ty\n")
    pairs = read_labels(labels_file)
    recognizer = TemplateRecognizer(formulas[:3])  # it does not know the fourth
    report = evaluate(recognizer, pairs, batch_size=4, jobs=2)
    items = {i.name: i for i in report.items}
    assert [items[f"{i}.png"].exact for i in range(4)] == [True, True, True, False]
    assert items["blank.png"].error and items["missing.png"].error
    assert report.counts["failed"] == 2 and report.counts["images"] == 6
    assert report.latency_ms is not None and report.latency_ms["p50"] > 0
    assert report.overall.exact == pytest.approx(3 / 6)
    assert read_labels(labels_file, limit=2) == pairs[:2]
