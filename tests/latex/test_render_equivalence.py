"""Normalization must not change what TeX renders: pdflatex renders each sample formula and its
normal form to identical pixels.

All formulas go into two documents (originals, normal forms), one formula per page in
``$\\displaystyle{...}$``; pages are rasterized with pdftoppm and compared exactly. A formula
that makes TeX report an error (e.g. a command the preamble does not define) is left out, and
the test requires a few hundred real comparisons.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scipix.latex import normalize

pytestmark = [
    pytest.mark.slow,
    pytest.mark.tex,
    pytest.mark.skipif(
        not (shutil.which("pdflatex") and shutil.which("pdftoppm")),
        reason="needs TeX Live (pdflatex) and poppler-utils (pdftoppm)",
    ),
]

PREAMBLE = (
    "\\documentclass{article}\n\\usepackage{amsmath,amssymb,bm}\n\\pagestyle{empty}\n"
    "\\setlength{\\parindent}{0pt}\n\\begin{document}\n"
)


def render(formulas: list[str], folder: Path) -> tuple[list[np.ndarray], set[int]]:
    """One page image per formula, and the indexes of formulas TeX complained about."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [PREAMBLE]
    line_of: dict[int, int] = {}
    line = PREAMBLE.count("\n")
    for k, formula in enumerate(formulas):
        parts.append(f"$\\displaystyle{{\n{formula}\n}}$\\newpage\n")
        line_of[line + 2] = k
        line += 3
    parts.append("\\end{document}\n")
    (folder / "f.tex").write_text("".join(parts), encoding="utf-8")
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "f.tex"],
        cwd=folder,
        capture_output=True,
        timeout=600,
        check=False,
    )
    log = (folder / "f.log").read_text(encoding="utf-8", errors="replace")
    bad = {line_of[int(n)] for n in re.findall(r"^l\.(\d+)", log, re.M) if int(n) in line_of}
    subprocess.run(["pdftoppm", "-r", "100", "-gray", "f.pdf", "p"], cwd=folder, check=True)
    pages = sorted(folder.glob("p-*.pgm"))
    return [np.asarray(Image.open(page)) for page in pages], bad


def test_normal_forms_render_to_identical_pixels(corpus_sample: list[str], tmp_path: Path) -> None:
    pairs = [(s, normalize(s)) for s in corpus_sample]
    pairs = [(s, n) for s, n in pairs if s != n][:400]
    originals, bad_original = render([s for s, _ in pairs], tmp_path / "original")
    normals, bad_normal = render([n for _, n in pairs], tmp_path / "normal")
    assert len(originals) == len(normals) == len(pairs)
    compared, different = 0, []
    for k, (source, normal) in enumerate(pairs):
        if k in bad_original or k in bad_normal:
            continue
        compared += 1
        if not np.array_equal(originals[k], normals[k]):
            different.append((source, normal))
    assert different == []
    assert compared >= 300
