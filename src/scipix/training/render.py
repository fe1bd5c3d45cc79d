"""Real-TeX rendering of formulas: many formulas per document, one page per formula.

A batch is one LaTeX document in one font. Each formula is typeset in its own box, shipped as
its own page and bracketed by log markers, so a formula TeX cannot compile is attributed from
the log and skipped without touching its neighbours. LaTeX's own output routine is disabled,
so stray material can never add pages; a run that dies or times out is resumed after the
formula it died on. Pages are rasterized by ``dvipng`` (``latex``, the fast default) or by
``pdftoppm`` at twice the resolution, strokes thickened by one pixel there and downsampled by
two (``pdflatex``: this matches the stroke weight of the im2latex images), then cropped to the
ink with a small white margin.

Scale: ``dpi`` is the resolution of a 10 pt document. The im2latex images correspond to about
100 dpi (capital letters ~10 px high); vary it by ±40 % for matched-scale variety.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from scipix.processes import run_process

Engine = Literal["dvi", "pdf"]
DEFAULT_DPI = 100
DEFAULT_MARGIN = 4
INK_THRESHOLD = 250


@dataclass(frozen=True)
class TexFont:
    """A math font: the preamble lines that select it (``amsmath`` is always loaded)."""

    name: str
    preamble: str
    family: str


_AMS = r"\usepackage{amssymb}"
#: The font catalogue; :func:`available_tex_fonts` says which of them this TeX Live can use.
TEX_FONTS: dict[str, TexFont] = {
    f.name: f
    for f in (
        TexFont("cm", _AMS, "Computer Modern"),
        TexFont("lmodern", r"\usepackage[T1]{fontenc}\usepackage{lmodern}" + _AMS, "Latin Modern"),
        TexFont("mathptmx", r"\usepackage{mathptmx}" + _AMS, "Times"),
        TexFont("txfonts", r"\usepackage{txfonts}", "Times"),
        TexFont("newtx", r"\usepackage{newtxtext}\usepackage{newtxmath}", "Times"),
        TexFont("fourier", r"\usepackage{fourier}" + _AMS, "Utopia"),
        TexFont("kpfonts", r"\usepackage{kpfonts}", "Kp-Fonts"),
        TexFont("euler", r"\usepackage{eulervm}" + _AMS, "Euler"),
        TexFont("mathpazo", r"\usepackage{mathpazo}" + _AMS, "Palatino"),
        TexFont("pxfonts", r"\usepackage{pxfonts}", "Palatino"),
        TexFont("stix2", r"\usepackage{stix2}", "STIX Two"),
        TexFont("libertinus", r"\usepackage{libertinust1math}", "Libertinus"),
        TexFont("cmbright", r"\usepackage{cmbright}" + _AMS, "CM Bright (sans)"),
        TexFont("arev", r"\usepackage{arev}", "Arev (sans)"),
        TexFont("charter", r"\usepackage[charter]{mathdesign}", "Charter"),
        TexFont("fouriernc", r"\usepackage{fouriernc}" + _AMS, "New Century Schoolbook"),
    )
}

#: Control sequences a formula may not contain: they read or write files, redefine things,
#: change catcodes or the output, or end the document. The normalizer never produces them.
_UNSAFE = re.compile(
    r"\\(input|include|openin|openout|read|write|immediate|closein|closeout|special"
    r"|(?:[egx]?def)|let|futurelet|global|catcode|csname|expandafter|afterassignment"
    r"|new[a-z]*|renew[a-z]*|provide[a-z]*|Declare[A-Za-z]*|usepackage|documentclass"
    r"|makeatletter|shipout|output|setbox|box|deadcycles|end\s*\{\s*document|begin\s*\{\s*document"
    r"|tracing[a-z]*|batchmode|nonstopmode|scrollmode|errorstopmode|pdf[a-z]*|directlua"
    r"|verb|loop|uppercase|lowercase|jobname|endinput|dump|string|char)(?![A-Za-z])|\^\^"
)
_MAX_FORMULA_CHARS = 4000


@dataclass(frozen=True)
class RenderOutcome:
    """One formula's result: a cropped grayscale image, or why there is none."""

    image: np.ndarray | None
    error: str | None = None


