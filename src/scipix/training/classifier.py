"""Fitting the picture-kind classifier (``imaging/picture.py``) on pictures the data engine makes
(``training/picture.py``): ``scipix train picture`` fits it on the corpora's train split and
reports its confusion matrix on held-out formulas (the ``check`` half)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from scipix.imaging.picture import KINDS, PictureClassifier, expand, picture_features
from scipix.training.picture import Picture, picture_set


def features_of(
    pictures: Sequence[Picture],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The classifier's features and kind indices of ``pictures``."""
    x = np.array([picture_features(p.image) for p in pictures], dtype=np.float64)
    y = np.array([KINDS.index(p.kind) for p in pictures], dtype=np.int64)
    return x.reshape(len(pictures), -1), y


def fit_softmax(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], classes: int, l2: float = 1e-2
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Weights (classes × features) and biases of an L2-regularized multinomial logistic
    regression (L-BFGS), classes balanced."""
    from scipy.optimize import minimize

    n, d = x.shape
    onehot = np.eye(classes)[y]
    counts = np.maximum(onehot.sum(axis=0), 1.0)
    weight = (n / (classes * counts))[y]

    def loss(params: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        w, b = params[: classes * d].reshape(classes, d), params[classes * d :]
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        nll = -(weight * np.log(p[np.arange(n), y] + 1e-12)).sum() / n
        grad_z = weight[:, None] * (p - onehot) / n
        grad_w = grad_z.T @ x + l2 * w
        return float(nll + 0.5 * l2 * (w * w).sum()), np.concatenate(
            [grad_w.ravel(), grad_z.sum(0)]
        )

    start = np.zeros(classes * (d + 1))
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    params = result.x
    return params[: classes * d].reshape(classes, d), params[classes * d :]


def fit_picture_classifier(pictures: Sequence[Picture]) -> PictureClassifier:
    """A classifier fitted on ``pictures`` (standardized features, balanced kinds)."""
    x, y = features_of(pictures)
    x = expand(x)
    mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    weights, bias = fit_softmax((x - mean) / scale, y, len(KINDS))
    return PictureClassifier(mean, scale, weights, bias)


def confusion(classifier: PictureClassifier, pictures: Sequence[Picture]) -> npt.NDArray[np.int64]:
    """Counts by true kind (rows) and predicted kind (columns), in the order of ``KINDS``."""
    x, y = features_of(pictures)
    matrix = np.zeros((len(KINDS), len(KINDS)), dtype=np.int64)
    for row, truth in zip(x, y, strict=True):
        matrix[truth, int(np.argmax(classifier.probabilities(row)))] += 1
    return matrix


@dataclass(frozen=True)
class ClassifierReport:
    """A fitted classifier with its confusion matrices on the pictures it was fitted on and on
    held-out ones (``check``)."""

    classifier: PictureClassifier
    fit: npt.NDArray[np.int64]
    check: npt.NDArray[np.int64]

    def summary(self) -> dict[str, object]:
        def accuracy(m: npt.NDArray[np.int64]) -> float:
            return round(float(np.trace(m) / max(m.sum(), 1)), 4)

        return {
            "kinds": list(KINDS),
            "fit_accuracy": accuracy(self.fit),
            "check_accuracy": accuracy(self.check),
            "check_confusion": self.check.tolist(),
        }

    def write(self, path: Path) -> None:
        data = {**self.classifier.to_dict(), **self.summary()}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def train_picture_classifier(
    data_root: Path, per_condition: int, check: int, echo: Callable[[str], None], seed: int = 0
) -> ClassifierReport:
    """Fit on ``per_condition`` pictures of each condition made from the train split; check
    on ``check`` of each made from the ``check`` half of the held-out split."""
    echo(f"making {per_condition} pictures per condition to fit on")
    fit_set = picture_set(data_root, "fit", per_condition, seed)
    echo(f"making {check} held-out pictures per condition to check on")
    check_set = picture_set(data_root, "check", check, seed + 1)
    classifier = fit_picture_classifier(fit_set)
    return ClassifierReport(
        classifier, confusion(classifier, fit_set), confusion(classifier, check_set)
    )
