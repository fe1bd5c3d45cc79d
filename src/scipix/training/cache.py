"""The rendered-sample cache: clean renders stored once in sharded files, read fast by training.

Layout of a cache directory (default ``~/.cache/scipix/data``; never inside the repository)::

    shard-<time>-<run>-<n>.shard   PNG blobs, then a JSON index, then a 16-byte footer
    rejects.jsonl                  formulas a renderer could not draw (not retried)
    .lock                          held while a build writes

A shard is written to a temporary name and renamed when complete, so an interrupted build
leaves only whole shards; the next :meth:`DatasetCache.build` skips every sample already
present (its key hashes renderer, engine, font, copy number and LaTeX) and adds new shards.
Augmentation is not stored: the trainer applies :func:`scipix.training.augment.augment` online.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import struct
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import platformdirs

from scipix.errors import StoreError
from scipix.training.plan import (
    DEFAULT_RENDERERS,
    BuildReport,
    RendererSpec,
    plan_jobs,
    run_jobs,
)

__all__ = [
    "DEFAULT_RENDERERS",
    "BuildReport",
    "CachedSample",
    "DatasetCache",
    "RendererSpec",
    "SampleMeta",
    "default_cache_dir",
]

MAGIC = b"SCPXSHD1"
_FOOTER = struct.Struct("<Q8s")  # index offset, magic
SHARD_SUFFIX = ".shard"


def default_cache_dir() -> Path:
    """``<user cache dir>/scipix/data`` (``~/.cache/scipix/data`` on Linux)."""
    return Path(platformdirs.user_cache_dir("scipix")) / "data"


class LabeledFormula(Protocol):
    """What the cache needs of a formula: its normalized LaTeX and where it came from."""

    @property
    def latex(self) -> str: ...

    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class SampleMeta:
    """How a sample was made."""

    renderer: str  # "tex" | "mathtext"
    engine: str  # "dvi" | "pdf" for TeX, "agg" for mathtext
    font: str
    dpi: int
    source: str  # the corpus or "generator"


@dataclass(frozen=True)
class CachedSample:
    image: np.ndarray  # grayscale uint8, white background, tightly cropped
    latex: str  # the normalized label
    meta: SampleMeta


@dataclass(frozen=True)
class _Entry:
    shard: int
    offset: int
    length: int
    size: tuple[int, int]  # height, width
    latex: str
    meta: SampleMeta


def write_shard(path: Path, records: Sequence[dict[str, Any]], blobs: Sequence[bytes]) -> None:
    """Write one shard atomically (temporary file, fsync, rename)."""
    index = []
    offset = len(MAGIC)
    for record, blob in zip(records, blobs, strict=True):
        index.append({**record, "offset": offset, "length": len(blob)})
        offset += len(blob)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(MAGIC)
        for blob in blobs:
            handle.write(blob)
        handle.write(json.dumps(index, ensure_ascii=False).encode("utf-8"))
        handle.write(_FOOTER.pack(offset, MAGIC))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_shard_index(path: Path) -> list[dict[str, Any]]:
    """The records of one shard (with ``offset`` and ``length`` of each PNG blob)."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size < len(MAGIC) + _FOOTER.size:
            raise StoreError(f"{path}: truncated shard; delete it and build again")
        handle.seek(size - _FOOTER.size)
        index_offset, magic = _FOOTER.unpack(handle.read(_FOOTER.size))
        if magic != MAGIC or not len(MAGIC) <= index_offset <= size - _FOOTER.size:
            raise StoreError(f"{path}: not a scipix shard; delete it and build again")
        handle.seek(index_offset)
        records: list[dict[str, Any]] = json.loads(handle.read(size - _FOOTER.size - index_offset))
    return records