def unsafe_reason(latex: str) -> str | None:
    """Why ``latex`` must not be given to TeX, or None when it may."""
    if len(latex) > _MAX_FORMULA_CHARS:
        return f"formula longer than {_MAX_FORMULA_CHARS} characters"
    match = _UNSAFE.search(latex)
    if match:
        return f"forbidden command {match.group(0)!r}"
    return None


def crop_to_ink(image: np.ndarray, margin: int = DEFAULT_MARGIN) -> np.ndarray | None:
    """Crop a white-background grayscale image to its ink plus ``margin`` white pixels.

    None when there is no ink at all.
    """
    ink = image < INK_THRESHOLD
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    tight = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return cv2.copyMakeBorder(tight, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)


def document(font: TexFont, formulas: Sequence[str]) -> str:
    """The LaTeX source of one batch: one page and one pair of log markers per formula."""
    head = [
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath}",
        font.preamble,
        r"\tracinglostchars=3 \hoffset=-1in \voffset=-1in",
        r"\def\scipixnocr{\errmessage{a line break outside an environment}}",
        r"\def\scipixbegin#1{\typeout{<<SCIPIX-BEGIN #1>>}\setbox0\hbox\bgroup",
        r"  \let\\\scipixnocr \let\newline\scipixnocr $\displaystyle}",
        r"\def\scipixend#1{$\egroup\setbox2\vbox{\kern2pt\hbox{\kern2pt\box0\kern2pt}\kern2pt}%",
        r"  \pdfpagewidth=\wd2 \pdfpageheight=\dimexpr\ht2+\dp2\relax",
        r"  \count0=\numexpr#1+1\relax \shipout\box2 \typeout{<<SCIPIX-SHIP #1>>}}",
        r"\begin{document}",
        r"\output={\setbox0\box255 \deadcycles=0}",
    ]
    body = []
    for i, latex in enumerate(formulas):
        flat = " ".join(latex.split())
        body.append(f"\\scipixbegin{{{i}}}%\n{flat}\n\\scipixend{{{i}}}\n")
    tail = [r"\typeout{<<SCIPIX-END>>}", r"\end{document}", ""]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n".join(tail)


@dataclass
class TexRun:
    """What one TeX run did, read from its log markers (indices are positions in the batch)."""

    complete: bool = False
    output: str = ""
    shipped: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    culprit: int | None = None
    failure: str | None = None


_MARKER = re.compile(r"<<SCIPIX-(BEGIN|SHIP) (\d+)>>")


def parse_log(text: str) -> TexRun:
    """Attribute each ``!`` error to the formula whose markers surround it."""
    run = TexRun()
    current: int | None = None
    last_error: str | None = None
    for line in text.splitlines():
        marker = _MARKER.search(line)
        if marker:
            index = int(marker.group(2))
            if marker.group(1) == "BEGIN":
                current = index
            else:
                run.shipped.append(index)
                current = None
        elif line.startswith("!"):
            last_error = line[1:].strip()
            if current is not None:
                run.errors.setdefault(current, last_error)
        elif "<<SCIPIX-END>>" in line:
            run.complete = True
    run.culprit = current
    run.failure = run.errors.get(current, last_error) if current is not None else last_error
    return run


def run_tex(source: str, workdir: Path, engine: Engine, timeout_s: float) -> TexRun:
    """Compile ``source`` in nonstop mode with a time-out; the run's markers and errors."""
    for suffix in (".dvi", ".pdf", ".log", ".aux"):
        (workdir / f"batch{suffix}").unlink(missing_ok=True)
    (workdir / "batch.tex").write_text(source, encoding="utf-8")
    program = "latex" if engine == "dvi" else "pdflatex"
    command = [program, "-interaction=nonstopmode", "-no-shell-escape", "batch.tex"]
    result = run_process(command, workdir, timeout_s, env=tex_environment())
    log = workdir / "batch.log"
    text = result.output
    if result.finished and log.exists():
        text = log.read_text(encoding="utf-8", errors="replace")
    run = parse_log(text)
    output = workdir / ("batch.dvi" if engine == "dvi" else "batch.pdf")
    run.output = str(output) if output.exists() else ""
    run.complete = run.complete and result.finished and bool(run.output)
    if not result.finished:
        run.failure = f"TeX timed out after {timeout_s:.0f} s"
    return run


