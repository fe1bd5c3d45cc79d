"""The correction memory: an image near-identical to a corrected one gets the corrected reading.

A correction is remembered by the input's hash (the same file again: an exact hit) and by a
fingerprint of the cleaned page: the recognizer encoder's pooled image embedding (searched in the
memory store, kind :data:`KIND`, the correction's scope only) and a small :func:`thumbnail` of the
ink. The page is compared as it came (:func:`upright` undoes the orientation check's turns). A
new image is the corrected one when, for a stored fingerprint at least :data:`EMBEDDING_MIN`
similar (cosine), the embeddings' cosine plus the thumbnails' correlation (best over one-pixel
shifts) is at least :data:`MATCH_MIN` and the aspect ratios are within :data:`ASPECT_MAX` (log
ratio) of each other.

The thresholds were chosen on the ``tune`` half of the held-out formulas
(``benchmarks/learning.py memory --tune --part tune``: 150 corrected renders, a JPEG q70 copy
rescaled 0.8-1.25x of each, 400 renders of other formulas against their 20 nearest corrections):
copies scored 1.72 or more but for 2 %, other formulas at most 1.59 (cosine alone cannot tell
them apart: other formulas reach 0.97, copies go down to 0.83; thumbnails alone: 0.69 against
0.67).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from scipix.learning.store import Correction, LearningStore

Gray = npt.NDArray[np.uint8]
Vector = npt.NDArray[np.float32]

#: The memory store's kind for correction fingerprints.
KIND = "correction"
#: Thumbnail size (height, width) of the ink, compared by correlation.
THUMB_SHAPE = (24, 96)
#: Thresholds, chosen on the tune half of the held-out formulas (see the module docstring).
EMBEDDING_MIN = 0.75
MATCH_MIN = 1.65
ASPECT_MAX = 0.3
#: Neighbours checked per lookup, and the thumbnails' shift tolerance (pixels).
NEIGHBOURS = 16
SHIFT = 1


@dataclass(frozen=True)
class Fingerprint:
    """What a cleaned page is recognized by: its embedding, ink thumbnail and aspect ratio."""

    embedding: Vector
    thumb: npt.NDArray[np.float32]
    aspect: float

    def thumb_bytes(self) -> bytes:
        header = np.array([self.aspect], dtype=np.float32).tobytes()
        return header + self.thumb.astype(np.float32).tobytes()

    @staticmethod
    def thumb_from(data: bytes) -> tuple[npt.NDArray[np.float32], float]:
        aspect = float(np.frombuffer(data[:4], dtype=np.float32)[0])
        thumb = np.frombuffer(data[4:], dtype=np.float32).reshape(THUMB_SHAPE)
        return thumb, aspect

    def match(self, thumb: npt.NDArray[np.float32], aspect: float, cosine: float) -> float:
        """How surely a stored fingerprint (its thumbnail, aspect ratio and the embeddings'
        ``cosine``) is this page's: cosine plus thumbnail correlation, -inf when the aspect
        ratios differ; a match from :data:`MATCH_MIN` up."""
        if abs(np.log(max(self.aspect, 1e-6) / max(aspect, 1e-6))) > ASPECT_MAX:
            return float("-inf")
        return cosine + shifted_correlation(self.thumb, thumb)


def upright(gray: Gray, degrees: int) -> Gray:
    """The cleaned page turned back by the quarter turns pre-processing (and a flip) applied,
    so that copies of one image are compared as they came, whatever their orientation check
    found (``rotate_quarter`` turns counter-clockwise)."""
    k = (degrees // 90) % 4
    return np.ascontiguousarray(np.rot90(gray, -k)) if k else gray


def ink_box(gray: Gray) -> tuple[int, int, int, int] | None:
    """The bounding box (x0, y0, x1, y1) of the dark ink (Otsu), None for a blank page."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def thumbnail(gray: Gray) -> tuple[npt.NDArray[np.float32], float]:
    """The ink cropped, blurred and scaled to :data:`THUMB_SHAPE` (ink = 1), and its aspect
    ratio (width / height); a blank page gives zeros and 1."""
    box = ink_box(gray)
    if box is None:
        return np.zeros(THUMB_SHAPE, np.float32), 1.0
    x0, y0, x1, y1 = box
    ink = 1.0 - gray[y0:y1, x0:x1].astype(np.float32) / 255.0
    h, w = THUMB_SHAPE
    small = cv2.resize(ink, (w, h), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0)
    return small.astype(np.float32), (x1 - x0) / max(y1 - y0, 1)


def correlation(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """Pearson correlation of two thumbnails (0 when either is flat)."""
    da, db = a - a.mean(), b - b.mean()
    den = float(np.sqrt((da * da).sum() * (db * db).sum()))
    return float((da * db).sum() / den) if den > 0 else 0.0


def shifted_correlation(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """The best :func:`correlation` of ``a`` with ``b`` moved by up to :data:`SHIFT` pixels."""
    best = -1.0
    for dy in range(-SHIFT, SHIFT + 1):
        for dx in range(-SHIFT, SHIFT + 1):
            best = max(best, correlation(a, np.roll(b, (dy, dx), axis=(0, 1))))
    return best


def png_bytes(gray: Gray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.asarray(gray, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


class CorrectionMemory:
    """Corrections by scope, found again by hash or fingerprint (see the module docstring).

    ``memory`` is the vector store (``scipix.memory.MemoryStore``) that holds the fingerprints'
    embeddings; ``store`` the learning database that holds the corrections themselves."""

    def __init__(self, store: LearningStore, memory: object) -> None:
        from scipix.memory import MemoryStore

        if not isinstance(memory, MemoryStore):
            raise TypeError("memory must be a scipix.memory.MemoryStore")
        self.store = store
        self.memory = memory

    def remember(self, correction_id: int, scope: str, fingerprint: Fingerprint | None) -> None:
        """Index a stored correction's fingerprint (none: it is found by hash only)."""
        if fingerprint is None:
            return
        self.memory.add(
            KIND,
            fingerprint.embedding,
            {"correction_id": correction_id},
            scope=scope,
            key=str(correction_id),
        )

    def forget(self, correction_id: int, scope: str) -> None:
        """Drop a correction's fingerprint from the memory (its row is deleted by the caller)."""
        entry = self.memory.find(KIND, scope, str(correction_id))
        if entry is not None:
            self.memory.delete(entry.id)

    def exact(self, scope: str, input_hash: str) -> Correction | None:
        return self.store.by_hash(scope, input_hash)

    def near(self, scope: str, fingerprint: Fingerprint) -> Correction | None:
        """The newest correction in ``scope`` whose fingerprint matches, or None."""
        hits = self.memory.search(
            KIND, fingerprint.embedding, NEIGHBOURS, scope=scope, min_score=EMBEDDING_MIN
        )
        found: list[Correction] = []
        for hit in hits:
            correction = self.store.correction(int(hit.payload.get("correction_id", -1)))
            if correction is None or correction.thumb is None or correction.scope != scope:
                continue
            thumb, aspect = Fingerprint.thumb_from(correction.thumb)
            if fingerprint.match(thumb, aspect, hit.score) >= MATCH_MIN:
                found.append(correction)
        return max(found, key=lambda c: c.id) if found else None
