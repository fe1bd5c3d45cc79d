"""Ink as training data: stroke augmentation, random pens, formulas composed from symbol ink
(a library built from the committed sample), and the opt-in mixture weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from scipix.ink import read_inkml
from scipix.training.ink import augment_strokes, draw_variant
from scipix.training.ink_compose import SymbolLibrary, compose_strokes, glyph_layout

from .conftest import DATA

pytest.importorskip("matplotlib")


def sample_strokes() -> list[np.ndarray]:
    return list(read_inkml(DATA / "two_x_equals_one.inkml").ink.strokes)


def test_augmented_strokes_keep_their_shape_and_change() -> None:
    strokes = sample_strokes()
    rng = np.random.default_rng(1)
    moved = augment_strokes(strokes, rng, 0.8)
    assert [len(s) for s in moved] == [len(s) for s in strokes]
    shift = np.concatenate(moved) - np.concatenate(strokes)
    assert 0.5 < float(np.abs(shift).mean()) < 30  # moved, but still the same formula
    assert np.allclose(augment_strokes(strokes, rng, 0.0)[0], strokes[0], atol=1e-9)


def test_random_pens_give_varied_legible_drawings() -> None:
    rng = np.random.default_rng(2)
    images = [draw_variant(sample_strokes(), rng) for _ in range(12)]
    widths = {im.shape[1] for im in images}
    assert len(widths) > 6 and min(widths) >= 150  # sizes and resolutions vary
    for im in images:
        assert im.dtype == np.uint8 and im.min() < 128 and np.median(im) > 240


def test_formulas_are_composed_from_symbol_ink() -> None:
    library = SymbolLibrary.build([read_inkml(DATA / "two_x_equals_one.inkml")])
    assert library.labels == {"2", "x", "=", "1"}
    assert glyph_layout("x^{2}+1", library.labels) is None  # no + in this library
    boxes = glyph_layout("x^{2}=\\frac{1}{2x}", library.labels)
    assert boxes is not None
    assert [b.label for b in boxes if not b.rule] == ["x", "2", "=", "1", "2", "x"]
    assert sum(b.rule for b in boxes) == 1  # the fraction bar
    strokes = compose_strokes(boxes, library, np.random.default_rng(3))
    assert len(strokes) == 2 + 1 + 2 + 2 + 1 + 2 + 1
    image = draw_variant(strokes, np.random.default_rng(4))
    assert image.shape[0] > image.shape[1] * 0.3  # the fraction stacks: not one flat line


def test_ink_sources_are_off_unless_configured() -> None:
    pytest.importorskip("torch")
    from scipix.training.config import SourceWeight, TrainConfig
    from scipix.training.ink_mixture import ink_weights

    weights = {"im2latex_val": 0.45, "rendered": 0.45, "crohme": 0.07, "hand": 0.03}
    assert ink_weights(TrainConfig(), weights) == {}
    shared = ink_weights(TrainConfig(extra={"ink_share": 0.2}), weights)
    assert shared.keys() == {"crohme_ink", "ink_composed"}
    assert sum(shared.values()) / (sum(shared.values()) + 1.0) == pytest.approx(0.2)
    given = (*TrainConfig().sources, SourceWeight("ink_composed", 0.05))
    explicit = {s.name: s.weight for s in given}
    assert ink_weights(TrainConfig(sources=given), explicit) == {"ink_composed": 0.05}


def test_ink_sources_build_samples_from_a_data_root(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from scipix.training.config import TrainConfig
    from scipix.training.corpus import Formula
    from scipix.training.ink_mixture import ink_sources

    folder = tmp_path / "train" / "crohme_ink"
    (folder / "ink").mkdir(parents=True)
    shutil.copy(DATA / "two_x_equals_one.inkml", folder / "ink" / "a.inkml")
    (folder / "ink" / "broken.inkml").write_text("<ink><trace>1 2,")
    (folder / "labels.tsv").write_text("a.inkml\t2x = 1\nbroken.inkml\tx\n")
    formulas = [Formula("x^{2}=\\frac{1}{2x}", (), "k12"), Formula("x+1", (), "k12")]
    cfg = TrainConfig(data_root=tmp_path, extra={"ink_share": 0.1})
    weights = {"im2latex_val": 1.0}
    sources, summary = ink_sources(cfg, formulas, lambda latex: (5, 6), set(), weights)
    assert [(name, len(samples)) for name, _, samples in sources] == [
        ("crohme_ink", 1),  # the broken file is left out
        ("ink_composed", 1),  # x+1 has no + in this library
    ]
    for _, _, samples in sources:
        image = samples[0].load()
        assert image.dtype == np.uint8 and image.min() < 128
    assert summary["ink_composed"]["symbols"] == 4
    held = ink_sources(
        cfg, formulas, lambda latex: (5, 6), {"2x=1", "x^{2}=\\frac{1}{2x}"}, weights
    )
    assert [len(samples) for _, _, samples in held[0]] == [0, 0]  # held-out formulas never train
