"""One real ``Scipix`` (the shipped model) for the learning tests, with its own data dir, and
formulas rendered on the fly."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scipix.errors import ModelError
from scipix.service import Scipix
from scipix.settings import Settings


@pytest.fixture(scope="session")
def learning_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("learning-data")


@pytest.fixture(scope="session")
def service(learning_dir: Path) -> Iterator[Scipix]:
    settings = Settings(runtime={"data_dir": learning_dir})  # type: ignore[arg-type]
    settings.memory.cache = False  # every request is read (and leaves a trajectory)
    settings.learning.strategy_budget_ms = 0.0  # strategies are measured by the benchmark
    sp = Scipix(settings)
    try:
        sp.formula_recognizer()
    except ModelError as exc:
        pytest.skip(f"no recognition model: {exc.message}")
    yield sp
    sp.close()


def render(latex: str, dpi: int = 200) -> np.ndarray:
    """A clean rendering of ``latex`` (matplotlib mathtext, as the training data uses)."""
    mathtext = pytest.importorskip("scipix.training.mathtext")
    if not mathtext.mathtext_available():
        pytest.skip("matplotlib (the [train] extra) is needed to render formulas")
    outcome = mathtext.MathtextRenderer().render_one(latex, dpi)
    assert outcome.image is not None, outcome.error
    return np.asarray(outcome.image, dtype=np.uint8)


def png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def jpeg_copy(image: np.ndarray, scale: float, quality: int = 70) -> bytes:
    """``image`` rescaled by ``scale`` and saved as JPEG at ``quality``."""
    pil = Image.fromarray(image)
    size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
    buf = io.BytesIO()
    pil.resize(size, Image.Resampling.BICUBIC).save(buf, "JPEG", quality=quality)
    return buf.getvalue()
