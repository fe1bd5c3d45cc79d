"""Corrections are verdicts: the correction memory answers near-identical images with them, in
the scope they were made in only; invalid LaTeX is refused; every request leaves a trajectory;
corrections export as a paired set the training reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scipix.errors import LatexError
from scipix.learning import same_reading
from scipix.learning.export import export_pairs
from scipix.server.app import create_app
from scipix.server.keys import KeyStore
from scipix.server.store import Database
from scipix.service import Scipix
from scipix.training.corpus import load_paired

from .conftest import jpeg_copy, png, render

WRONG = r"\frac{a}{b}+c^{2}"  # what the tests teach instead of what the image shows


def test_a_corrected_image_and_its_copies_come_back_corrected(service: Scipix) -> None:
    image = render(r"\sqrt{x+1}-\frac{3}{y}")
    before = service.recognize(png(image), scope="memory-test")
    assert not before.corrected
    made = service.correct(WRONG, png(image), scope="memory-test", original=before.latex)
    assert made.scope == "memory-test" and made.latex == WRONG
    for copy in (png(image), jpeg_copy(image, 0.8), jpeg_copy(image, 1.25)):
        again = service.recognize(copy, scope="memory-test")
        assert again.corrected and same_reading(again.latex or "", WRONG), again.latex
        assert again.confidence == 1.0
    other = service.recognize(png(render(r"\int_{0}^{1}x\,dx")), scope="memory-test")
    assert not other.corrected and not same_reading(other.latex or "", WRONG)


def test_a_flood_of_corrections_from_one_key_never_reaches_another(service: Scipix) -> None:
    image = render(r"e^{i\pi}+1=0")
    honest = service.recognize(png(image), scope="honest-key")
    for i in range(12):
        service.correct(f"x_{{{i}}}", png(image), scope="poisoner-key")
    poisoned = service.recognize(png(image), scope="poisoner-key")
    assert poisoned.corrected and poisoned.latex == "x_{11}"  # the newest one
    after = service.recognize(jpeg_copy(image, 0.9), scope="honest-key")
    assert not after.corrected
    assert service.recognize(png(image), scope="honest-key").latex == honest.latex


def test_invalid_latex_is_refused_with_math_syntax(service: Scipix, learning_dir: Path) -> None:
    image = png(render("a+b"))
    kept = service.learning.store.count("corrections") if service.learning else 0
    for bad in (r"\frac{a}{", r"x^{2", "   "):
        with pytest.raises(LatexError) as info:
            service.correct(bad, image)
        assert info.value.error_id == "math_syntax"
    assert service.learning is not None
    assert service.learning.store.count("corrections") == kept
    db = Database.in_dir(learning_dir)
    try:
        made = KeyStore(db).create("learning-test")
    finally:
        db.close()
    headers = {"app_id": made.key.app_id, "app_key": made.app_key}
    with TestClient(create_app(service.settings, service=service)) as client:
        bad = client.post("/v3/corrections", json={"latex": r"\frac{1}{"}, headers=headers)
        assert bad.json()["error_info"]["id"] == "math_syntax"
        good = client.post("/v3/corrections", json={"latex": r"\frac{1}{2}"}, headers=headers)
        assert good.status_code == 200 and good.json()["remembered"] is True
    assert service.learning.store.count("corrections") == kept + 1
    newest = service.learning.store.corrections(made.key.app_id)
    assert [c.latex for c in newest] == [r"\frac{1}{2}"]


def test_every_request_leaves_a_trajectory(service: Scipix) -> None:
    result = service.recognize(png(render(r"\alpha^{2}+\beta")))
    assert service.learning is not None
    trajectory = service.learning.store.trajectory(result.request_id)
    assert trajectory is not None
    assert trajectory.model_version == result.version == service.version
    assert trajectory.chosen == result.latex and trajectory.scope == "local"
    assert trajectory.nbest and trajectory.nbest[0][0]  # the beam's n-best, with scores
    assert trajectory.latency_ms > 0 and len(trajectory.input_hash) == 64
    assert trajectory.raw_confidence == (result.confidence_raw or result.confidence)


def test_corrections_export_as_pairs_the_training_reads(service: Scipix, tmp_path: Path) -> None:
    assert service.learning is not None
    service.correct(r"\gamma_{1}", png(render(r"\gamma_{1}")), scope="export-test")
    report = export_pairs(service.learning.store, tmp_path / "pairs", "export-test")
    assert report["pairs"] == 1
    split = load_paired(tmp_path / "pairs")
    pairs = split.train + split.val
    assert [latex for _, latex in pairs] == [r"\gamma_{1}"]
    assert pairs[0][0].read_bytes().startswith(b"\x89PNG")
    pytest.importorskip("torch")  # scipix train --pairs: the [train] extra
    from scipix.training.config import TrainConfig
    from scipix.training.pairs import pair_sources

    cfg = TrainConfig(pairs=(tmp_path / "pairs",))
    [(name, weight, samples)] = pair_sources(cfg, lambda latex: (5, 6, 7))
    assert name == "pairs:pairs" and weight == cfg.pairs_weight and len(samples) == 1
    assert samples[0].load().ndim == 2 and samples[0].ids == (5, 6, 7)
