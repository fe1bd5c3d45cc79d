"""Fixtures for the memory tests: a store in a fresh directory, random unit vectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from scipix.memory import MemoryStore
from scipix.settings.model import MemorySettings


def unit(rng: np.random.Generator, dim: int = 16) -> np.ndarray:
    vec = rng.normal(size=dim).astype(np.float32)
    return vec / np.linalg.norm(vec)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "memory"


@pytest.fixture
def store(store_dir: Path) -> Iterator[MemoryStore]:
    with MemoryStore.open(store_dir, MemorySettings(persist_every=50)) as opened:
        yield opened
