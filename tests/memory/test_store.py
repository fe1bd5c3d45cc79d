"""The store: persistence, upsert/delete, filters, scopes, the replication hook, repairs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from scipix.errors import InputError
from scipix.memory import MemoryStore
from scipix.settings.model import MemorySettings

from .conftest import unit


def fill(store: MemoryStore, rng: np.random.Generator, n: int, scope: str = "a") -> list[int]:
    return [
        store.add("v", unit(rng), {"n": i, "parity": i % 2}, scope=scope, key=f"k{i}")
        for i in range(n)
    ]


def test_nearest_is_the_vector_itself_and_scores_are_cosines(store, rng) -> None:
    vectors = [unit(rng) for _ in range(300)]
    ids = [store.add("v", v, {"n": i}, scope="a") for i, v in enumerate(vectors)]
    hits = store.search("v", vectors[123], 3, scope=None)
    assert hits[0].id == ids[123] and hits[0].payload == {"n": 123}
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].score == pytest.approx(
        float(vectors[123] @ vectors[hits[1].payload["n"]]), abs=1e-4
    )


def test_everything_is_there_after_reopening(store_dir, rng) -> None:
    settings = MemorySettings(persist_every=1000)
    with MemoryStore.open(store_dir, settings) as store:
        ids = fill(store, rng, 120)
        probe = store.get(ids[77])
    assert probe is not None
    with MemoryStore.open(store_dir, settings) as again:
        assert again.count("v") == 120
        assert again.get(ids[77]) == probe
        assert again.search("v", probe.vector, 1, scope="a")[0].id == ids[77]
    assert len(list(store_dir.glob("v.*.usearch"))) == 1  # older index files are removed


def test_a_key_upserts_in_place_and_delete_leaves_a_tombstone(store, rng) -> None:
    first = store.add("v", unit(rng), {"v": 1}, scope="a", key="same")
    newer = unit(rng)
    assert store.add("v", newer, {"v": 2}, scope="a", key="same") == first
    assert store.count("v") == 1
    assert store.search("v", newer, 1, scope="a")[0].payload == {"v": 2}
    assert store.find("v", "a", "same").payload == {"v": 2}
    assert store.delete(first) and not store.delete(first)
    assert store.get(first) is None and store.search("v", newer, 5, scope=None) == []
    (tomb,) = store.entries("v", tombstones=True)
    assert tomb.deleted and tomb.vector is None and tomb.uid


def test_filters_and_scopes(store, rng) -> None:
    fill(store, rng, 60, scope="alice")
    fill(store, rng, 60, scope="bob")
    query = unit(rng)
    odd = store.search("v", query, 10, scope="alice", where={"parity": 1})
    assert len(odd) == 10 and all(h.payload["parity"] == 1 for h in odd)
    assert {h.id for h in store.search("v", query, 200, scope="bob")}.isdisjoint(
        {h.id for h in store.search("v", query, 200, scope="alice")}
    )
    assert len(store.search("v", query, 200, scope=None)) == 120
    some = store.search("v", query, 50, scope="alice", where={"n": [1, 2, 3]})
    assert sorted(h.payload["n"] for h in some) == [1, 2, 3]
    with pytest.raises(InputError):
        store.search("v", query, 1, scope=None, where={"bad field": 1})


def test_wrong_vectors_are_refused(store, rng) -> None:
    store.add("v", unit(rng, 16), {}, scope="a")
    with pytest.raises(InputError, match="16-d"):
        store.add("v", unit(rng, 8), {}, scope="a")
    with pytest.raises(InputError):
        store.add("v", np.zeros(16), {}, scope="a")
    with pytest.raises(InputError):
        store.add("Bad Kind", unit(rng), {}, scope="a")


@pytest.mark.parametrize("dtype", ["f16", "i8"])
def test_compact_dtypes_find_the_same_nearest(store_dir, rng, dtype) -> None:
    with MemoryStore.open(store_dir, MemorySettings(dtype=dtype)) as store:
        vectors = [unit(rng, 32) for _ in range(200)]
        ids = [store.add("v", v, {}, scope="a") for v in vectors]
        assert all(
            store.search("v", vectors[i], 1, scope=None)[0].id == ids[i] for i in range(0, 200, 20)
        )


def test_a_corrupt_index_file_is_rebuilt_with_a_warning(store_dir, rng) -> None:
    with MemoryStore.open(store_dir, MemorySettings()) as store:
        ids = fill(store, rng, 80)
        probe = store.get(ids[5])
    (index_file,) = store_dir.glob("v.*.usearch")
    data = bytearray(index_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="corrupt.*rebuilding"):
        store = MemoryStore.open(store_dir, MemorySettings())
    with store:
        assert store.count("v") == 80
        assert store.search("v", probe.vector, 1, scope=None)[0].id == ids[5]
    index_file.unlink(missing_ok=True)
    for leftover in store_dir.glob("v.*.usearch"):
        leftover.write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="rebuilding"), MemoryStore.open(store_dir) as store:
        assert store.search("v", probe.vector, 1, scope=None)[0].id == ids[5]


def test_entries_replicate_into_another_store(tmp_path: Path, rng) -> None:
    with MemoryStore.open(tmp_path / "one") as one, MemoryStore.open(tmp_path / "two") as two:
        ids = fill(one, rng, 10)
        one.delete(ids[0])
        for entry in one.entries(tombstones=True):
            two.merge(entry)
        assert two.count("v") == 9
        assert {e.uid for e in two.entries(tombstones=True)} == {
            e.uid for e in one.entries(tombstones=True)
        }
        latest = max(e.seq for e in one.entries(tombstones=True))
        one.add("v", unit(rng), {"n": "new"}, scope="a", key="k5")  # an upsert: newer
        (changed,) = one.entries(since=latest)
        assert two.merge(changed) and not two.merge(changed)
        assert two.find("v", "a", "k5").payload == {"n": "new"}


def test_two_handles_on_one_directory_see_each_other(store_dir, rng) -> None:
    with MemoryStore.open(store_dir) as one, MemoryStore.open(store_dir) as two:
        vec = unit(rng)
        entry_id = one.add("v", vec, {"from": "one"}, scope="a")
        assert two.search("v", vec, 1, scope="a")[0].id == entry_id


def test_search_on_an_empty_or_unknown_kind_finds_nothing(store, rng) -> None:
    assert store.search("nothing", unit(rng), 5, scope=None) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.stats()["kinds"] == {}


def test_a_few_changes_to_a_big_index_are_replayed_not_saved_on_close(store_dir, rng) -> None:
    settings = MemorySettings(persist_every=100_000)
    with MemoryStore.open(store_dir, settings) as store:
        store.add_many("v", np.stack([unit(rng) for _ in range(2000)]), [{}] * 2000, scope="a")
    (saved,) = store_dir.glob("v.*.usearch")
    late = unit(rng)
    with MemoryStore.open(store_dir, settings) as store:
        new = store.add("v", late, {"late": True}, scope="a")
    assert list(store_dir.glob("v.*.usearch")) == [saved]  # 1 change of 2001: not rewritten
    with MemoryStore.open(store_dir, settings) as again:
        assert again.search("v", late, 1, scope=None)[0].id == new  # replayed from SQLite
        again.add_many("v", np.stack([unit(rng) for _ in range(10)]), [{}] * 10, scope="a")
    assert list(store_dir.glob("v.*.usearch")) != [saved]  # 11 of 2011: worth saving


def test_uids_are_unique_and_grow_with_time(store, rng) -> None:
    ids = store.add_many("v", np.stack([unit(rng) for _ in range(50)]), [{}] * 50, scope="a")
    ids += [store.add("v", unit(rng), {}, scope="a") for _ in range(5)]
    uids = [store.get(i).uid for i in ids]
    assert len(set(uids)) == 55 and all(len(u) == 32 for u in uids)
    assert uids == sorted(uids)  # appended at the end of SQLite's unique index


def test_a_failed_bulk_insert_leaves_neither_rows_nor_vectors(store, rng) -> None:
    from scipix.memory.bulk import OVERLAP_FROM

    n = OVERLAP_FROM + 10  # the index add runs beside the rows' insert
    vectors = np.stack([unit(rng) for _ in range(n)])
    payloads: list[dict[str, object]] = [{"i": i} for i in range(n)]
    payloads[-1] = {"bad": object()}  # not JSON: the transaction fails on the last row
    with pytest.raises(TypeError):
        store.add_many("v", vectors, payloads, scope="a")
    assert store.count("v") == 0 and len(store._indexes["v"]) == 0
    payloads[-1] = {"i": n - 1}
    ids = store.add_many("v", vectors, payloads, scope="a")
    assert store.count("v") == n == len(store._indexes["v"])
    assert store.search("v", vectors[7], 1, scope=None)[0].id == ids[7]
