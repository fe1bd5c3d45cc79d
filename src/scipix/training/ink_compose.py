"""New handwritten formulas from symbol ink: CROHME's symbol trace groups laid out by mathtext.

CROHME's 3.6 k distinct expressions are few. Each of its InkML files also says which strokes
make which symbol (``traceGroup`` with a truth label), so its ink is a library of handwritten
symbols: some 90 labels, thousands of samples each for digits and letters, by 291 writers.
:func:`compose_strokes` writes any corpus formula with them: matplotlib's mathtext lays the
formula out (``MathTextParser("path")``: every glyph's character, font size and position, and
the rules of fraction bars and radicals); each glyph's box receives a symbol of its label (from
the same writer when that writer wrote one, else from any), scaled into the box; bars become
hand-drawn lines and a radical sign is stretched over its bar. The label is the corpus formula,
so the model sees handwriting of formulas that no CROHME writer wrote.

A formula with a glyph that no CROHME symbol stands for (an unknown letter, an accent, a
character the library lacks) is not composed (:func:`glyph_layout` answers None).
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scipix.ink import InkDocument
from scipix.ink.strokes import Points
from scipix.training.mathtext import to_mathtext

#: mathtext's characters (Unicode, as the dejavusans and stix font sets give them) and the
#: CROHME symbol labels that draw them; letters and digits are their own labels.
SYMBOL_LABELS: dict[str, str] = {
    "+": "+", "−": "-", "-": "-", "=": "=", "(": "(", ")": ")", "[": "[", "]": "]",
    "{": "\\{", "}": "\\}", "|": "|", ",": ",", ".": ".", "!": "!", "/": "/", "<": "\\lt",
    ">": "\\gt", "≤": "\\leq", "≥": "\\geq", "≠": "\\neq", "×": "\\times", "÷": "\\div",
    "±": "\\pm", "→": "\\rightarrow", "∞": "\\infty", "∫": "\\int", "∑": "\\sum",
    "√": "\\sqrt", "α": "\\alpha", "β": "\\beta", "γ": "\\gamma", "θ": "\\theta", "π": "\\pi",
    "μ": "\\mu", "σ": "\\sigma", "φ": "\\phi", "ϕ": "\\phi", "Δ": "\\Delta", "λ": "\\lambda",
    "∈": "\\in", "′": "\\prime", "…": "\\ldots", "∀": "\\forall", "∃": "\\exists",
}  # fmt: skip
LAYOUT_FONTS = ("dejavusans", "stix")


@dataclass(frozen=True)
class Box:
    """A glyph (its CROHME label) or a rule (``label`` ``"-"``) in layout units, y down."""

    label: str
    x0: float
    y0: float
    x1: float
    y1: float
    rule: bool = False


@dataclass(frozen=True)
class SymbolInk:
    """One written symbol: strokes moved to its box's top-left corner, its size, its writer."""

    strokes: tuple[Points, ...]
    width: float
    height: float
    writer: str


