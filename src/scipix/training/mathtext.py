"""matplotlib mathtext: a second, fast renderer with its own fonts, for the formulas it supports.

mathtext implements a subset of TeX math (no environments, no ``\\displaystyle``); a formula it
cannot parse is reported as an error outcome, never rendered approximately. Scale follows the
TeX renderer: a 10 pt font at ``dpi`` dots per inch. matplotlib is not thread-safe: use one
renderer per process (the dataset cache renders in worker processes).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from scipix.training.render import DEFAULT_DPI, DEFAULT_MARGIN, RenderOutcome, crop_to_ink

#: mathtext's own font sets (``FontProperties.math_fontfamily``).
MATHTEXT_FONTS: tuple[str, ...] = ("cm", "stix", "stixsans", "dejavusans", "dejavuserif")
_MAX_CHARS = 1500
#: Style switches mathtext does not know and that change nothing in a displayed formula.
_DROP = re.compile(r"\\(displaystyle|textstyle|limits|nolimits)(?![A-Za-z])")
#: Things mathtext would parse but draw differently from TeX: refuse rather than mislabel.
_REFUSE = re.compile(r"\\(begin|end|not|displaylimits|atop|over|choose|color|boxed)(?![A-Za-z])")


@functools.cache
def _parser() -> Any:
    from matplotlib.mathtext import MathTextParser

    # layout warnings ("Underful Vlist ...") on stderr for every tight box: not our business
    logging.getLogger("matplotlib._mathtext").setLevel(logging.ERROR)
    return MathTextParser("agg")


@functools.cache
def _font(family: str, size: float) -> Any:
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=size, math_fontfamily=family)


def mathtext_available() -> bool:
    """True when matplotlib is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def to_mathtext(latex: str) -> str | None:
    """The mathtext spelling of ``latex``, or None when mathtext cannot draw it faithfully."""
    if len(latex) > _MAX_CHARS or _REFUSE.search(latex) or "$" in latex or "\\\\" in latex:
        return None
    return _DROP.sub(" ", latex).strip() or None


class MathtextRenderer:
    """Renders formulas with matplotlib mathtext in one of :data:`MATHTEXT_FONTS`."""

    def __init__(self, font: str = "cm", margin: int = DEFAULT_MARGIN) -> None:
        if font not in MATHTEXT_FONTS:
            raise ValueError(f"unknown mathtext font {font!r}; known: {', '.join(MATHTEXT_FONTS)}")
        self.font = font
        self.margin = margin

    def render(
        self, formulas: Sequence[str], dpi: int | Sequence[int] = DEFAULT_DPI
    ) -> list[RenderOutcome]:
        """One outcome per formula, in order; ``dpi`` is one value or one per formula.
        Never raises for a bad formula."""
        dpis = [dpi] * len(formulas) if isinstance(dpi, int) else list(dpi)
        if len(dpis) != len(formulas):
            raise ValueError(f"{len(formulas)} formulas but {len(dpis)} dpi values")
        return [self.render_one(latex, d) for latex, d in zip(formulas, dpis, strict=True)]

    def render_one(self, latex: str, dpi: int = DEFAULT_DPI) -> RenderOutcome:
        source = to_mathtext(latex)
        if source is None:
            return RenderOutcome(None, "not supported by mathtext")
        try:
            parsed = _parser().parse(f"${source}$", dpi=dpi, prop=_font(self.font, 10.0))
        except Exception as exc:  # pyparsing and layout errors of every kind
            lines = str(exc).strip().splitlines()  # the formula, a caret, then the reason
            return RenderOutcome(None, f"mathtext: {lines[-1] if lines else type(exc).__name__}")
        ink = np.asarray(parsed.image, dtype=np.uint8)
        image = crop_to_ink(255 - ink, self.margin)
        return RenderOutcome(image, None if image is not None else "empty rendering")
