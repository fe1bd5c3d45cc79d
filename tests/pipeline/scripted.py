"""Test doubles for the pipeline: a scripted formula recognizer and a text OCR that counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from scipix.latex import model_tokens
from scipix.recognition import Hypothesis, Reading, TextLine, TextRecognizer


class ScriptedRecognizer:
    """Answers each crop with the next (latex, confidence) of its script (last one repeats);
    with ``n_best`` > 1, the ``alternatives`` follow as further hypotheses."""

    version = "scripted-1"

    def __init__(
        self,
        script: Sequence[tuple[str, float]],
        alternatives: Sequence[tuple[str, float]] = (),
    ) -> None:
        self.script = list(script)
        self.alternatives = list(alternatives)
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []

    def recognize(self, images: Sequence[np.ndarray], n_best: int = 1, **_: Any) -> list[Reading]:
        out = []
        for image in images:
            self.shapes.append(image.shape)
            latex, conf = self.script[min(self.calls, len(self.script) - 1)]
            self.calls += 1
            hyps = [hypothesis(latex, conf)]
            hyps += [hypothesis(a, c) for a, c in self.alternatives[: n_best - 1]]
            out.append(Reading(tuple(hyps)))
        return out

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(n, 256) L2-normalized embeddings, as the real recognizer's encoder gives (the result
        cache asks for one): the ink of a 16x16 area-averaged copy of each image."""
        rows = []
        for image in images:
            small = cv2.resize(image.astype(np.float32), (16, 16), interpolation=cv2.INTER_AREA)
            ink = (255.0 - small).ravel() + 1e-3
            rows.append(ink / np.linalg.norm(ink))
        return np.stack(rows).astype(np.float32)


def hypothesis(latex: str, conf: float) -> Hypothesis:
    tokens = tuple(model_tokens(latex))
    probs = (conf,) * len(tokens)
    return Hypothesis(latex, tokens, float(np.log(conf)), probs, True)


class CountingTextRecognizer(TextRecognizer):
    """The real text OCR, recording the shape of every image it is asked to read: one entry per
    call (lines read by their known boxes: the tallest line's height, their widths summed)."""

    def __init__(self) -> None:
        super().__init__(threads=1)
        self.shapes: list[tuple[int, ...]] = []

    def read(self, gray: np.ndarray, glyph_height: float | None = None) -> list[TextLine]:
        self.shapes.append(gray.shape)
        return super().read(gray, glyph_height)

    def read_lines(self, crops: Sequence[np.ndarray], glyph_height: float) -> list[TextLine | None]:
        if crops:
            self.shapes.append((max(c.shape[0] for c in crops), sum(c.shape[1] for c in crops)))
        return super().read_lines(crops, glyph_height)
