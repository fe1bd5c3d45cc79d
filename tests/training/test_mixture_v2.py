"""Mixture v2: structure formulas, capture kinds in the stream, vocabulary growth."""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np
import torch

from scipix.recognition.preprocess import InputSpec
from scipix.training.capture import capture
from scipix.training.config import TrainConfig
from scipix.training.dataset import Mixture, MixtureStream, Sample
from scipix.training.mixture_v2 import MIXTURE_V2, grow_vocabulary, is_v2, v2_weights
from scipix.training.structure import FAMILIES, MATRIX_KINDS, structure_set
from scipix.training.trainer import new_state


def test_structure_set_covers_every_family_and_matrix_kind() -> None:
    formulas = structure_set(600, seed=5)
    assert len(formulas) == 600
    families = Counter(f.source for f in formulas)
    assert set(families) == {f"structure/{name}" for name in FAMILIES}
    text = " ".join(f.latex for f in formulas)
    for kind in (*MATRIX_KINDS, "aligned", "gathered", "cases", "array"):
        assert f"\\begin{{{kind}}}" in text
    assert "\\text{" in text and "\\mathrm{H}" in text and "\\forall" in text
    assert structure_set(50, seed=5) == formulas[:50]


def test_v2_is_switched_on_by_the_config_and_its_shares_sum_to_one() -> None:
    assert not is_v2(TrainConfig())
    cfg = TrainConfig(extra={"mixture": "v2"})
    assert is_v2(cfg) and v2_weights(cfg) == MIXTURE_V2
    assert abs(sum(MIXTURE_V2.values()) - 1.0) < 1e-9


def _render() -> np.ndarray:
    image = np.full((40, 150), 255, np.uint8)
    cv2.putText(image, "a+b", (6, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2, cv2.LINE_AA)
    return image


def test_stream_turns_kind_samples_into_their_pictures() -> None:
    seen: list[str] = []

    def degrade(image: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
        seen.append(kind)
        return capture(image, kind, rng)

    samples = [Sample(_render, (5, 6), kind="screenshot"), Sample(_render, (5, 6))]
    mixture = Mixture((("mix", 1.0, samples),))
    stream = MixtureStream(mixture, InputSpec(), 4, 0, None, 0.0, 0.0, 0.0, 2, degrade=degrade)
    images, tokens = next(iter(stream))
    assert images.shape[0] == 4 and tokens.shape == (4, 4)
    assert seen and set(seen) == {"screenshot"}


def test_grow_vocabulary_keeps_old_ids_and_adds_rows() -> None:
    cfg = TrainConfig(d_model=32, channels=(8, 8, 16, 16), ff=64, heads=4, dec_layers=1)
    state = new_state(cfg, ["<pad>", "<bos>", "<eos>", "<unk>", "x", "y"])
    images = torch.rand(2, 1, 32, 64)
    tokens = torch.tensor([[1, 4, 5], [1, 5, 4]])
    loss = state.model(images, tokens).logsumexp(-1).mean()
    loss.backward()  # type: ignore[no-untyped-call]
    state.optimizer.step()
    before = state.model.decoder.embed.weight.detach().clone()
    added = grow_vocabulary(state, [*state.tokens, "\\begin{pmatrix}", "\\end{pmatrix}"])
    assert added == ["\\begin{pmatrix}", "\\end{pmatrix}"] and len(state.tokens) == 8
    weight = state.model.decoder.embed.weight
    assert weight.shape[0] == 8 and torch.equal(weight[:6], before)
    assert state.model.cfg.vocab_size == 8 and state.ema.decoder.embed.weight.shape[0] == 8
    logits = state.model(images, tokens)
    assert logits.shape[-1] == 8
    logits.mean().backward()  # type: ignore[no-untyped-call]
    state.optimizer.step()  # the grown moments fit the grown parameter


def test_the_shipped_v2_config_switches_v2_on_with_its_documented_shares() -> None:
    from pathlib import Path

    from scipix.training.config import load_train_config

    root = Path(__file__).resolve().parents[2]
    cfg = load_train_config(root / "configs" / "mixture_v2.toml")
    assert is_v2(cfg) and v2_weights(cfg) == MIXTURE_V2
