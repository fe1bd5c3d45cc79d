"""The re-rank's vector file (``<kind>.vectors``): rows at the slots SQLite assigns, slots reused,
a short or corrupt file rewritten from SQLite with a warning, an older directory migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from scipix.memory import MemoryStore

from .test_projection import DIM, SETTINGS, lowrank


def build(directory: Path, seed: int) -> tuple[np.ndarray, list[int], np.ndarray]:
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((6, DIM)).astype(np.float32)
    data = lowrank(rng, 400, basis)
    with MemoryStore.open(directory, SETTINGS) as store:
        ids = store.add_many("v", data, [{"i": i} for i in range(400)], scope="s")
        assert store._indexes["v"].projection is not None  # searches re-rank from the file
    return data, ids, lowrank(rng, 20, basis)


def check_search(store: MemoryStore, data: np.ndarray, ids: list[int], queries: np.ndarray) -> None:
    """recall@10 against brute force >= 0.95, and every score is the exact cosine."""
    found = 0
    for q in queries:
        truth = {ids[i] for i in np.argsort(-(data @ q))[:10]}
        hits = store.search("v", q, 10, scope=None)
        for hit in hits:
            assert hit.score == pytest.approx(float(data[ids.index(hit.id)] @ q), abs=1e-5)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        found += len(truth & {h.id for h in hits})
    assert found / (10 * len(queries)) >= 0.95


def test_rows_sit_at_their_slots_and_freed_slots_are_reused(tmp_path: Path) -> None:
    data, ids, queries = build(tmp_path / "m", seed=1)
    with MemoryStore.open(tmp_path / "m", SETTINGS) as store:
        file = store._files["v"]
        slots = file.slots(ids)
        assert sorted(slots.tolist()) == list(range(400))
        assert np.allclose(file.row(int(slots[7])).astype(np.float32), data[7], atol=1e-3)
        for entry_id in ids[:50]:
            store.delete(entry_id)
        new = store.add_many("v", data[:50], [{"i": i} for i in range(50)], scope="s")
        assert sorted(file.slots(new).tolist()) == sorted(slots[:50].tolist())  # reused
        assert file.rows == 400
        check_search(store, data, new + ids[50:], queries)


def test_a_short_vector_file_is_rewritten_with_a_warning(tmp_path: Path) -> None:
    data, ids, queries = build(tmp_path / "m", seed=2)
    path = tmp_path / "m" / "v.vectors"
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 3)
    with (
        pytest.warns(RuntimeWarning, match="short"),
        MemoryStore.open(tmp_path / "m", SETTINGS) as store,
    ):
        assert store._files["v"].rows == 400
        check_search(store, data, ids, queries)
    with MemoryStore.open(tmp_path / "m", SETTINGS) as store:  # saved: no warning again
        check_search(store, data, ids, queries)


def test_a_corrupt_vector_file_is_rewritten_with_a_warning(tmp_path: Path) -> None:
    data, ids, queries = build(tmp_path / "m", seed=3)
    path = tmp_path / "m" / "v.vectors"
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))
    with (
        pytest.warns(RuntimeWarning, match="does not match"),
        MemoryStore.open(tmp_path / "m", SETTINGS) as store,
    ):
        check_search(store, data, ids, queries)


def test_a_missing_vector_file_is_rewritten_with_a_warning(tmp_path: Path) -> None:
    data, ids, queries = build(tmp_path / "m", seed=4)
    (tmp_path / "m" / "v.vectors").unlink()
    with (
        pytest.warns(RuntimeWarning, match="missing"),
        MemoryStore.open(tmp_path / "m", SETTINGS) as store,
    ):
        check_search(store, data, ids, queries)


def test_a_directory_from_before_the_vector_files_opens(tmp_path: Path) -> None:
    data, ids, queries = build(tmp_path / "m", seed=5)
    db = sqlite3.connect(tmp_path / "m" / "memory.sqlite")
    db.executescript(
        "DROP INDEX entries_slot; ALTER TABLE entries DROP COLUMN slot; "
        "ALTER TABLE kinds DROP COLUMN slots; ALTER TABLE kinds DROP COLUMN vseq; "
        "DROP TABLE free_slots;"
    )
    db.close()
    (tmp_path / "m" / "v.vectors").unlink()
    with MemoryStore.open(tmp_path / "m", SETTINGS) as store:
        assert sorted(store._files["v"].slots(ids).tolist()) == list(range(400))
        check_search(store, data, ids, queries)
