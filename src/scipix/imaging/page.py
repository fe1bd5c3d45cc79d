"""The decoded image that flows through the pipeline: a read-only grayscale page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

Gray = NDArray[np.uint8]
A = TypeVar("A", bound=np.ndarray[Any, Any])


def read_only(array: A) -> A:
    """``array`` marked read-only (a copy when it is a view of a writable buffer)."""
    if array.base is not None and not array.flags.owndata:
        array = array.copy(order="C")
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Page:
    """A decoded image: gray ``uint8`` HxW (dark ink on light paper after pre-processing).

    ``hash`` is the BLAKE3 hex digest of the encoded bytes (or of the pixels when the source was
    an array), ``source_format`` the sniffed format (``png``, ``jpeg``...), ``frames`` how many
    frames the source had (only the first is decoded), ``exif_rotation`` the degrees undone from
    the EXIF orientation tag, ``original_size`` the (width, height) before any transformation.
    """

    gray: Gray
    hash: str
    source_format: str
    frames: int = 1
    exif_rotation: int = 0
    original_mode: str = "L"

    @property
    def height(self) -> int:
        return int(self.gray.shape[0])

    @property
    def width(self) -> int:
        return int(self.gray.shape[1])
