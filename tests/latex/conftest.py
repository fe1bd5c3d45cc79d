"""Fixtures for the LaTeX core tests: the committed sample of corpus-like formulas."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def load_sample() -> list[str]:
    lines = (DATA / "corpus_sample.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("# ")]


@pytest.fixture(scope="session")
def corpus_sample() -> list[str]:
    return load_sample()
