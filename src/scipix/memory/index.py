"""``VectorIndex``: one usearch HNSW index (cosine) of one kind of vector, saved atomically.

The index is a rebuildable cache of the vectors the SQLite store holds: it is saved to a temporary
file, flushed and renamed (``<kind>.<seq>.usearch``), so a reader never sees half a file; the store
records which file is current and up to which change it holds. :meth:`VectorIndex.load` refuses a
file usearch cannot read (:class:`IndexFileError`), and the store then rebuilds the index from the
vectors it keeps.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from usearch.compiled import MetricKind
from usearch.index import Index

if TYPE_CHECKING:
    from scipix.memory.projection import Projection

Vector = npt.NDArray[np.float32]
#: Vectors added at once from which the add uses every core (a pool costs more than it gains
#: for a few, and on a busy machine its waiting threads burn the CPU the inserts need).
THREADED_FROM = 1024


class IndexFileError(Exception):
    """An index file that cannot be loaded (missing, truncated, corrupt, another dimension)."""


@dataclass(frozen=True)
class IndexParams:
    """The HNSW parameters (``memory`` settings): links per node, ef while adding and searching,
    how vectors are stored (``f32``, ``f16`` or ``i8``) and how many candidates per result an
    approximate index (not f32, or projected) gives to the exact re-rank."""

    connectivity: int = 32
    expansion_add: int = 64
    expansion_search: int = 224
    dtype: str = "f16"
    rerank: int = 4


class VectorIndex:
    """Approximate nearest neighbours by cosine similarity over integer keys; with a
    ``projection`` (:mod:`scipix.memory.projection`) the index holds the projected vectors
    (squared L2) and its scores are estimates for the caller to re-rank."""

    def __init__(self, dim: int, params: IndexParams, projection: Projection | None = None) -> None:
        self.dim = dim
        self.params = params
        self.projection = projection
        self.inner_dim = projection.dims if projection is not None else dim
        self._index = self._new()

    @property
    def exact(self) -> bool:
        """Whether its scores are exact cosines (f32, not projected): no re-rank needed."""
        return self.projection is None and self.params.dtype == "f32"

    def _new(self) -> Index:
        return Index(
            ndim=self.inner_dim,
            metric=MetricKind.Cos if self.projection is None else MetricKind.L2sq,
            dtype=self.params.dtype,
            connectivity=self.params.connectivity,
            expansion_add=self.params.expansion_add,
            expansion_search=self.params.expansion_search,
        )

    @property
    def expansion_search(self) -> int:
        return int(self._index.expansion_search)

    @expansion_search.setter
    def expansion_search(self, value: int) -> None:
        self._index.expansion_search = value  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: int) -> bool:
        return bool(self._index.contains(int(key)))

    def add(self, keys: Sequence[int], vectors: Vector) -> None:
        """Add (or replace) ``vectors`` under ``keys``."""
        if not len(keys):
            return
        keys_arr = np.asarray(keys, dtype=np.uint64)
        present = [int(k) for k in keys_arr if self._index.contains(int(k))]
        if present:
            self._index.remove(present)
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.projection is not None:
            matrix = self.projection.apply(matrix)
        threads = (os.cpu_count() or 1) if len(keys_arr) >= THREADED_FROM else 1
        self._index.add(keys_arr, matrix, threads=threads)

    def remove(self, keys: Sequence[int]) -> None:
        present = [int(k) for k in keys if self._index.contains(int(k))]
        if present:
            self._index.remove(present)

    def search(self, vector: Vector, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest keys and their cosine similarity (an estimate unless
        :attr:`exact`), best first."""
        if len(self._index) == 0 or k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        # squared L2 between unit vectors is 2 - 2 cos (the projection drops a little of it)
        scale = 1.0
        if self.projection is not None:
            query, scale = self.projection.apply(query[None, :])[0], 0.5
        found: Any = self._index.search(query, min(k, len(self)), threads=1)
        return [
            (int(key), 1.0 - scale * float(dist))
            for key, dist in zip(found.keys, found.distances, strict=True)
        ]

    def save(self, path: Path) -> None:
        """Write the index to ``path`` atomically (temporary file, flush, rename)."""
        tmp = path.with_name(path.name + ".tmp")
        self._index.save(str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(
        cls, path: Path, dim: int, params: IndexParams, projection: Projection | None = None
    ) -> VectorIndex:
        """The index saved at ``path``; raises :class:`IndexFileError` when it cannot be read."""
        index = cls(dim, params, projection)
        try:
            meta = Index.metadata(str(path))
            if meta is None or int(meta["dimensions"]) != index.inner_dim:
                raise IndexFileError(f"{path.name}: not an index of {index.inner_dim}-d vectors")
            index._index.load(str(path))
        except IndexFileError:
            raise
        except Exception as exc:  # usearch raises RuntimeError/ValueError for bad files
            raise IndexFileError(f"{path.name}: {exc}") from exc
        index._index.expansion_search = params.expansion_search  # type: ignore[misc]
        index._index.expansion_add = params.expansion_add  # type: ignore[misc]
        return index
