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
import hashlib
import json
import mmap
import os
import struct
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import platformdirs

from scipix.errors import StoreError
from scipix.training.mathtext import MATHTEXT_FONTS, MathtextRenderer
from scipix.training.render import (
    RenderOutcome,
    TexRenderer,
    available_tex_fonts,
    tex_font_works,
)

MAGIC = b"SCPXSHD1"
_FOOTER = struct.Struct("<Q8s")  # index offset, magic
SHARD_SUFFIX = ".shard"


def default_cache_dir() -> Path:
    """``<user cache dir>/scipix/data`` (``~/.cache/scipix/data`` on Linux)."""
    return Path(platformdirs.user_cache_dir("scipix")) / "data"


@dataclass(frozen=True)
class RendererSpec:
    """One way to render, with its share of the samples: a renderer, its fonts and dpi range.

    ``fonts=()`` means every font of the catalogue this machine can render.
    """

    renderer: Literal["tex", "mathtext"]
    fonts: tuple[str, ...] = ()
    dpi_range: tuple[int, int] = (60, 140)
    weight: float = 1.0
    engine: Literal["dvi", "pdf"] = "dvi"

    def usable_fonts(self) -> tuple[str, ...]:
        if self.renderer == "mathtext":
            return tuple(f for f in self.fonts if f in MATHTEXT_FONTS) or MATHTEXT_FONTS
        if not self.fonts:
            return available_tex_fonts(self.engine)
        return tuple(f for f in self.fonts if tex_font_works(f, self.engine))


#: Matched-scale defaults: TeX in every font (dvipng), the im2latex look (pdflatex, bolder
#: strokes) mostly in Computer Modern, and mathtext for its own fonts.
DEFAULT_RENDERERS: tuple[RendererSpec, ...] = (
    RendererSpec("tex", weight=0.45),
    RendererSpec("tex", fonts=("cm",), engine="pdf", weight=0.15),
    RendererSpec("tex", engine="pdf", weight=0.1),
    RendererSpec("mathtext", weight=0.3),
)


@dataclass(frozen=True)
class BatchJob:
    """Formulas rendered together in one font: ``items`` are (key, latex, source, dpi)."""

    renderer: str
    engine: str
    font: str
    items: tuple[tuple[str, str, str, int], ...]


@dataclass
class BuildReport:
    """What a build did; ``rate`` is rendered-or-failed formulas per second."""

    planned: int = 0
    cached: int = 0
    rendered: int = 0
    failed: int = 0
    seconds: float = 0.0
    by_renderer: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return (self.rendered + self.failed) / self.seconds if self.seconds > 0 else 0.0

    def add(self, results: list[dict[str, Any]]) -> None:
        for result in results:
            if result.get("png") is None:
                self.failed += 1
                self.errors[str(result.get("error", "?"))[:60]] += 1
            else:
                self.rendered += 1
                self.by_renderer[f"{result['renderer']}/{result['font']}"] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "cached": self.cached,
            "rendered": self.rendered,
            "failed": self.failed,
            "seconds": round(self.seconds, 2),
            "formulas_per_s": round(self.rate, 1),
            "by_renderer": dict(self.by_renderer.most_common()),
            "errors": dict(self.errors.most_common(10)),
        }