class TexRenderer:
    """Renders batches of formulas with real TeX in one font. Safe to use from many threads."""

    def __init__(
        self,
        font: str = "cm",
        engine: Engine = "dvi",
        margin: int = DEFAULT_MARGIN,
        timeout_s: float = 20.0,
    ) -> None:
        if font not in TEX_FONTS:
            raise ValueError(f"unknown TeX font {font!r}; known: {', '.join(TEX_FONTS)}")
        self.font = TEX_FONTS[font]
        self.engine: Engine = engine
        self.margin = margin
        self.timeout_s = timeout_s

    def render(
        self, formulas: Sequence[str], dpi: int | Sequence[int] = DEFAULT_DPI
    ) -> list[RenderOutcome]:
        """One outcome per formula, in order; ``dpi`` is one value or one per formula.
        Never raises for a bad formula."""
        dpis = [dpi] * len(formulas) if isinstance(dpi, int) else list(dpi)
        if len(dpis) != len(formulas):
            raise ValueError(f"{len(formulas)} formulas but {len(dpis)} dpi values")
        outcomes: dict[int, RenderOutcome] = {}
        todo: list[int] = []
        for i, latex in enumerate(formulas):
            reason = unsafe_reason(latex)
            if reason is not None:
                outcomes[i] = RenderOutcome(None, reason)
            elif not latex.strip():
                outcomes[i] = RenderOutcome(None, "empty formula")
            else:
                todo.append(i)
        with tempfile.TemporaryDirectory(prefix="scipix-tex-") as tmp:
            self._render_chunk(formulas, dpis, todo, Path(tmp), outcomes)
        return [outcomes[i] for i in range(len(formulas))]

    def _render_chunk(
        self,
        formulas: Sequence[str],
        dpis: list[int],
        indices: list[int],
        workdir: Path,
        outcomes: dict[int, RenderOutcome],
    ) -> None:
        """Render ``indices``; after a run that dies, drop its culprit and go on after it."""
        while indices:
            run = run_tex(
                document(self.font, [formulas[i] for i in indices]),
                workdir,
                engine=self.engine,
                timeout_s=self.timeout_s + 0.25 * len(indices),
            )
            local_dpis = [dpis[i] for i in indices]
            pages = self._rasterize(run, workdir, local_dpis) if run.output else {}
            for local, page in pages.items():
                outcomes[indices[local]] = self._outcome(page, run.errors.get(local))
            if run.complete and len(pages) == len(run.shipped):
                for local, index in enumerate(indices):
                    error = run.errors.get(local, "no page")
                    outcomes.setdefault(index, RenderOutcome(None, error))
                return
            culprit = run.culprit
            if culprit is None:  # died before the first marker: split until it is one formula
                if len(indices) == 1:
                    outcomes[indices[0]] = RenderOutcome(None, run.failure or "TeX failed")
                    return
                half = len(indices) // 2
                self._render_chunk(formulas, dpis, indices[:half], workdir, outcomes)
                indices = indices[half:]
                continue
            outcomes[indices[culprit]] = RenderOutcome(None, run.failure or "TeX stopped here")
            indices = [i for i in indices if i not in outcomes]

    def _outcome(self, page: np.ndarray | None, error: str | None) -> RenderOutcome:
        if error is not None:
            return RenderOutcome(None, error)
        if page is None:
            return RenderOutcome(None, "the font lacks a glyph (rasterizer warning)")
        image = crop_to_ink(page, self.margin)
        return RenderOutcome(image, None if image is not None else "empty rendering")

    def _rasterize(
        self, run: TexRun, workdir: Path, dpis: list[int]
    ) -> dict[int, np.ndarray | None]:
        """The shipped pages by batch position; None for a page drawn with glyphs missing
        (a font without its files). A page the rasterizer could not write is absent."""
        out_dir = workdir / "pages"
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir()
        if self.engine == "dvi":
            return self._dvipng(run, workdir, out_dir, dpis)
        top = 2 * max(dpis)  # the im2latex recipe: render large, bolden, downsample
        command = ["pdftoppm", "-r", str(top), "-gray", "-png", run.output, str(out_dir / "p")]
        if not run_process(command, workdir, self.timeout_s + 0.1 * len(dpis)).finished:
            return {}
        files = sorted(out_dir.glob("p-*.png"), key=lambda p: int(p.stem[2:]))
        pages: dict[int, np.ndarray | None] = {}
        for local, file in zip(run.shipped, files, strict=False):
            page = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
            if page is None:
                break
            page = cv2.erode(page, _BOLDEN)  # im2latex's images have strokes ~1 px bolder
            factor = dpis[local] / top
            size = (max(1, round(page.shape[1] * factor)), max(1, round(page.shape[0] * factor)))
            pages[local] = cv2.resize(page, size, interpolation=cv2.INTER_AREA)
        return pages

    def _dvipng(
        self, run: TexRun, workdir: Path, out_dir: Path, dpis: list[int]
    ) -> dict[int, np.ndarray | None]:
        """One dvipng call per distinct dpi; pages are selected and named by ``\\count0``,
        which the document sets to the batch position plus one."""
        pages: dict[int, np.ndarray | None] = {}
        for dpi in sorted({dpis[local] for local in run.shipped}):
            wanted = [local + 1 for local in run.shipped if dpis[local] == dpi]
            command = ["dvipng", "-T", "tight", "-D", str(dpi), "-bg", "White", "-fg", "Black"]
            command += ["-z", "1", "-pp", ",".join(map(str, wanted))]
            command += ["-o", str(out_dir / "p%06d.png"), run.output]
            result = run_process(command, workdir, self.timeout_s + 0.05 * len(wanted))
            if not result.finished:
                continue
            broken = {int(m.group(1)) for m in _BROKEN_PAGE.finditer(result.output)}
            for number in wanted:
                path = out_dir / f"p{number:06d}.png"
                page = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.exists() else None
                if page is not None:
                    pages[number - 1] = None if number in broken else page
        return pages


