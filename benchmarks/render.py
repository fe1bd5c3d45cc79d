"""Rendering throughput of the data engine: formulas per second, medians over repeats.

    python benchmarks/render.py                      # every usable TeX font + mathtext
    python benchmarks/render.py --fonts cm,fourier --n 192 --repeats 3 --workers 2

TeX: batches of ``--batch`` formulas in one font and one dpi (drawn from 60..140), run by
``--workers`` threads (the work happens in the TeX and rasterizer processes): ``latex`` +
``dvipng`` per font, and ``pdflatex`` + ``pdftoppm`` (the im2latex look) for cm. mathtext: the
same formulas in ``--workers`` processes. Formulas come from the random grammar, normalized, so
no data folder is needed. ``--build N`` also times an end-to-end ``DatasetCache.build`` of N
formulas with the default renderer mix (process start-up included). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from scipix.training.cache import DEFAULT_RENDERERS, DatasetCache
from scipix.training.corpus import generated_formulas
from scipix.training.mathtext import MATHTEXT_FONTS, MathtextRenderer
from scipix.training.render import TexRenderer, available_tex_fonts


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def dpi_for(seed: int) -> int:
    """One dpi per batch, drawn from 60..140 as the dataset cache does."""
    return int(round(np.random.default_rng(seed).uniform(60, 140) / 10) * 10)


def tex_rate(
    font: str, formulas: list[str], workers: int, batch: int, engine: str = "dvi"
) -> tuple[float, int]:
    renderer = TexRenderer(font, engine="pdf" if engine == "pdf" else "dvi")
    jobs = [(c, dpi_for(i)) for i, c in enumerate(chunks(formulas, batch))]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = [o for part in pool.map(lambda j: renderer.render(*j), jobs) for o in part]
    elapsed = time.perf_counter() - started
    return len(formulas) / elapsed, sum(o.image is None for o in outcomes)


def _mathtext_chunk(job: tuple[str, list[str]]) -> int:
    font, formulas = job
    return sum(o.image is None for o in MathtextRenderer(font).render(formulas, 100))


def mathtext_rate(formulas: list[str], workers: int, batch: int) -> tuple[float, int]:
    jobs = [
        (MATHTEXT_FONTS[i % len(MATHTEXT_FONTS)], c) for i, c in enumerate(chunks(formulas, batch))
    ]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_mathtext_chunk, jobs[:workers]))  # start the workers, import matplotlib
        started = time.perf_counter()
        failed = sum(pool.map(_mathtext_chunk, jobs))
    return len(formulas) / (time.perf_counter() - started), failed


def median_of(run: Callable[[], tuple[float, int]], repeats: int) -> dict[str, float]:
    results = [run() for _ in range(repeats)]
    rates = [r for r, _ in results]
    return {
        "formulas_per_s": round(statistics.median(rates), 1),
        "min": round(min(rates), 1),
        "max": round(max(rates), 1),
        "failed": results[0][1],
    }


def build_rate(formulas: list[str], workers: int) -> dict[str, float]:
    from scipix.training.corpus import Formula

    items = [Formula(latex, (), "generator") for latex in formulas]
    with tempfile.TemporaryDirectory() as tmp:
        report = DatasetCache(Path(tmp)).build(items, DEFAULT_RENDERERS, n_workers=workers)
    return {
        "formulas_per_s": round(report.rate, 1),
        "rendered": report.rendered,
        "failed": report.failed,
        "seconds": round(report.seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fonts", default="", help="comma list (default: every usable font)")
    parser.add_argument("--n", type=int, default=192, help="formulas per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=48)
    parser.add_argument("--build", type=int, default=0, help="also time a build of N formulas")
    args = parser.parse_args()
    formulas = [f.latex for f in generated_formulas(args.n, seed=1)]
    fonts = [f for f in args.fonts.split(",") if f] or list(available_tex_fonts())
    report: dict[str, object] = {
        "n": len(formulas),
        "workers": args.workers,
        "batch": args.batch,
        "repeats": args.repeats,
    }
    tex = {
        f: median_of(lambda f=f: tex_rate(f, formulas, args.workers, args.batch), args.repeats)
        for f in fonts
    }
    report["tex"] = tex
    report["tex_pdf_cm"] = median_of(
        lambda: tex_rate("cm", formulas, args.workers, args.batch, "pdf"), args.repeats
    )
    report["tex_median_over_fonts"] = statistics.median(v["formulas_per_s"] for v in tex.values())
    report["mathtext"] = median_of(
        lambda: mathtext_rate(formulas, args.workers, args.batch), args.repeats
    )
    if args.build:
        build_formulas = [f.latex for f in generated_formulas(args.build, seed=2)]
        report["build_default_mix"] = build_rate(build_formulas, args.workers)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
