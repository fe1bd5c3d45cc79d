"""Hand-made pen strokes for tests: a few glyphs as polylines in a unit box (y grows down),
laid out left to right into a formula. No CROHME data is needed (tests never read ../shared)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Stroke = npt.NDArray[np.float64]


def _line(x0: float, y0: float, x1: float, y1: float, n: int = 12) -> Stroke:
    t = np.linspace(0.0, 1.0, n)
    return np.c_[x0 + (x1 - x0) * t, y0 + (y1 - y0) * t]


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 20) -> Stroke:
    t = np.radians(np.linspace(a0, a1, n))
    return np.c_[cx + rx * np.cos(t), cy + ry * np.sin(t)]


GLYPHS: dict[str, list[Stroke]] = {
    "x": [_line(0.1, 0.35, 0.75, 1.0), _line(0.75, 0.35, 0.1, 1.0)],
    "y": [_line(0.1, 0.35, 0.45, 0.85), _line(0.8, 0.35, 0.25, 1.35)],
    "+": [_line(0.1, 0.6, 0.8, 0.6), _line(0.45, 0.25, 0.45, 0.95)],
    "-": [_line(0.1, 0.6, 0.7, 0.6)],
    "=": [_line(0.1, 0.48, 0.8, 0.48), _line(0.1, 0.72, 0.8, 0.72)],
    "1": [_line(0.25, 0.2, 0.45, 0.0, 6), _line(0.45, 0.0, 0.45, 1.0)],
    "2": [
        np.r_[
            _arc(0.45, 0.28, 0.3, 0.27, 200, 405),
            _line(0.66, 0.48, 0.1, 1.0, 10)[1:],
            _line(0.1, 1.0, 0.8, 1.0, 10)[1:],
        ]
    ],
    "3": [np.r_[_arc(0.42, 0.27, 0.27, 0.25, 200, 450), _arc(0.42, 0.74, 0.3, 0.26, 270, 520)]],
}


def formula_strokes(
    chars: str, size: float = 60.0, jitter: float = 1.0, seed: int = 0, origin: float = 0.0
) -> list[Stroke]:
    """The strokes of ``chars`` (each a key of :data:`GLYPHS`), ``size`` px per glyph."""
    rng = np.random.default_rng(seed)
    strokes: list[Stroke] = []
    for i, char in enumerate(chars):
        for glyph in GLYPHS[char]:
            points = (glyph + np.array([i, 0.0])) * size + origin
            strokes.append(points + rng.normal(0.0, jitter, points.shape))
    return strokes


def mathpix_strokes(chars: str, **kw: float) -> dict[str, list[list[float]]]:
    """Mathpix's inner strokes object for ``chars``."""
    strokes = formula_strokes(chars, **kw)  # type: ignore[arg-type]
    return {
        "x": [[round(v, 2) for v in s[:, 0]] for s in strokes],
        "y": [[round(v, 2) for v in s[:, 1]] for s in strokes],
    }


def inkml(chars: str, truth: str) -> str:
    """An InkML document for ``chars`` with one symbol trace group per glyph."""
    traces, groups, index = [], [], 0
    for i, char in enumerate(chars):
        refs = []
        for glyph in GLYPHS[char]:
            points = (glyph + np.array([i, 0.0])) * 60.0
            text = ", ".join(f"{x:.1f} {y:.1f}" for x, y in points)
            traces.append(f'<trace id="{index}">{text}</trace>')
            refs.append(f'<traceView traceDataRef="{index}"/>')
            index += 1
        groups.append(
            f'<traceGroup xml:id="g{i}"><annotation type="truth">{char}</annotation>'
            + "".join(refs)
            + "</traceGroup>"
        )
    return (
        '<ink xmlns="http://www.w3.org/2003/InkML">\n'
        f'<annotation type="truth">${truth}$</annotation>\n'
        '<annotation type="writer">scipix-tests</annotation>\n'
        + "\n".join(traces)
        + '\n<traceGroup xml:id="all"><annotation type="type">Segmentation</annotation>\n'
        + "\n".join(groups)
        + "\n</traceGroup>\n</ink>\n"
    )