_BOLDEN = np.ones((2, 2), np.uint8)
#: A dvipng page (``[n ...]``) during which it warned that it could not draw something.
_BROKEN_PAGE = re.compile(r"\[(\d+)[^\]]*?(?:unable to draw|not found|could not be found)")


def available_tex_fonts(engine: Engine = "dvi") -> tuple[str, ...]:
    """The catalogue fonts this TeX installation renders correctly (each probed once)."""
    return tuple(name for name in TEX_FONTS if tex_font_works(name, engine))


@functools.cache
def tex_font_works(name: str, engine: Engine = "dvi") -> bool:
    """Whether ``name`` renders a probe formula with all its glyphs (cached per process)."""
    if name not in TEX_FONTS or shutil.which("latex" if engine == "dvi" else "pdflatex") is None:
        return False
    probe = [r"E(v)=\sum_{i=1}^{n}\alpha_{i}^{2}+\frac{\mathcal{A}}{\sqrt{x}}\mathbb{R}\Gamma"]
    outcome = TexRenderer(name, engine=engine, timeout_s=30.0).render(probe, DEFAULT_DPI)[0]
    return outcome.image is not None and _plausible(outcome.image)


def _plausible(image: np.ndarray) -> bool:
    """A probe rendering with all its glyphs: wide and with enough ink (not a broken font)."""
    height, width = image.shape
    ink = float((image < 128).mean())
    return width > 60 and 15 < height < 100 and ink > 0.02


def tex_available() -> bool:
    """True when ``latex`` and ``dvipng`` are on the PATH."""
    return shutil.which("latex") is not None and shutil.which("dvipng") is not None


def tex_environment() -> dict[str, str]:
    """The environment TeX runs in: no font generation, no wrapped log lines, no shell."""
    env = dict(os.environ)
    env.update(
        {
            "max_print_line": "10000",
            "error_line": "254",
            "half_error_line": "238",
            "MKTEXPK": "0",
            "MKTEXTFM": "0",
            "MKTEXMF": "0",
            "shell_escape": "f",
            "openout_any": "p",
        }
    )
    return env
