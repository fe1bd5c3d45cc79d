"""The training stream: a weighted mixture of sample sources, augmented, prepared and batched.

A source is a sequence of :class:`Sample` (an image loader and its token ids). Batches are
bucketed by image size (a pool of samples is sorted by width, cut into batches and shuffled),
so little of each batch is padding. Images go through ``recognition.preprocess`` — the very
code the recognizer runs at inference — after online augmentation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from scipix.errors import ImageNoContentError
from scipix.recognition.preprocess import GrayImage, InputSpec, batch_images, prepare_image

BOS, EOS, PAD = 1, 2, 0


@dataclass(frozen=True)
class Sample:
    load: Callable[[], GrayImage]
    ids: tuple[int, ...]
    clean: bool = False  # real scans/photos are not augmented further
    kind: str = ""  # mixture v2: a capture kind (photo, screenshot, ...) made when drawn


Augmenter = Callable[[GrayImage, np.random.Generator, float], GrayImage]
#: A capture kind: a clean render in, a picture of that kind out (``training/capture.py``).
Degrader = Callable[[GrayImage, str, np.random.Generator], GrayImage]


@dataclass(frozen=True)
class Mixture:
    sources: tuple[tuple[str, float, Sequence[Sample]], ...]

    def pick(self, rng: np.random.Generator) -> Sample:
        weights = np.array([w if len(s) else 0.0 for _, w, s in self.sources], dtype=np.float64)
        index = int(rng.choice(len(self.sources), p=weights / weights.sum()))
        items = self.sources[index][2]
        return items[int(rng.integers(len(items)))]


def collate(
    images: list[np.ndarray], ids: list[tuple[int, ...]], spec: InputSpec
) -> tuple[torch.Tensor, torch.Tensor]:
    batch = torch.from_numpy(batch_images(images, spec))
    longest = max(len(t) for t in ids) + 2
    tokens = torch.full((len(ids), longest), PAD, dtype=torch.long)
    for i, t in enumerate(ids):
        tokens[i, : len(t) + 2] = torch.tensor((BOS, *t, EOS))
    return batch, tokens


class MixtureStream(IterableDataset[tuple[torch.Tensor, torch.Tensor]]):
    """Endless batches drawn from a :class:`Mixture` (each worker with its own seed)."""

    def __init__(
        self,
        mixture: Mixture,
        spec: InputSpec,
        batch_size: int,
        seed: int,
        augment: Augmenter | None,
        augment_max: float,
        clean_share: float,
        scale_jitter: float,
        pool_batches: int = 16,
        degrade: Degrader | None = None,
    ) -> None:
        self.mixture, self.spec, self.batch_size = mixture, spec, batch_size
        self.seed, self.augment = seed, augment
        self.augment_max, self.clean_share, self.scale_jitter = (
            augment_max,
            clean_share,
            scale_jitter,
        )
        self.pool_batches = pool_batches
        self.degrade = degrade

    def prepared(self, sample: Sample, rng: np.random.Generator) -> np.ndarray | None:
        try:
            image = sample.load()
        except (OSError, ValueError):
            return None
        if sample.kind and self.degrade is not None:
            image = self.degrade(image, sample.kind, rng)
        elif self.augment is not None and not sample.clean and rng.random() > self.clean_share:
            image = self.augment(image, rng, float(rng.uniform(0.0, self.augment_max)))
        scale = None
        if self.scale_jitter > 0 and rng.random() < 0.5:
            scale = float(math.exp(rng.uniform(-self.scale_jitter, self.scale_jitter)))
        try:
            return prepare_image(image, self.spec, scale=scale)
        except ImageNoContentError:
            return None

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        worker = info.id if info is not None else 0
        rng = np.random.default_rng([self.seed, worker, int(torch.initial_seed() % 2**31)])
        while True:
            pool: list[tuple[np.ndarray, tuple[int, ...]]] = []
            while len(pool) < self.batch_size * self.pool_batches:
                sample = self.mixture.pick(rng)
                image = self.prepared(sample, rng)
                if image is not None:
                    pool.append((image, sample.ids))
            pool.sort(key=lambda item: (-(-item[0].shape[0] // 32), item[0].shape[1]))
            batches = [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
            for j in rng.permutation(len(batches)):
                chunk = batches[int(j)]
                yield collate([im for im, _ in chunk], [ids for _, ids in chunk], self.spec)