@dataclass
class SymbolLibrary:
    """Every written symbol by label, and by (label, writer)."""

    by_label: dict[str, list[SymbolInk]] = field(default_factory=lambda: defaultdict(list))
    by_writer: dict[tuple[str, str], list[SymbolInk]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def build(cls, documents: Iterable[InkDocument]) -> SymbolLibrary:
        library = cls()
        for number, doc in enumerate(documents):
            writer = doc.writer or f"file{number}"
            for symbol in doc.symbols:
                strokes = [doc.ink.strokes[i] for i in symbol.traces]
                every = np.concatenate(strokes)
                low, high = every.min(axis=0), every.max(axis=0)
                size = high - low
                made = SymbolInk(
                    tuple(s - low for s in strokes), float(size[0]), float(size[1]), writer
                )
                library.by_label[symbol.label].append(made)
                library.by_writer[(symbol.label, writer)].append(made)
        return library

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(self.by_label)

    def writers(self) -> list[str]:
        return sorted({writer for _, writer in self.by_writer})

    def pick(self, label: str, writer: str, rng: np.random.Generator) -> SymbolInk:
        own = self.by_writer.get((label, writer))
        pool = own if own and rng.random() < 0.85 else self.by_label[label]
        return pool[int(rng.integers(len(pool)))]


@functools.cache
def _parser() -> Any:
    from matplotlib.mathtext import MathTextParser

    logging.getLogger("matplotlib._mathtext").setLevel(logging.ERROR)
    return MathTextParser("path")


def _glyph_box(glyph: Sequence[Any], label: str) -> Box:
    from matplotlib.ft2font import LoadFlags

    font, size, code, _, ox, oy = glyph
    font.set_size(size, 72)
    bx0, by0, bx1, by1 = (v / 64.0 for v in font.load_char(code, flags=LoadFlags.NO_HINTING).bbox)
    return Box(label, ox + bx0, -(oy + by1), ox + bx1, -(oy + by0))


def glyph_layout(latex: str, labels: frozenset[str], font: str = "dejavusans") -> list[Box] | None:
    """The glyph and rule boxes of ``latex`` as mathtext lays it out (10 pt, y down), or None
    when mathtext cannot draw it or a glyph has no label in ``labels``."""
    from matplotlib.font_manager import FontProperties

    source = to_mathtext(latex)
    if source is None:
        return None
    try:
        parsed = _parser().parse(
            f"${source}$", dpi=72, prop=FontProperties(size=10, math_fontfamily=font)
        )
    except (ValueError, KeyError, RuntimeError):
        return None
    boxes: list[Box] = []
    for glyph in parsed.glyphs:
        char = chr(glyph[2])
        label = SYMBOL_LABELS.get(char, char if char.isascii() and char.isalnum() else "")
        if label not in labels:
            return None
        boxes.append(_glyph_box(glyph, label))
    for x, y, w, h in parsed.rects:
        boxes.append(Box("-", x, -(y + h), x + w, -y, rule=True))
    return _join_radicals(boxes) if boxes else None


def _join_radicals(boxes: list[Box]) -> list[Box]:
    """A radical sign's box stretched over its bar (CROHME writes both as one \\sqrt)."""
    rules = [b for b in boxes if b.rule]
    used: set[int] = set()
    out: list[Box] = []
    for box in boxes:
        if box.rule:
            continue
        if box.label == "\\sqrt":
            h = box.y1 - box.y0
            for i, rule in enumerate(rules):
                if (
                    i not in used
                    and abs(rule.x0 - box.x1) < 0.5 * h
                    and abs(rule.y0 - box.y0) < 0.3 * h
                ):
                    used.add(i)
                    box = Box(box.label, box.x0, min(box.y0, rule.y0), rule.x1, box.y1)
                    break
        out.append(box)
    return out + [r for i, r in enumerate(rules) if i not in used]


def _rule_stroke(box: Box, rng: np.random.Generator, unit: float) -> Points:
    n = 12
    xs = np.linspace(box.x0, box.x1, n)
    ys = (box.y0 + box.y1) / 2 + np.cumsum(rng.normal(0.0, 0.02 * unit, n))
    line: Points = np.c_[xs, ys]
    return line


def _placed(symbol: SymbolInk, box: Box) -> list[Points]:
    """The symbol scaled to the box's height (a flat one, such as a minus, to its width), at
    most as wide as a few box widths, and centred on the box."""
    bw, bh = max(box.x1 - box.x0, 1e-3), max(box.y1 - box.y0, 1e-3)
    iw, ih = max(symbol.width, 1e-3), max(symbol.height, 1e-3)
    scale = bw / iw if iw / ih > 3.0 else bh / ih
    widest = max(2.5 * bw, 1.2 * bh)
    scale = min(scale, widest / iw)
    offset = np.array([box.x0 + (bw - iw * scale) / 2, box.y0 + (bh - ih * scale) / 2])
    return [s * scale + offset for s in symbol.strokes]


def compose_strokes(
    boxes: Sequence[Box], library: SymbolLibrary, rng: np.random.Generator
) -> list[Points]:
    """Handwritten strokes for a layout: one writer's symbols where possible."""
    writers = library.writers()
    writer = writers[int(rng.integers(len(writers)))]
    unit = float(np.median([b.y1 - b.y0 for b in boxes if not b.rule] or [10.0]))
    strokes: list[Points] = []
    for box in boxes:
        if box.rule:
            strokes.append(_rule_stroke(box, rng, unit))
        else:
            strokes.extend(_placed(library.pick(box.label, writer, rng), box))
    return strokes
