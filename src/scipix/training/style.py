"""Printed or handwritten? A logistic probe on the formula encoder's image embedding.

Mathpix answers ``is_printed`` / ``is_handwritten``. Geometry alone (baseline alignment) was
measured to be a coin flip on our data; the recognizer's pooled embedding, computed anyway for
every crop, does better. The probe is fitted on the train splits of ``data/train`` — printed:
im2latex-style crops plus fresh TeX renders (several fonts and sizes) of train-split corpus
formulas and of the handwritten sets' own labels, so that it learns the style and not the
content (CROHME formulas are short, im2latex ones long); handwritten: CROHME and ``hand`` — and
scored on their held-out splits. It is tied to one model version: the recognizer ignores a probe
fitted for another model (``recognition.recognizer.STYLE_FILE``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from scipix.errors import ImageNoContentError
from scipix.recognition.recognizer import STYLE_FILE, FormulaRecognizer
from scipix.training.corpus import load_paired, split_of
from scipix.training.recipe import read_gray

PRINTED_SETS = ("im2latex_val",)
HANDWRITTEN_SETS = ("crohme", "hand")
RENDER_FONTS = ("cm", "mathptmx", "euler", "cmbright", "libertinus", "fourier")
RENDER_DPIS = (100, 150, 250)

Array = npt.NDArray[np.float64]


def fit_logistic(x: Array, y: Array, l2: float = 1e-2) -> tuple[Array, float]:
    """Weights and bias of an L2-regularized logistic regression (L-BFGS), classes balanced."""
    balance = np.where(y > 0.5, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))

    def loss(params: Array) -> tuple[float, Array]:
        w, b = params[:-1], params[-1]
        z = x @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        eps = 1e-12
        nll = -(balance * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).mean()
        grad_z = balance * (p - y) / len(y)
        grad = np.concatenate([x.T @ grad_z + l2 * w, [grad_z.sum()]])
        return float(nll + 0.5 * l2 * w @ w), grad

    start = np.zeros(x.shape[1] + 1)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return result.x[:-1], float(result.x[-1])


def embed_paths(
    recognizer: FormulaRecognizer, paths: Sequence[Path], echo: Callable[[str], None]
) -> Array:
    images = []
    for path in paths:
        try:
            images.append(read_gray(path))
        except OSError:
            continue
    echo(f"embedding {len(images)} images")
    return embed_each(recognizer, images)


def embed_each(recognizer: FormulaRecognizer, images: Sequence[npt.NDArray[np.uint8]]) -> Array:
    """Embeddings of the images that have content (a blank one is skipped)."""
    rows = []
    for image in images:
        try:
            rows.append(recognizer.embed([image])[0])
        except ImageNoContentError:
            continue
    d_model = int(recognizer.metadata["model_config"]["d_model"])
    return np.asarray(rows, dtype=np.float64).reshape(-1, d_model)


def rendered_printed(formulas: Sequence[str], n: int, seed: int) -> list[npt.NDArray[np.uint8]]:
    """TeX renders of ``n`` formulas spread over fonts and sizes (printed examples)."""
    from scipix.training.render import TexRenderer, tex_available

    if not tex_available() or not formulas:
        return []
    rng = random.Random(seed)
    chosen = rng.sample(list(formulas), min(n, len(formulas)))
    images: list[npt.NDArray[np.uint8]] = []
    per = max(1, len(chosen) // (len(RENDER_FONTS) * len(RENDER_DPIS)))
    k = 0
    for font in RENDER_FONTS:
        for dpi in RENDER_DPIS:
            batch = chosen[k : k + per]
            k += per
            for outcome in TexRenderer(font).render(batch, dpi=dpi):
                if outcome.image is not None:
                    images.append(outcome.image)
    return images


def corpus_formulas(train_dir: Path, side: str) -> list[str]:
    path = train_dir / "im2latex_val.txt"
    if not path.is_file():
        return []
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [f for f in lines if f and len(f) < 200 and split_of(f) == side]


def style_data(
    recognizer: FormulaRecognizer,
    train_dir: Path,
    side: str,
    per_set: int,
    seed: int,
    echo: Callable[[str], None],
) -> tuple[Array, Array]:
    """Embeddings and labels (1 = handwritten) of one split (``train`` or ``val``)."""
    rng = random.Random(seed)
    xs: list[Array] = []
    ys: list[Array] = []
    # Printed renders of the handwritten sets' own formulas too, so that the probe learns the
    # style and not the content (CROHME formulas are short, im2latex ones long).
    hand_formulas: list[str] = []
    for names, label in ((PRINTED_SETS, 0.0), (HANDWRITTEN_SETS, 1.0)):
        for name in names:
            items = getattr(load_paired(train_dir / name), side)
            paths = [p for p, _ in rng.sample(items, min(per_set, len(items)))]
            xs.append(embed_paths(recognizer, paths, echo))
            ys.append(np.full(len(xs[-1]), label))
            if label:
                hand_formulas += [latex for _, latex in items]
    renders = rendered_printed(corpus_formulas(train_dir, side), per_set, seed)
    renders += rendered_printed(hand_formulas, 2 * per_set, seed)
    if renders:
        echo(f"embedding {len(renders)} TeX renders")
        xs.append(embed_each(recognizer, renders))
        ys.append(np.zeros(len(xs[-1])))
    return np.concatenate(xs), np.concatenate(ys)


def accuracy(x: Array, y: Array, w: Array, b: float) -> dict[str, float]:
    predicted = (x @ w + b) > 0
    truth = y > 0.5
    return {
        "accuracy": float((predicted == truth).mean()),
        "printed_recall": float((~predicted[~truth]).mean()) if (~truth).any() else 0.0,
        "handwritten_recall": float(predicted[truth].mean()) if truth.any() else 0.0,
        "n": float(len(y)),
    }


def fit_style_probe(
    recognizer: FormulaRecognizer,
    data_root: Path,
    per_set: int = 600,
    seed: int = 0,
    echo: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Fit on the train splits, score on the held-out splits; the probe as a JSON-able dict."""
    train_dir = data_root / "train"
    x, y = style_data(recognizer, train_dir, "train", per_set, seed, echo)
    w, b = fit_logistic(x, y)
    vx, vy = style_data(recognizer, train_dir, "val", per_set, seed + 1, echo)
    return {
        "model_version": recognizer.version,
        "weights": [round(float(v), 6) for v in w],
        "bias": round(b, 6),
        "train": accuracy(x, y, w, b),
        "val": accuracy(vx, vy, w, b),
    }


def write_style_probe(probe: dict[str, Any], model_dir: Path) -> Path:
    path = model_dir / STYLE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(probe), encoding="utf-8")
    tmp.replace(path)
    return path
