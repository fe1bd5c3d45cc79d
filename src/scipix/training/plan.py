"""What a cache build renders: weighted renderer choices, batches by font, and one batch's work.

:func:`plan_jobs` draws a renderer and font for each (formula, copy) from a seed, so the same
arguments give the same plan and the cache can skip what it already holds; :func:`render_job`
runs in a worker process and returns PNG bytes or the reason there are none.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np

from scipix.errors import StoreError
from scipix.training.mathjax import MATHJAX_FONTS, MathjaxRenderer, mathjax_available
from scipix.training.mathtext import MATHTEXT_FONTS, MathtextRenderer
from scipix.training.render import (
    RenderOutcome,
    TexRenderer,
    available_tex_fonts,
    tex_font_works,
)


@dataclass(frozen=True)
class RendererSpec:
    """One way to render, with its share of the samples: a renderer, its fonts and dpi range.

    ``fonts=()`` means every font of the catalogue this machine can render.
    """

    renderer: Literal["tex", "mathtext", "mathjax"]
    fonts: tuple[str, ...] = ()
    dpi_range: tuple[int, int] = (60, 140)
    weight: float = 1.0
    engine: Literal["dvi", "pdf"] = "dvi"

    def usable_fonts(self) -> tuple[str, ...]:
        if self.renderer == "mathtext":
            return tuple(f for f in self.fonts if f in MATHTEXT_FONTS) or MATHTEXT_FONTS
        if self.renderer == "mathjax":
            return MATHJAX_FONTS if mathjax_available() else ()
        if not self.fonts:
            return available_tex_fonts(self.engine)
        return tuple(f for f in self.fonts if tex_font_works(f, self.engine))


#: Matched-scale defaults: TeX in every font (dvipng), the im2latex look (pdflatex, bolder
#: strokes) mostly in Computer Modern, and mathtext for its own fonts.
DEFAULT_RENDERERS: tuple[RendererSpec, ...] = (
    RendererSpec("tex", weight=0.45),
    RendererSpec("tex", fonts=("cm",), engine="pdf", weight=0.15),
    RendererSpec("tex", engine="pdf", weight=0.1),
    RendererSpec("mathtext", weight=0.3),
)


@dataclass(frozen=True)
class BatchJob:
    """Formulas rendered together in one font: ``items`` are (key, latex, source, dpi)."""

    renderer: str
    engine: str
    font: str
    items: tuple[tuple[str, str, str, int], ...]


@dataclass
class BuildReport:
    """What a build did; ``rate`` is rendered-or-failed formulas per second."""

    planned: int = 0
    cached: int = 0
    rendered: int = 0
    failed: int = 0
    seconds: float = 0.0
    by_renderer: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return (self.rendered + self.failed) / self.seconds if self.seconds > 0 else 0.0

    def add(self, results: list[dict[str, Any]]) -> None:
        for result in results:
            if result.get("png") is None:
                self.failed += 1
                self.errors[str(result.get("error", "?"))[:60]] += 1
            else:
                self.rendered += 1
                self.by_renderer[f"{result['renderer']}/{result['font']}"] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "cached": self.cached,
            "rendered": self.rendered,
            "failed": self.failed,
            "seconds": round(self.seconds, 2),
            "formulas_per_s": round(self.rate, 1),
            "by_renderer": dict(self.by_renderer.most_common()),
            "errors": dict(self.errors.most_common(10)),
        }


def sample_key(renderer: str, engine: str, font: str, copy: int, latex: str) -> str:
    text = f"{renderer}|{engine}|{font}|{copy}|{latex}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def plan_jobs(
    pairs: Sequence[tuple[str, str]],
    renderers: Sequence[RendererSpec],
    copies: int,
    seed: int,
    batch_size: int,
    skip: set[str],
) -> tuple[list[BatchJob], BuildReport]:
    """Draw a renderer and font per (formula, copy), drop cached keys, batch by font, shuffle.

    The dpi is drawn per batch (one rasterizer call per batch; batches are shuffled, so the
    training stream still mixes every dpi), which is why it is not part of a sample's key.
    """
    specs = [(s, s.usable_fonts()) for s in renderers if s.weight > 0]
    specs = [(s, fonts) for s, fonts in specs if fonts]
    if not specs:
        raise StoreError("no usable renderer: install TeX Live (latex, dvipng) or matplotlib")
    weights = np.array([s.weight for s, _ in specs], dtype=np.float64)
    weights /= weights.sum()
    groups: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
    report, seen = BuildReport(), set(skip)
    for latex, source in pairs:
        digest = int.from_bytes(hashlib.blake2b(latex.encode(), digest_size=8).digest(), "little")
        for copy in range(copies):
            rng = np.random.default_rng([seed, copy, digest])
            which = int(rng.choice(len(specs), p=weights))
            spec, fonts = specs[which]
            font = fonts[int(rng.integers(len(fonts)))]
            key = sample_key(spec.renderer, _engine(spec), font, copy, latex)
            report.planned += 1
            if key in seen:
                report.cached += 1
                continue
            seen.add(key)
            groups.setdefault((which, font), []).append((key, latex, source))
    jobs: list[BatchJob] = []
    for (which, font), items in groups.items():
        spec = specs[which][0]
        low, high = spec.dpi_range
        for start in range(0, len(items), batch_size):
            rng = np.random.default_rng([seed, which, len(jobs), start])
            dpi = int(round(rng.uniform(low, high) / 10.0) * 10)
            chunk = tuple((k, t, s, dpi) for k, t, s in items[start : start + batch_size])
            jobs.append(BatchJob(spec.renderer, _engine(spec), font, chunk))
    order = np.random.default_rng(seed).permutation(len(jobs))
    return [jobs[int(i)] for i in order], report


def _engine(spec: RendererSpec) -> str:
    if spec.renderer == "mathjax":
        return "svg"
    return spec.engine if spec.renderer == "tex" else "agg"


def render_job(job: BatchJob) -> list[dict[str, Any]]:
    """Render one job (in a worker process); each result carries ``png`` bytes or ``error``."""
    formulas = [latex for _, latex, _, _ in job.items]
    dpis = [dpi for _, _, _, dpi in job.items]
    outcomes: list[RenderOutcome]
    if job.renderer == "tex":
        engine: Literal["dvi", "pdf"] = "pdf" if job.engine == "pdf" else "dvi"
        outcomes = TexRenderer(job.font, engine=engine).render(formulas, dpis)
    elif job.renderer == "mathjax":
        outcomes = MathjaxRenderer(job.font).render(formulas, dpis)
    else:
        outcomes = MathtextRenderer(job.font).render(formulas, dpis)
    results = []
    for (key, latex, source, dpi), outcome in zip(job.items, outcomes, strict=True):
        result: dict[str, Any] = {"key": key, "latex": latex, "source": source}
        result.update(renderer=job.renderer, engine=job.engine, font=job.font, dpi=dpi)
        if outcome.image is None:
            result["error"] = outcome.error
        else:
            png = cv2.imencode(".png", outcome.image, [cv2.IMWRITE_PNG_COMPRESSION, 3])[1]
            height, width = outcome.image.shape
            result.update(png=png.tobytes(), height=height, width=width)
        results.append(result)
    return results


def run_jobs(jobs: list[BatchJob], n_workers: int) -> Iterator[list[dict[str, Any]]]:
    """Render the jobs, inline or in ``n_workers`` processes, yielding each job's results."""
    if n_workers <= 0:
        for job in jobs:
            yield render_job(job)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
        pending: set[Future[list[dict[str, Any]]]] = set()
        queue = list(reversed(jobs))
        while True:
            while queue and len(pending) < 2 * n_workers:
                pending.add(pool.submit(render_job, queue.pop()))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
