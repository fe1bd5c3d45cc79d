"""The GPU run's bundle: written within its size, read back into a mixture with live renders."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from scipix.recognition.preprocess import InputSpec
from scipix.training.bundle import GPU_MIXTURE, LiveRender, bundle_data, make_bundle
from scipix.training.config import TrainConfig
from scipix.training.trainer import load_state, new_state, save_state

from .conftest import needs_matplotlib

FORMULAS = [f"x^{{{i}}}+y_{{{i}}}" for i in range(40)] + [r"\frac{a}{b}", r"\alpha+\beta"]


def _data_root(root: Path) -> Path:
    train = root / "train"
    train.mkdir(parents=True)
    (train / "k12.txt").write_text("\n".join(FORMULAS) + "\n", encoding="utf-8")
    for name in ("im2latex_val", "crohme", "hand"):
        images = train / name / "images"
        images.mkdir(parents=True)
        lines = []
        for i, formula in enumerate(FORMULAS):
            image = np.full((30, 90), 255, np.uint8)
            cv2.putText(image, str(i), (5, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 0, 2)
            cv2.imwrite(str(images / f"{i}.png"), image)
            lines.append(f"{i}.png\t{formula}")
        (train / name / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@needs_matplotlib
def test_bundle_round_trip(tmp_path: Path) -> None:
    root = _data_root(tmp_path / "data")
    cfg = TrainConfig(d_model=32, channels=(8, 8, 16, 16), ff=64, heads=4, dec_layers=1)
    tokens = ["<pad>", "<bos>", "<eos>", "<unk>", "x", "y", "^", "_", "{", "}", "+"]
    tokens += [str(d) for d in range(10)]
    state = new_state(cfg, tokens)
    save_state(state, tmp_path / "last.pt", cfg, InputSpec())
    out = tmp_path / "bundle"
    manifest = make_bundle(out, tmp_path / "last.pt", root, tmp_path / "cache", max_mib=8)
    assert manifest["mib"] < 8 and 35 <= manifest["formulas"] <= len(FORMULAS)  # val split out
    assert manifest["images"]["paired/im2latex_val"] > 0
    resumed = load_state(out / "state.pt", cfg)
    assert resumed.tokens == tokens
    weight = resumed.ema.decoder.embed.weight
    assert torch.allclose(weight, state.ema.decoder.embed.weight, atol=1e-3)
    mixture, val, _, counts = bundle_data(out, tokens, 160, val_size=10, seed=0)
    names = [name for name, _, _ in mixture.sources]
    assert names == list(GPU_MIXTURE)
    assert 30 <= counts["live"] <= 40 and counts["photo"] > 0  # no \frac, \alpha tokens
    assert all(sample.clean for sample in val)
    image = LiveRender(FORMULAS[0])()
    assert image.dtype == np.uint8 and image.min() < 100
    with pytest.raises(ValueError):
        LiveRender(r"\begin{matrix}a\end{matrix}")()
