"""A kind's PCA projection: its HNSW index searches in a few dimensions, SQLite re-ranks exactly.

Embeddings hold most of their variance in few directions (the encoder's image embedding ~90 % in
32 of its dimensions), and an HNSW search costs about its dimension per visited node. So a kind
with at least ``memory.reduce_from`` entries gets a :class:`Projection`: unit vectors, centred,
onto the ``memory.reduce_dims`` principal axes of a sample of its stored vectors. Its index holds
the projected vectors (squared L2: for unit vectors the same order as cosine); a search asks it
for ``memory.rerank`` times the candidates and ranks them by exact cosine with the full f32
vectors SQLite keeps (:func:`scipix.memory.lookup.approximate_search`).

Refit policy (:func:`maybe_reduce`): a kind is checked when it first reaches ``reduce_from`` and
again each time it doubles. No projection is made when the axes would hold less than
:data:`MIN_VARIANCE` of the sample's variance (spread-out vectors: the full index stays). A kind
with one is refitted only when a fresh fit would hold :data:`DRIFT` more of the new sample's
variance than the current one does (the data moved); otherwise it is kept as it is.

Persistence: the projection is a row of the ``projections`` table (mean, axes, version). A refit
writes the new row and clears the kind's index file in one transaction, then rebuilds and saves
the index: a process killed in between finds no index file and rebuilds it from SQLite with the
new projection. Another process sees the new version when it next replays changes and rebuilds.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scipix.memory.index import Vector

if TYPE_CHECKING:
    from scipix.memory.store import MemoryStore
    from scipix.settings.model import MemorySettings

#: The least share of the variance the projection must hold to be used.
MIN_VARIANCE = 0.8
#: A refit happens when a fresh fit holds this much more of the variance than the current one.
DRIFT = 0.02
#: Vectors sampled (at random) to fit or check a projection.
SAMPLE = 20_000


@dataclass(frozen=True)
class Projection:
    """``(unit(x) - mean) @ axes``; ``variance``: the share of the fit sample's variance held."""

    mean: Vector
    axes: Vector
    variance: float
    fitted_on: int
    version: int

    @property
    def dims(self) -> int:
        return int(self.axes.shape[1])

    def apply(self, vectors: Vector) -> Vector:
        """The projected ``(n, d)`` vectors (each first scaled to unit length)."""
        matrix = np.asarray(vectors, dtype=np.float32)
        unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.ascontiguousarray((unit - self.mean) @ self.axes, dtype=np.float32)

    def held(self, sample: Vector) -> float:
        """The share of ``sample``'s variance (about its own mean) these axes hold."""
        unit = sample / np.linalg.norm(sample, axis=1, keepdims=True)
        centred = unit - unit.mean(axis=0)
        total = float((centred * centred).sum())
        kept = centred @ self.axes
        return float((kept * kept).sum()) / total if total > 0 else 0.0

    @classmethod
    def fit(cls, sample: Vector, dims: int, fitted_on: int, version: int) -> Projection:
        """The ``dims`` principal axes of the unit vectors of ``sample``."""
        unit = (sample / np.linalg.norm(sample, axis=1, keepdims=True)).astype(np.float64)
        mean = unit.mean(axis=0)
        centred = unit - mean
        # the covariance's eigenvectors: a d x d problem however big the sample
        energy, vectors = np.linalg.eigh(centred.T @ centred)
        order = np.argsort(energy)[::-1]
        energy = np.clip(energy[order], 0.0, None)
        share = float(energy[:dims].sum() / energy.sum()) if energy.sum() > 0 else 0.0
        axes = np.ascontiguousarray(vectors[:, order[:dims]], dtype=np.float32)
        return cls(mean.astype(np.float32), axes, share, fitted_on, version)