def sample_key(renderer: str, engine: str, font: str, copy: int, latex: str) -> str:
    text = f"{renderer}|{engine}|{font}|{copy}|{latex}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def plan_jobs(
    pairs: Sequence[tuple[str, str]],
    renderers: Sequence[RendererSpec],
    copies: int,
    seed: int,
    batch_size: int,
    skip: set[str],
) -> tuple[list[BatchJob], BuildReport]:
    """Draw a renderer and font per (formula, copy), drop cached keys, batch by font, shuffle.

    The dpi is drawn per batch (one rasterizer call per batch; batches are shuffled, so the
    training stream still mixes every dpi), which is why it is not part of a sample's key.
    """
    specs = [(s, s.usable_fonts()) for s in renderers if s.weight > 0]
    specs = [(s, fonts) for s, fonts in specs if fonts]
    if not specs:
        raise StoreError("no usable renderer: install TeX Live (latex, dvipng) or matplotlib")
    weights = np.array([s.weight for s, _ in specs], dtype=np.float64)
    weights /= weights.sum()
    groups: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
    report, seen = BuildReport(), set(skip)
    for latex, source in pairs:
        digest = int.from_bytes(hashlib.blake2b(latex.encode(), digest_size=8).digest(), "little")
        for copy in range(copies):
            rng = np.random.default_rng([seed, copy, digest])
            which = int(rng.choice(len(specs), p=weights))
            spec, fonts = specs[which]
            font = fonts[int(rng.integers(len(fonts)))]
            key = sample_key(spec.renderer, _engine(spec), font, copy, latex)
            report.planned += 1
            if key in seen:
                report.cached += 1
                continue
            seen.add(key)
            groups.setdefault((which, font), []).append((key, latex, source))
    jobs: list[BatchJob] = []
    for (which, font), items in groups.items():
        spec = specs[which][0]
        low, high = spec.dpi_range
        for start in range(0, len(items), batch_size):
            rng = np.random.default_rng([seed, which, len(jobs), start])
            dpi = int(round(rng.uniform(low, high) / 10.0) * 10)
            chunk = tuple((k, t, s, dpi) for k, t, s in items[start : start + batch_size])
            jobs.append(BatchJob(spec.renderer, _engine(spec), font, chunk))
    order = np.random.default_rng(seed).permutation(len(jobs))
    return [jobs[int(i)] for i in order], report


def _engine(spec: RendererSpec) -> str:
    return spec.engine if spec.renderer == "tex" else "agg"


def render_job(job: BatchJob) -> list[dict[str, Any]]:
    """Render one job (in a worker process); each result carries ``png`` bytes or ``error``."""
    formulas = [latex for _, latex, _, _ in job.items]
    dpis = [dpi for _, _, _, dpi in job.items]
    outcomes: list[RenderOutcome]
    if job.renderer == "tex":
        engine: Literal["dvi", "pdf"] = "pdf" if job.engine == "pdf" else "dvi"
        outcomes = TexRenderer(job.font, engine=engine).render(formulas, dpis)
    else:
        outcomes = MathtextRenderer(job.font).render(formulas, dpis)
    results = []
    for (key, latex, source, dpi), outcome in zip(job.items, outcomes, strict=True):
        result: dict[str, Any] = {"key": key, "latex": latex, "source": source}
        result.update(renderer=job.renderer, engine=job.engine, font=job.font, dpi=dpi)
        if outcome.image is None:
            result["error"] = outcome.error
        else:
            png = cv2.imencode(".png", outcome.image, [cv2.IMWRITE_PNG_COMPRESSION, 3])[1]
            height, width = outcome.image.shape
            result.update(png=png.tobytes(), height=height, width=width)
        results.append(result)
    return results


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
        formula list or a new seed only adds. ``n_workers=0`` renders in this process.
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
            for results in _run_jobs(jobs, n_workers):
                report.add(results)
                writer.add(results)
                report.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(report)
            writer.close()
            report.seconds = time.perf_counter() - started
        self.refresh()
        return report


def _run_jobs(jobs: list[BatchJob], n_workers: int) -> Iterator[list[dict[str, Any]]]:
    """Render the jobs, inline or in ``n_workers`` processes, yielding each job's results."""
    if n_workers <= 0:
        for job in jobs:
            yield render_job(job)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
        pending: set[Future[list[dict[str, Any]]]] = set()
        queue = list(reversed(jobs))
        while True:
            while queue and len(pending) < 2 * n_workers:
                pending.add(pool.submit(render_job, queue.pop()))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()


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
