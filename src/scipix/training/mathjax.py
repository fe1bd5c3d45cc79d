"""MathJax: the web's renderer (its own TeX fonts, drawn as SVG paths), rasterised by resvg.

One Node process (``tools/mathjax/render.js``, installed by ``scripts/setup.sh`` with
``npm ci --prefix tools/mathjax``) typesets a whole batch: formulas go in as JSON lines, SVG
comes back line by line. A formula MathJax refuses (an unknown command, a syntax error) is an
error outcome, never a red error box. Scale follows the TeX renderer: a 10 pt font at ``dpi``
dots per inch (MathJax's SVG viewBox is in thousandths of an em). ``resvg-py`` (``[train]``)
rasterises with anti-aliasing, as a browser does.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from scipix.training.render import DEFAULT_DPI, DEFAULT_MARGIN, RenderOutcome, crop_to_ink

#: MathJax 3 ships one font set (TeX); the name keeps the cache's (renderer, font) keys uniform.
MATHJAX_FONTS: tuple[str, ...] = ("mathjax-tex",)
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"')
_SIZE = re.compile(r'\s(width|height)="[^"]*"')
_MAX_CHARS = 4000
_TIMEOUT_S = 120.0
_INSTALL = "npm ci --prefix tools/mathjax (scripts/setup.sh does it)"


def mathjax_dir() -> Path:
    """Where ``render.js`` and its ``node_modules`` are: ``$SCIPIX_MATHJAX_DIR`` or the
    repository's ``tools/mathjax``."""
    override = os.environ.get("SCIPIX_MATHJAX_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "tools" / "mathjax"


@functools.cache
def mathjax_available() -> bool:
    """True when Node, the installed ``mathjax-full`` package and ``resvg-py`` are all here."""
    folder = mathjax_dir()
    if shutil.which("node") is None or not (folder / "node_modules" / "mathjax-full").is_dir():
        return False
    try:
        import resvg_py  # noqa: F401
    except ImportError:
        return False
    return True


def svg_to_gray(svg: str, dpi: int) -> np.ndarray | None:
    """Rasterise one MathJax SVG at ``dpi`` (10 pt font): grayscale ink on white, uncropped."""
    import resvg_py

    box = _VIEWBOX.search(svg)
    if box is None:
        return None
    em_px = 10.0 * dpi / 72.0
    width = max(1, round(float(box.group(3)) / 1000.0 * em_px))
    height = max(1, round(float(box.group(4)) / 1000.0 * em_px))
    size = f'<svg width="{width}" height="{height}"'
    sized = _SIZE.sub("", svg, count=2).replace("<svg", size, 1)
    png = resvg_py.svg_to_bytes(svg_string=sized, background="#ffffff", skip_system_fonts=False)
    image = cv2.imdecode(np.frombuffer(bytes(png), np.uint8), cv2.IMREAD_GRAYSCALE)
    return None if image is None else np.asarray(image, dtype=np.uint8)


def typeset(formulas: Sequence[str], folder: Path | None = None) -> list[str | dict[str, str]]:
    """SVG text per formula (or ``{"error": why}``), from one Node process for the batch."""
    folder = folder or mathjax_dir()
    script = folder / "render.js"
    if not mathjax_available():
        raise RuntimeError(f"MathJax is not installed: run {_INSTALL}, and pip install resvg-py")
    payload = "".join(json.dumps({"latex": f, "display": True}) + "\n" for f in formulas)
    done = subprocess.run(
        ["node", str(script)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S + len(formulas),
        check=False,
    )
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) != len(formulas):
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return [{"error": f"mathjax process failed: {reason}"} for _ in formulas]
    out: list[str | dict[str, str]] = []
    for line in lines:
        record = json.loads(line)
        out.append(record["svg"] if "svg" in record else {"error": str(record.get("error"))})
    return out


class MathjaxRenderer:
    """Renders formulas with MathJax (SVG) and resvg, many per Node process."""

    def __init__(self, font: str = "mathjax-tex", margin: int = DEFAULT_MARGIN) -> None:
        if font not in MATHJAX_FONTS:
            raise ValueError(f"unknown MathJax font {font!r}; known: {', '.join(MATHJAX_FONTS)}")
        self.font, self.margin = font, margin

    def render(
        self, formulas: Sequence[str], dpi: int | Sequence[int] = DEFAULT_DPI
    ) -> list[RenderOutcome]:
        """One outcome per formula, in order; ``dpi`` is one value or one per formula."""
        dpis = [dpi] * len(formulas) if isinstance(dpi, int) else list(dpi)
        if len(dpis) != len(formulas):
            raise ValueError(f"{len(formulas)} formulas but {len(dpis)} dpi values")
        todo = [i for i, f in enumerate(formulas) if len(f) <= _MAX_CHARS and f.strip()]
        outcomes = [RenderOutcome(None, "empty or too long for MathJax")] * len(formulas)
        if not todo:
            return outcomes
        for i, result in zip(todo, typeset([formulas[i] for i in todo]), strict=True):
            outcomes[i] = self._outcome(result, dpis[i])
        return outcomes

    def _outcome(self, result: str | dict[str, str], dpi: int) -> RenderOutcome:
        if isinstance(result, dict):
            return RenderOutcome(None, f"mathjax: {result['error']}")
        try:
            image = svg_to_gray(result, dpi)
        except ValueError as exc:
            return RenderOutcome(None, f"resvg: {exc}")
        cropped = None if image is None else crop_to_ink(image, self.margin)
        return RenderOutcome(cropped, None if cropped is not None else "empty rendering")