class DatasetCache:
    """A directory of shards: ``len(cache)``, ``cache[i]``, iteration, and :meth:`build`.

    Picklable (open memory maps are dropped and reopened lazily), so DataLoader workers can
    share one instance.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self._entries: list[_Entry] = []
        self._keys: set[str] = set()
        self._shards: list[Path] = []
        self._maps: dict[int, mmap.mmap] = {}
        self.refresh()

    def refresh(self) -> None:
        """Re-read the shard indices (after a build by another process)."""
        self._close()
        self._entries, self._keys, self._shards = [], set(), []
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob(f"*{SHARD_SUFFIX}")):
            shard = len(self._shards)
            self._shards.append(path)
            for r in read_shard_index(path):
                meta = SampleMeta(r["renderer"], r["engine"], r["font"], r["dpi"], r["source"])
                size = (r["height"], r["width"])
                self._entries.append(
                    _Entry(shard, r["offset"], r["length"], size, r["latex"], meta)
                )
                self._keys.add(r["key"])

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> CachedSample:
        entry = self._entries[index]
        return CachedSample(self.image(index), entry.latex, entry.meta)

    def __iter__(self) -> Iterator[CachedSample]:
        for index in range(len(self._entries)):
            yield self[index]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_maps"] = {}
        return state

    def label(self, index: int) -> str:
        return self._entries[index].latex

    def meta(self, index: int) -> SampleMeta:
        return self._entries[index].meta

    def size(self, index: int) -> tuple[int, int]:
        """``(height, width)`` without decoding the image."""
        return self._entries[index].size

    def image(self, index: int) -> np.ndarray:
        """The clean grayscale image of sample ``index``."""
        entry = self._entries[index]
        data = self._map(entry.shard)[entry.offset : entry.offset + entry.length]
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise StoreError(f"{self._shards[entry.shard]}: unreadable image at {entry.offset}")
        return np.asarray(image, dtype=np.uint8)

    def has(self, key: str) -> bool:
        return key in self._keys

    def _map(self, shard: int) -> mmap.mmap:
        if shard not in self._maps:
            with self._shards[shard].open("rb") as handle:
                self._maps[shard] = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return self._maps[shard]

    def _close(self) -> None:
        for mapped in self._maps.values():
            mapped.close()
        self._maps = {}

    def rejected_keys(self) -> set[str]:
        path = self.root / "rejects.jsonl"
        if not path.exists():
            return set()
        keys = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                keys.add(json.loads(line)["key"])
            except (ValueError, KeyError):
                continue  # a line cut short by a crash
        return keys

    def build(
        self,
        formulas: Sequence[LabeledFormula],
        renderers: Sequence[RendererSpec],
        n_workers: int = 2,
        copies: int = 1,
        seed: int = 0,
        batch_size: int = 48,
        shard_size: int = 2048,
        progress: Callable[[BuildReport], None] | None = None,
    ) -> BuildReport:
        """Render what is not cached yet (``copies`` conditions per formula) into new shards.

        Conditions are drawn per formula from ``renderers`` (weighted), deterministically
        from ``seed``, so a re-run with the same arguments renders nothing new and a larger
        formula list or a new seed only adds. ``n_workers=0`` renders in this process; worker
        processes are spawned, so a script that builds needs ``if __name__ == "__main__":``.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreError(f"{self.root}: another build is running") from exc
            pairs = [(f.latex, f.source) for f in formulas]
            skip = self._keys | self.rejected_keys()
            jobs, report = plan_jobs(pairs, renderers, copies, seed, batch_size, skip)
            writer = _ShardWriter(self.root, shard_size)
            started = time.perf_counter()
            for results in run_jobs(jobs, n_workers):
                report.add(results)
                writer.add(results)
                report.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(report)
            writer.close()
            report.seconds = time.perf_counter() - started
        self.refresh()
        return report


class _ShardWriter:
    """Collects rendered samples and writes a shard every ``shard_size`` of them."""

    def __init__(self, root: Path, shard_size: int) -> None:
        self.root, self.shard_size = root, shard_size
        self.records: list[dict[str, Any]] = []
        self.blobs: list[bytes] = []
        self.stamp = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.count = 0
        self.rejects = (root / "rejects.jsonl").open("a", encoding="utf-8")

    def add(self, results: list[dict[str, Any]]) -> None:
        for result in results:
            png = result.pop("png", None)
            if png is None:
                self.rejects.write(json.dumps(result, ensure_ascii=False) + "\n")
                continue
            self.records.append(result)
            self.blobs.append(png)
        self.rejects.flush()
        if len(self.records) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        if not self.records:
            return
        path = self.root / f"shard-{self.stamp}-{self.count:05d}{SHARD_SUFFIX}"
        write_shard(path, self.records, self.blobs)
        self.count += 1
        self.records, self.blobs = [], []

    def close(self) -> None:
        self.flush()
        self.rejects.close()
