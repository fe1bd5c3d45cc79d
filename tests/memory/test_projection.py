"""A big kind's index is projected on its principal axes and re-ranked exactly: fitted once the
kind reaches ``reduce_from``, persisted, refitted when the data drift, skipped for spread-out
vectors, rebuilt from SQLite when its file is lost, taken up by another process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scipix.memory import MemoryStore
from scipix.settings.model import MemorySettings

DIM = 64
SETTINGS = MemorySettings(reduce_dims=8, reduce_from=300, rerank=4, persist_every=10_000)


def lowrank(rng: np.random.Generator, n: int, basis: np.ndarray) -> np.ndarray:
    out = rng.standard_normal((n, basis.shape[0])).astype(np.float32) @ basis
    out += 0.05 * rng.standard_normal((n, DIM)).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def recall(store: MemoryStore, data: np.ndarray, queries: np.ndarray, ids: list[int]) -> float:
    """recall@10 of ``store.search`` against brute force, and the scores are exact cosines."""
    found = 0
    for q in queries:
        truth = {ids[i] for i in np.argsort(-(data @ q))[:10]}
        hits = store.search("v", q, 10, scope=None)
        for hit in hits:
            assert hit.score == pytest.approx(float(data[ids.index(hit.id)] @ q), abs=1e-5)
        found += len(truth & {h.id for h in hits})
    return found / (10 * len(queries))


def test_a_big_kind_is_projected_and_still_finds_its_neighbours(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    basis = rng.standard_normal((6, DIM)).astype(np.float32)
    data = lowrank(rng, 400, basis)
    with MemoryStore.open(tmp_path / "m", SETTINGS) as store:
        ids = store.add_many("v", data[:200], [{"i": i} for i in range(200)], scope="s")
        assert store.stats()["kinds"]["v"]["projection"] is None  # below reduce_from
        ids += store.add_many("v", data[200:], [{"i": i} for i in range(200, 400)], scope="s")
        projection = store.stats()["kinds"]["v"]["projection"]
        assert projection["dims"] == 8 and projection["variance"] > 0.95
        queries = lowrank(rng, 20, basis)
        assert recall(store, data, queries, ids) >= 0.95
        before = [[h.id for h in store.search("v", q, 10, scope=None)] for q in queries]
    with MemoryStore.open(tmp_path / "m", SETTINGS) as store:  # persisted: no rebuild warning
        assert store.stats()["kinds"]["v"]["projection"]["dims"] == 8
        assert [[h.id for h in store.search("v", q, 10, scope=None)] for q in queries] == before


def test_spread_out_vectors_keep_the_full_index(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    data = rng.standard_normal((400, DIM)).astype(np.float32)
    with MemoryStore.open(tmp_path / "m", SETTINGS) as store:
        store.add_many("v", data, [{} for _ in data], scope="s")
        assert store.stats()["kinds"]["v"]["projection"] is None


def test_drifted_data_refit_the_projection(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    first, second = (rng.standard_normal((6, DIM)).astype(np.float32) for _ in range(2))
    old, new = lowrank(rng, 300, first), lowrank(rng, 600, second)
    with MemoryStore.open(tmp_path / "m", SETTINGS) as store:
        ids = store.add_many("v", old, [{} for _ in old], scope="s")
        assert store._projections["v"].version == 1
        ids += store.add_many("v", new, [{} for _ in new], scope="s")  # the kind tripled
        assert store._projections["v"].version == 2
        data = np.concatenate([old, new])
        assert recall(store, data, lowrank(rng, 10, second), ids) >= 0.95
        assert recall(store, data, lowrank(rng, 10, first), ids) >= 0.9


def test_a_lost_index_file_is_rebuilt_projected(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    basis = rng.standard_normal((6, DIM)).astype(np.float32)
    data = lowrank(rng, 400, basis)
    with MemoryStore.open(tmp_path / "m", SETTINGS) as store:
        ids = store.add_many("v", data, [{} for _ in data], scope="s")
    for path in (tmp_path / "m").glob("v.*.usearch"):
        path.unlink()
    with (
        pytest.warns(RuntimeWarning, match="missing"),
        MemoryStore.open(tmp_path / "m", SETTINGS) as store,
    ):
        assert store._indexes["v"].projection is not None
        assert recall(store, data, lowrank(rng, 10, basis), ids) >= 0.95


def test_another_process_takes_up_a_new_projection(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    basis = rng.standard_normal((6, DIM)).astype(np.float32)
    data = lowrank(rng, 400, basis)
    with (
        MemoryStore.open(tmp_path / "m", SETTINGS) as reader,
        MemoryStore.open(tmp_path / "m", SETTINGS) as writer,
    ):
        ids = reader.add_many("v", data[:10], [{} for _ in range(10)], scope="s")
        ids += writer.add_many("v", data[10:], [{} for _ in range(390)], scope="s")
        assert writer._indexes["v"].projection is not None
        assert recall(reader, data, lowrank(rng, 10, basis), ids) >= 0.95
        assert reader._indexes["v"].projection is not None


def test_an_i8_index_is_re_ranked_with_exact_cosines(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    basis = rng.standard_normal((6, DIM)).astype(np.float32)
    data = lowrank(rng, 400, basis)
    settings = MemorySettings(dtype="i8", reduce_dims=0, rerank=4)
    with MemoryStore.open(tmp_path / "m", settings) as store:
        ids = store.add_many("v", data, [{} for _ in data], scope="s")
        assert not store._indexes["v"].exact and store._indexes["v"].projection is None
        assert recall(store, data, lowrank(rng, 10, basis), ids) >= 0.95
