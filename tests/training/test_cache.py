"""The sharded cache: render once, read fast, resume and add without starting over."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from scipix.errors import StoreError
from scipix.training.cache import DatasetCache, RendererSpec, read_shard_index, write_shard

from .conftest import FORMULAS, MATRIX_FORMULAS, needs_matplotlib, needs_tex


@dataclass(frozen=True)
class Item:
    latex: str
    source: str = "test"


MATHTEXT = (RendererSpec("mathtext", fonts=("cm", "stix")),)
TEX = (RendererSpec("tex", fonts=("cm",)),)


@needs_matplotlib
def test_build_then_read_every_sample(tmp_path: Path) -> None:
    cache = DatasetCache(tmp_path / "cache")
    report = cache.build([Item(f) for f in FORMULAS], MATHTEXT, n_workers=0, shard_size=4)
    assert report.rendered == len(FORMULAS) and report.failed == 0
    assert len(cache) == len(FORMULAS)
    assert len(list((tmp_path / "cache").glob("*.shard"))) == 2  # 4 + 2 samples
    assert sorted(cache.label(i) for i in range(len(cache))) == sorted(FORMULAS)
    for sample in cache:
        assert sample.image.dtype == np.uint8 and sample.image.ndim == 2
        assert sample.meta.renderer == "mathtext" and sample.meta.font in ("cm", "stix")
        assert 60 <= sample.meta.dpi <= 140 and sample.meta.source == "test"
    for i in range(len(cache)):
        assert cache.image(i).shape == cache.size(i)


@needs_matplotlib
def test_a_rerun_renders_nothing_and_more_formulas_add_shards(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    first = DatasetCache(root).build([Item(f) for f in FORMULAS[:3]], MATHTEXT, n_workers=0)
    assert first.rendered == 3
    shards = set(root.glob("*.shard"))
    again = DatasetCache(root).build([Item(f) for f in FORMULAS[:3]], MATHTEXT, n_workers=0)
    assert again.rendered == 0 and again.cached == 3
    more = DatasetCache(root)
    report = more.build([Item(f) for f in FORMULAS], MATHTEXT, n_workers=0)
    assert report.rendered == len(FORMULAS) - 3 and report.cached == 3
    assert shards < set(root.glob("*.shard")), "old shards were rewritten"
    assert len(more) == len(FORMULAS)
    copies = DatasetCache(root).build([Item(f) for f in FORMULAS], MATHTEXT, n_workers=0, copies=2)
    assert copies.rendered == len(FORMULAS) and copies.cached == len(FORMULAS)


@needs_matplotlib
def test_failures_are_counted_and_not_retried(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    items = [Item(FORMULAS[0]), Item(MATRIX_FORMULAS[0]), Item(r"\nosuchcommand x")]
    report = DatasetCache(root).build(items, MATHTEXT, n_workers=0)
    assert (report.rendered, report.failed) == (1, 2)
    rejects = [json.loads(line) for line in (root / "rejects.jsonl").read_text().splitlines()]
    assert {r["latex"] for r in rejects} == {MATRIX_FORMULAS[0], r"\nosuchcommand x"}
    assert all(r["error"] for r in rejects)
    again = DatasetCache(root).build(items, MATHTEXT, n_workers=0)
    assert again.rendered == again.failed == 0 and again.cached == 3


@needs_matplotlib
def test_a_partial_shard_is_never_read(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    DatasetCache(root).build([Item(f) for f in FORMULAS], MATHTEXT, n_workers=0)
    (root / "shard-crashed.shard.tmp").write_bytes(b"half a shard")
    assert len(DatasetCache(root)) == len(FORMULAS)
    (root / "shard-broken.shard").write_bytes(b"not a shard at all, but long enough")
    with pytest.raises(StoreError, match="not a scipix shard"):
        DatasetCache(root)


def test_shard_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "x.shard"
    write_shard(path, [{"key": "a"}, {"key": "b"}], [b"12345", b"678"])
    records = read_shard_index(path)
    assert [(r["key"], r["length"]) for r in records] == [("a", 5), ("b", 3)]
    data = path.read_bytes()
    assert data[records[1]["offset"] : records[1]["offset"] + 3] == b"678"


@needs_matplotlib
def test_the_cache_pickles_for_loader_workers(tmp_path: Path) -> None:
    cache = DatasetCache(tmp_path / "cache")
    cache.build([Item(f) for f in FORMULAS], MATHTEXT, n_workers=0)
    first = cache.image(0)
    clone = pickle.loads(pickle.dumps(cache))
    assert len(clone) == len(cache) and np.array_equal(clone.image(0), first)


def test_an_empty_or_missing_cache_has_no_samples(tmp_path: Path) -> None:
    assert len(DatasetCache(tmp_path / "nothing-here")) == 0


@pytest.mark.tex
@needs_tex
def test_tex_build_in_worker_processes(tmp_path: Path) -> None:
    cache = DatasetCache(tmp_path / "cache")
    items = [Item(f) for f in FORMULAS + MATRIX_FORMULAS] + [Item(r"\frac{a}{")]
    report = cache.build(items, TEX, n_workers=2, batch_size=3)
    assert report.rendered == len(FORMULAS + MATRIX_FORMULAS) and report.failed == 1
    assert {cache.meta(i).font for i in range(len(cache))} == {"cm"}
    assert {cache.meta(i).renderer for i in range(len(cache))} == {"tex"}
