"""``Thumbnail``: a picture's ink, small, to tell a copy of a picture from another formula."""

from __future__ import annotations

import base64
import math
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Thumbnail:
    """The ink cropped and squeezed to a fixed size (uint8), and the content's aspect ratio."""

    pixels: npt.NDArray[np.uint8]
    aspect: float

    def similarity(self, other: Thumbnail) -> float:
        """The pixels' correlation (1: the same picture), or -1 when the aspect ratios differ
        by more than 10 % or either thumbnail is blank."""
        if self.pixels.shape != other.pixels.shape or self.aspect <= 0 or other.aspect <= 0:
            return -1.0
        if abs(math.log(self.aspect / other.aspect)) > ASPECT_MAX:
            return -1.0
        a = self.pixels.astype(np.float32).ravel()
        b = other.pixels.astype(np.float32).ravel()
        a, b = a - a.mean(), b - b.mean()
        norm = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(a @ b / norm) if norm > 0 else -1.0

    def encode(self) -> str:
        """A compact text form (zlib + base64) for a JSON payload."""
        header = f"{self.pixels.shape[0]}x{self.pixels.shape[1]}x{self.aspect:.6f}:"
        return header + base64.b64encode(zlib.compress(self.pixels.tobytes(), 6)).decode()

    @classmethod
    def decode(cls, text: str) -> Thumbnail | None:
        try:
            header, data = text.split(":", 1)
            h, w, aspect = header.split("x")
            raw = zlib.decompress(base64.b64decode(data))
            pixels = np.frombuffer(raw, dtype=np.uint8).reshape(int(h), int(w))
            return cls(pixels, float(aspect))
        except (ValueError, zlib.error):
            return None


#: Copies keep their aspect ratio within this (log ratio, about 10 %).
ASPECT_MAX = 0.1
