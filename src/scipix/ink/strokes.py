"""Pen strokes as data: the checked, immutable :class:`Ink` every ink path shares.

Strokes arrive as Mathpix's strokes JSON (``{"x": [[...], ...], "y": [[...], ...]}``, one inner
list per pen-down stroke) or as InkML traces (:mod:`scipix.ink.inkml`). Both are checked against
:class:`InkLimits` before anything else is done with them: too many strokes or points,
coordinates that are not finite numbers or lie beyond ``max_coordinate``, an x list and a y list
of different lengths, and a stroke with no points are refused with ``strokes_syntax_error``
(:class:`~scipix.errors.StrokesSyntaxError`; ``error_info`` names the limit where one was
passed). No strokes at all is ``strokes_no_content``; no ``strokes`` field is ``strokes_missing``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from scipix.errors import StrokesMissingError, StrokesNoContentError, StrokesSyntaxError
from scipix.settings import InkSettings

Points = npt.NDArray[np.float64]  # (n, 2): x, y


@dataclass(frozen=True)
class InkLimits:
    """What one ink input may hold (``[ink]`` settings)."""

    max_strokes: int = 1_000
    max_points: int = 50_000  # over all strokes
    max_coordinate: float = 1_000_000.0  # |x|, |y|

    @classmethod
    def from_settings(cls, ink: InkSettings) -> InkLimits:
        return cls(ink.max_strokes, ink.max_points, ink.max_coordinate)


@dataclass(frozen=True)
class Ink:
    """Checked strokes: each an (n, 2) float64 array of x, y (y grows downwards), read-only."""

    strokes: tuple[Points, ...]

    @property
    def point_count(self) -> int:
        return sum(len(s) for s in self.strokes)

    def bounds(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` of every point."""
        every = np.concatenate(self.strokes)
        x0, y0 = every.min(axis=0)
        x1, y1 = every.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    def to_mathpix(self) -> dict[str, list[list[float]]]:
        """Mathpix's inner strokes object ``{"x": [[...]], "y": [[...]]}``."""
        return {
            "x": [s[:, 0].tolist() for s in self.strokes],
            "y": [s[:, 1].tolist() for s in self.strokes],
        }


def _too_many(what: str, limit: int | float, name: str) -> StrokesSyntaxError:
    return StrokesSyntaxError(
        f"too many {what}: at most {limit:g} are accepted", limit_name=name, limit_value=limit
    )


def _number(value: Any, where: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StrokesSyntaxError(f"{where} is {type(value).__name__}, not a number")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if not math.isfinite(number):
        raise StrokesSyntaxError(f"{where} is not a finite number")
    if abs(number) > limit:
        raise StrokesSyntaxError(
            f"{where} = {number:g} is beyond the coordinate limit ±{limit:g}",
            limit_name="max_coordinate",
            limit_value=limit,
        )
    return number


def make_ink(pairs: Sequence[tuple[Sequence[Any], Sequence[Any]]], limits: InkLimits) -> Ink:
    """Check (xs, ys) per stroke against ``limits`` and build :class:`Ink`."""
    if not pairs:
        raise StrokesNoContentError("The strokes hold no stroke: draw something first")
    if len(pairs) > limits.max_strokes:
        raise _too_many("strokes", limits.max_strokes, "max_strokes")
    total = 0
    strokes: list[Points] = []
    for i, (xs, ys) in enumerate(pairs):
        if len(xs) != len(ys):
            raise StrokesSyntaxError(f"stroke {i} has {len(xs)} x values and {len(ys)} y values")
        if not xs:
            raise StrokesSyntaxError(f"stroke {i} is empty: every stroke needs a point")
        total += len(xs)
        if total > limits.max_points:
            raise _too_many("points", limits.max_points, "max_points")
        cap = limits.max_coordinate
        array = np.array(
            [
                (_number(x, f"x[{i}][{j}]", cap), _number(y, f"y[{i}][{j}]", cap))
                for j, (x, y) in enumerate(zip(xs, ys, strict=True))
            ],
            dtype=np.float64,
        )
        array.setflags(write=False)
        strokes.append(array)
    return Ink(tuple(strokes))


def _lists(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(v, list) for v in value):
        raise StrokesSyntaxError(f"strokes.strokes.{name} must be a list of lists of numbers")
    return value


def ink_from_mathpix(body: Any, limits: InkLimits) -> Ink:
    """The ``strokes`` option of ``/v3/strokes``: ``{"strokes": {"x": [[...]], "y": [[...]]}}``."""
    if body is None:
        raise StrokesMissingError(
            'No strokes: send {"strokes": {"strokes": {"x": [...], "y": [...]}}}'
        )
    inner = body.get("strokes") if isinstance(body, dict) else None
    if not isinstance(inner, dict) or "x" not in inner or "y" not in inner:
        raise StrokesSyntaxError('strokes must be {"strokes": {"x": [[...]], "y": [[...]]}}')
    xs, ys = _lists(inner["x"], "x"), _lists(inner["y"], "y")
    if len(xs) != len(ys):
        raise StrokesSyntaxError(f"strokes has {len(xs)} x strokes and {len(ys)} y strokes")
    if len(xs) > limits.max_strokes:  # before pairing a huge list
        raise _too_many("strokes", limits.max_strokes, "max_strokes")
    return make_ink(list(zip(xs, ys, strict=True)), limits)
