"""Shared fixtures of the data-engine tests: formulas written here, TeX availability, a CLI."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HAS_TEX = shutil.which("latex") is not None and shutil.which("dvipng") is not None
HAS_PDFTEX = shutil.which("pdflatex") is not None and shutil.which("pdftoppm") is not None
needs_tex = pytest.mark.skipif(not HAS_TEX, reason="needs TeX Live (latex, dvipng)")
needs_pdftex = pytest.mark.skipif(not HAS_PDFTEX, reason="needs pdflatex and pdftoppm")
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
needs_matplotlib = pytest.mark.skipif(
    not HAS_MATPLOTLIB, reason="needs matplotlib: pip install 'scipix[train]'"
)

#: A handful of formulas covering the constructs the renderers must draw.
FORMULAS = [
    r"x^{2}+y^{2}=z^{2}",
    r"\frac{a+b}{c}",
    r"\sqrt[3]{\alpha_{i}}",
    r"\sum_{i=1}^{n}i=\frac{n(n+1)}{2}",
    r"\int_{0}^{1}f(x)\,dx",
    r"\hat{v}\cdot\mathbf{w}",
]
MATRIX_FORMULAS = [
    r"\begin{pmatrix}a&b\\c&d\end{pmatrix}",
    r"f(x)=\begin{cases}1&x>0\\0&x\leq0\end{cases}",
]

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """Run ``scipix`` in a subprocess with its home, config and cache inside ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SCIPIX_")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
    )

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from scipix.cli.app import main; main()", *args]
        return subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
        )

    return run
