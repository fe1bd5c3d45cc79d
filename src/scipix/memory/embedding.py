"""The memory's two embeddings.

- :func:`image_embedding`: the recognizer encoder's pooled, L2-normalized memory of an image (what
  :meth:`FormulaRecognizer.embed` computes) — near-identical pictures of one formula land close.
- :func:`latex_embedding`: a structural embedding of a formula: the canonical model tokens
  (``scipix.latex`` normalizer, label options: spacing and style switches dropped) and their
  1- to 3-grams, each hashed (BLAKE2b) to a signed slot of a ``dim``-vector, counts damped by
  ``1 + log``, L2-normalized. Two spellings of one formula (``x^2`` / ``x^{2}``) embed the same;
  formulas sharing sub-expressions embed close.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from typing import TYPE_CHECKING

import cv2
import numpy as np

from scipix.errors import LatexError
from scipix.imaging.decode import DecodeLimits, ImageSource, decode_image
from scipix.latex.normalize import NormalizeOptions, model_tokens
from scipix.latex.tokenizer import tokenize
from scipix.memory.index import Vector
from scipix.memory.thumbnail import Thumbnail

if TYPE_CHECKING:
    from scipix.imaging.page import Gray
    from scipix.recognition import FormulaRecognizer
    from scipix.service import Scipix

_LABELS = NormalizeOptions.for_labels()
#: (height, width) of :func:`ink_thumbnail`.
THUMB_SHAPE = (24, 192)
NGRAMS = (1, 2, 3)
#: Tokens too common to count alone (they still count inside 2- and 3-grams).
_BARE = frozenset({"<s>", "</s>", "{", "}", "^", "_"})


def image_embedding(scipix: Scipix, image: ImageSource) -> Vector:
    """The image embedding of ``image`` (path, bytes, PIL image or array), decoded with the
    service's limits; raises the service's input errors (ImageDecodeError, ImageNoContentError…)."""
    pre = scipix.settings.preprocessing
    page = decode_image(image, DecodeLimits(max_pixels=pre.max_pixels, max_bytes=pre.max_bytes))
    return gray_embedding(scipix.formula_recognizer(), page.gray)


def gray_embedding(recognizer: FormulaRecognizer, gray: Gray) -> Vector:
    """The image embedding of a decoded gray image."""
    return np.asarray(recognizer.embed([gray])[0], dtype=np.float32)


def ink_thumbnail(gray: Gray) -> Thumbnail:
    """The ink of a picture, cropped to its content and squeezed to ``THUMB_SHAPE`` (blurred a
    little): copies of one picture (re-encoded, rescaled) give nearly the same thumbnail.
    Returns the thumbnail and the content's width/height ratio."""
    image = np.asarray(gray, dtype=np.uint8)
    if float(image.mean()) < 128:  # light ink on a dark background
        image = 255 - image
    _, ink = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    points = cv2.findNonZero(ink)
    if points is not None:
        x, y, w, h = cv2.boundingRect(points)
        image = image[y : y + h, x : x + w]
    height, width = image.shape[:2]
    small = cv2.resize(image, (THUMB_SHAPE[1], THUMB_SHAPE[0]), interpolation=cv2.INTER_AREA)
    blurred = np.asarray(cv2.GaussianBlur(small, (3, 3), 0), dtype=np.uint8)
    return Thumbnail(blurred, width / max(1, height))


def formula_tokens(latex: str) -> list[str]:
    """The canonical tokens of ``latex``; the raw tokens when it does not parse."""
    try:
        return model_tokens(latex, _LABELS)
    except LatexError:
        return [t.text for t in tokenize(latex) if t.text.strip()]


def latex_embedding(latex: str, dim: int = 256) -> Vector:
    """The structural embedding of ``latex`` (see the module docstring); all zeros for a formula
    without tokens."""
    tokens = ["<s>", *formula_tokens(latex), "</s>"]
    grams: Counter[str] = Counter()
    for n in NGRAMS:
        for i in range(len(tokens) - n + 1):
            if n == 1 and tokens[i] in _BARE:
                continue
            grams["\x1f".join(tokens[i : i + n])] += 1
    vec = np.zeros(dim, dtype=np.float32)
    for gram, count in grams.items():
        digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        sign = 1.0 if value & 1 else -1.0
        vec[(value >> 1) % dim] += sign * (1.0 + math.log(count))
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec
