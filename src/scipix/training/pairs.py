"""Extra paired sets for training: corrections exported by ``scipix learning export``.

``scipix train --pairs DIR`` (``TrainConfig.pairs``; repeatable) mixes each folder in as one
source named ``pairs:<folder name>`` with the share ``TrainConfig.pairs_weight`` each. A folder
is a paired set like the corpora's (``labels.tsv`` + ``images/``, read by
:func:`~scipix.training.corpus.load_paired`); all of its pairs train (corrections are few and
chosen: none is held back for validation). Without ``pairs`` nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from scipix.recognition.preprocess import GrayImage
from scipix.training.config import TrainConfig
from scipix.training.corpus import load_paired
from scipix.training.dataset import Sample


def read_gray(path: Path) -> GrayImage:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"cannot read {path}")
    return np.asarray(image, dtype=np.uint8)


def pair_sources(
    cfg: TrainConfig, encode: Callable[[str], tuple[int, ...] | None]
) -> list[tuple[str, float, list[Sample]]]:
    """(source name, weight, samples) of each folder in ``cfg.pairs``."""
    found = []
    for folder in cfg.pairs:
        split = load_paired(Path(folder))
        samples = [
            Sample(partial(read_gray, path), ids, clean=True)
            for path, latex in split.train + split.val
            if (ids := encode(latex)) is not None
        ]
        found.append((f"pairs:{Path(folder).name}", cfg.pairs_weight, samples))
    return found