def load_projections(db: sqlite3.Connection) -> dict[str, Projection]:
    """Every kind's projection as the database holds it."""
    rows = db.execute(
        "SELECT kind, dim, dims, version, fitted_on, variance, mean, axes FROM projections"
    ).fetchall()
    found = {}
    for kind, dim, dims, version, fitted_on, variance, mean, axes in rows:
        found[str(kind)] = Projection(
            np.frombuffer(mean, dtype=np.float32).copy(),
            np.frombuffer(axes, dtype=np.float32).reshape(int(dim), int(dims)).copy(),
            float(variance),
            int(fitted_on),
            int(version),
        )
    return found


def maybe_reduce(store: MemoryStore, kind: str, size: int) -> None:
    """Fit, keep or refit ``kind``'s projection now that its index holds ``size`` vectors (see
    the module docstring); called by the store under its lock after writes."""
    settings: MemorySettings = store.settings
    dim = store._dims.get(kind) or store.kinds().get(kind, 0)
    if settings.reduce_dims <= 0 or dim < 2 * settings.reduce_dims:
        return
    checked = store._reduce_checked.get(kind, 0)
    if size < max(settings.reduce_from, 2 * checked):
        return
    store._reduce_checked[kind] = size
    sample = _sample(store, kind)
    if len(sample) <= settings.reduce_dims:
        return
    current = store._projections.get(kind)
    version = current.version + 1 if current is not None else 1
    fresh = Projection.fit(sample, settings.reduce_dims, size, version)
    if current is not None and fresh.variance - current.held(sample) < DRIFT:
        return  # still fits the data: kept (checked again when the kind doubles)
    if current is None and fresh.variance < MIN_VARIANCE:
        return  # the variance is spread out: the full-dimension index stays
    install(store, kind, fresh)


def install(store: MemoryStore, kind: str, projection: Projection) -> None:
    """Record ``projection`` for ``kind``, clear its index file, rebuild and save the index."""
    from scipix.memory.persist import rebuild

    with store._write() as db:
        db.execute(
            "INSERT OR REPLACE INTO projections(kind, dim, dims, version, fitted_on, variance, "
            "mean, axes) VALUES (?,?,?,?,?,?,?,?)",
            (
                kind,
                int(projection.axes.shape[0]),
                projection.dims,
                projection.version,
                projection.fitted_on,
                projection.variance,
                projection.mean.tobytes(),
                projection.axes.tobytes(),
            ),
        )
        db.execute("UPDATE kinds SET file=NULL, hash=NULL, seq=0 WHERE kind=?", (kind,))
    store._projections[kind] = projection
    store._indexes[kind] = rebuild(store, kind, int(projection.axes.shape[0]))
    store._save(kind)


def refresh(store: MemoryStore) -> None:
    """Take up the projections another process fitted (rebuilding those kinds' indexes)."""
    from scipix.memory.persist import rebuild

    for kind, projection in load_projections(store.db).items():
        mine = store._projections.get(kind)
        if mine is None or mine.version != projection.version:
            store._projections[kind] = projection
            if kind in store._indexes:
                store._indexes[kind] = rebuild(store, kind, int(projection.axes.shape[0]))


def _sample(store: MemoryStore, kind: str) -> Vector:
    """Up to :data:`SAMPLE` live vectors of ``kind``, drawn at random (ids from the index on
    kind, vectors fetched by rowid: no pass over a big table's vectors)."""
    ids = np.array(
        [
            r[0]
            for r in store.db.execute("SELECT id FROM entries WHERE kind=? AND deleted=0", (kind,))
        ],
        dtype=np.int64,
    )
    if len(ids) > SAMPLE:
        ids = np.random.default_rng(len(ids)).choice(ids, SAMPLE, replace=False)
    vectors: list[Vector] = []
    for start in range(0, len(ids), 500):
        chunk = [int(i) for i in ids[start : start + 500]]
        rows = store.db.execute(
            f"SELECT vector FROM entries WHERE id IN ({','.join('?' * len(chunk))}) "
            "AND vector IS NOT NULL",
            chunk,
        )
        vectors.extend(np.frombuffer(r[0], dtype=np.float32) for r in rows)
    return np.stack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
