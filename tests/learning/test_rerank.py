"""The learned n-best reranker (``tta_rerank``): real model, rendered formulas."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from scipix.errors import InputError
from scipix.learning.loop import same_reading
from scipix.learning.recall import png_bytes
from scipix.learning.refit import refit_reranker
from scipix.learning.rerank import (
    VIEW_NAMES,
    WEIGHTS_FILE,
    Measured,
    Reranker,
    features,
    forced,
    measure,
    packaged_weights,
    token_ids,
)
from scipix.learning.store import Correction, LearningStore
from scipix.learning.strategies import Strategist, StrategyStats
from scipix.recognition.reading import Hypothesis
from scipix.service import Scipix
from scipix.settings import Settings

from .conftest import render


def test_teacher_forcing_gives_the_beams_own_log_probabilities(service: Scipix) -> None:
    rec = service.formula_recognizer()
    _, k, v = rec.encode(rec.prepare([render(r"\frac{a}{b}+c^{2}", dpi=150)]))
    raws = rec.search(k, v, replace(rec.beam, beam_width=4, n_best=4))[0]
    ids = [token_ids(rec, rec.hypothesis(r)) for r in raws]
    assert len(raws) > 1 and all(i is not None for i in ids)
    total, weakest = forced(rec, k, v, [i for i in ids if i is not None])
    assert total == pytest.approx([sum(r.logps) for r in raws], abs=0.3)  # int8 rows differ a bit
    assert weakest == pytest.approx([min(r.logps) for r in raws], abs=0.3)


def test_measure_scores_every_candidate_on_every_view(service: Scipix) -> None:
    rec = service.formula_recognizer()
    picture = render(r"\sqrt{x}+\alpha_{1}", dpi=120)
    reading = rec.recognize([picture])[0]
    m = measure(rec, picture, reading, "render")
    n = len(m.candidates)
    assert n > 1 and m.candidates[m.chosen].latex == reading.latex
    assert m.logp.shape == m.weakest.shape == (len(VIEW_NAMES), n)
    assert m.votes.shape == (len(VIEW_NAMES) - 1, n) and m.votes.sum() <= len(VIEW_NAMES) - 1
    assert np.all(m.logp <= 0) and np.all(m.weakest >= m.logp - 1e-6)
    assert len({h.latex for h in m.candidates}) == n  # each reading once
    assert features(m).shape[0] == n


def two(chosen_better: bool) -> Measured:
    hyps = [Hypothesis(x, (x,), -0.1, (0.9, 0.9), True) for x in ("a", "b")]
    logp = np.array([[-1.0, -3.0]]) if chosen_better else np.array([[-3.0, -1.0]])
    return Measured(hyps, 0, [0, 1], logp, logp / 2, np.zeros((0, 2)), "paper")


def test_the_reranker_switches_only_past_its_margin(tmp_path: Path) -> None:
    width = features(two(True)).shape[1]
    w = np.zeros(width)
    w[0] = 1.0  # the first view's log-probability less the best candidate's
    keen = Reranker("m", w, np.zeros(width), np.ones(width), margin=0.5)
    assert keen.choose(two(True)) == 0
    assert keen.choose(two(False)) == 1  # 2 nats better than the choice
    assert replace(keen, margin=2.5).choose(two(False)) == 0
    keen.save(tmp_path / "r.json")
    loaded = Reranker.load(tmp_path / "r.json", "m")
    assert loaded is not None and loaded.choose(two(False)) == 1
    assert Reranker.load(tmp_path / "r.json", "another-model") is None


def test_the_shipped_reranker_fits_the_shipped_model_and_keeps_an_easy_reading(
    service: Scipix,
) -> None:
    rec = service.formula_recognizer()
    shipped = Reranker.load(packaged_weights(), rec.version)
    assert shipped is not None and shipped.fitted["tune_pictures"] >= 1000
    picture = render(r"x^{2}+y^{2}=z^{2}", dpi=150)
    reading = rec.recognize([picture])[0]
    assert same_reading(reading.latex, r"x^{2}+y^{2}=z^{2}")
    strategist = Strategist(service.formula_recognizer, budget_ms=1000.0)
    better, tried = strategist.improve(
        picture, reading, ["tta_rerank"], StrategyStats(), "render", 3
    )
    assert [t.name for t in tried] == ["tta_rerank"] and tried[0].ms > 0
    assert same_reading(better.latex, reading.latex) and not tried[0].changed


def test_verdicts_refit_the_reranker_the_strategy_then_prefers(
    service: Scipix, tmp_path: Path
) -> None:
    rec = service.formula_recognizer()
    store = LearningStore.in_dir(tmp_path)
    pages = []
    for latex in (r"a+b=c", r"\frac{x}{2}", r"y_{1}^{2}", r"\sqrt{n+1}", r"e^{-t}"):
        page = render(latex, dpi=100)
        m = measure(rec, page, rec.recognize([page])[0], None)
        other = next(i for i in range(len(m.candidates)) if i != m.chosen)
        # a person says the model's runner-up is what the image shows
        store.add_correction(
            Correction(0, "local", m.candidates[other].latex, 0.0, image=png_bytes(page))
        )
        pages.append((page, m.candidates[other].latex))
    store.close()
    settings = Settings(runtime={"data_dir": tmp_path})  # type: ignore[arg-type]
    with pytest.raises(InputError):
        refit_reranker(settings, min_verdicts=6)
    report = refit_reranker(settings, min_verdicts=5, ridge=0.1)
    assert report["verdicts"] == 5 and report["right_refit"] > report["right_shipped"]
    strategist = Strategist(service.formula_recognizer, 1000.0, tmp_path / WEIGHTS_FILE)
    refit = strategist.reranker()
    assert refit is not None and refit.fitted == {"verdicts": 5}
    switched = 0
    for page, said in pages:
        reading = rec.recognize([page])[0]
        better, _ = strategist.improve(page, reading, ["tta_rerank"], StrategyStats(), None, 3)
        switched += better.latex == said
    assert switched >= 3
