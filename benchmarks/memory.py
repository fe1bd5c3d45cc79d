"""The memory store (``scipix.memory``): insert rate, recall@10 against brute force, query p50.

For each size N (default 100 k and 1 M) a fresh store gets N vectors of ``--dim`` (256) through
``MemoryStore`` itself (SQLite + usearch, the ``memory`` settings' defaults unless overridden):
``add_many`` (10 k per call and transaction; the rate over the whole build and over its last
tenth, i.e. at about N entries). Then ``--queries`` held-out vectors of the same
distribution are searched (``search(k=10)``: HNSW, re-rank, payload fetch from SQLite; after one
untimed pass) and compared with an exact scan; last, ``--single`` more entries are added one
at a time at N (``add``: a transaction each). Vectors: ``gaussian`` (isotropic, the hardest
case for HNSW) or ``lowrank``
(a ``--rank``-d Gaussian through a random 256-d projection plus 10 % noise, closer to real
embeddings, whose variance sits in few directions).

    nice -n 10 python3 benchmarks/memory.py [--sizes 100000 1000000] [--data gaussian]
        [--ef 64 128 256] [--dtype f16] [--connectivity 32] [--expansion-add 64]
        [--reduce-dims 32] [--reduce-from 20000] [--rerank 4]

Targets (issue 17): recall@10 >= 0.98 at 100 k and 1 M, p50 <= 2 ms at 1 M, insert >= 5 k/s.
Wall times depend on what else the machine runs: CPU times (the query's thread, the inserts'
process) are printed too, with the load average.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from scipix.memory import MemoryStore
from scipix.settings.model import MemorySettings

CHUNK = 10_000


def vectors(rng: np.random.Generator, n: int, dim: int, data: str, basis: np.ndarray) -> np.ndarray:
    if data == "gaussian":
        out = rng.standard_normal((n, dim), dtype=np.float32)
    else:
        out = rng.standard_normal((n, basis.shape[0]), dtype=np.float32) @ basis
        out += 0.1 * rng.standard_normal((n, dim), dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def exact_top(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Row numbers of each query's k nearest (cosine) by brute force."""
    best = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 50):
        sims = queries[start : start + 50] @ data.T
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.take_along_axis(sims, top, 1).argsort(axis=1)[:, ::-1]
        best[start : start + 50] = np.take_along_axis(top, order, 1)
    return best


def run(size: int, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(size)
    basis = rng.standard_normal((args.rank, args.dim), dtype=np.float32)
    settings = MemorySettings(
        expansion_search=args.ef[0],
        dtype=args.dtype,
        connectivity=args.connectivity,
        expansion_add=args.expansion_add,
        reduce_dims=args.reduce_dims,
        reduce_from=args.reduce_from,
        rerank=args.rerank,
        persist_every=10 * size,
    )
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        store = MemoryStore.open(Path(tmp), settings)
        data = vectors(rng, size, args.dim, args.data, basis)
        tail = size - max(CHUNK, size // 10)  # the last tenth: the insert rate at about N
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, size, CHUNK):
            if start == tail:
                tail_wall, tail_cpu = time.perf_counter(), time.process_time()
            chunk = data[start : start + CHUNK]
            store.add_many("bench", chunk, [{"i": start + j} for j in range(len(chunk))], scope="s")
        build_s = time.perf_counter() - started
        bulk_rate, bulk_cpu = size / build_s, size / max(time.process_time() - cpu, 1e-9)
        tail_rate = (size - tail) / (time.perf_counter() - tail_wall)
        tail_per_cpu = (size - tail) / max(time.process_time() - tail_cpu, 1e-9)
        queries = vectors(rng, args.queries, args.dim, args.data, basis)
        truth = exact_top(data, queries, 10)
        projection = store.stats()["kinds"]["bench"]["projection"]
        print(
            f"N={size:>9,d} {args.data} d={args.dim} {args.dtype} M={args.connectivity} "
            f"ef_add={args.expansion_add} projection {projection} rerank {args.rerank} "
            f"(load {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores)\n"
            f"  add_many ({CHUNK:,d} a call) 0 -> N: {bulk_rate:,.0f}/s wall, {bulk_cpu:,.0f} per "
            f"CPU-s (build {build_s:.0f} s); the last {size - tail:,d} (at about N): "
            f"{tail_rate:,.0f}/s wall, {tail_per_cpu:,.0f} per CPU-s",
            flush=True,
        )
        for q in queries:  # warm-up: the first pass over a fresh index pays its page faults
            store.search("bench", q, 10, scope=None)
        for ef in args.ef:
            store._indexes["bench"].expansion_search = ef
            query(store, queries, truth, ef)
        extra = vectors(rng, args.single, args.dim, args.data, basis)
        started, cpu = time.perf_counter(), time.process_time()
        for i, vec in enumerate(extra):
            store.add("bench", vec, {"i": size + i}, scope="s")
        print(
            f"  add one by one at N ({args.single:,d}, a transaction each): "
            f"{args.single / (time.perf_counter() - started):,.0f}/s wall, "
            f"{args.single / max(time.process_time() - cpu, 1e-9):,.0f} per CPU-s",
            flush=True,
        )
        started = time.perf_counter()
        store.close()
        close_s = time.perf_counter() - started
        started = time.perf_counter()
        MemoryStore.open(Path(tmp), settings).close()
        print(f"  save {close_s:.1f} s, reopen {time.perf_counter() - started:.1f} s", flush=True)


def query(store: MemoryStore, queries: np.ndarray, truth: np.ndarray, ef: int) -> None:
    found, times, cpu_times = [], [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.thread_time()
        hits = store.search("bench", q, 10, scope=None)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.thread_time() - c0)
        found.append({h.payload["i"] for h in hits})
    recall = np.mean([len(f & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)])
    print(
        f"  ef={ef:<4d} recall@10 {recall:.4f}  query p50 {1e3 * np.median(times):.3f} ms wall, "
        f"{1e3 * np.median(cpu_times):.3f} ms CPU; p95 {1e3 * np.quantile(times, 0.95):.3f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--data", choices=["gaussian", "lowrank"], default="gaussian")
    parser.add_argument("--rank", type=int, default=32)
    defaults = MemorySettings()
    parser.add_argument("--ef", type=int, nargs="+", default=[defaults.expansion_search])
    parser.add_argument("--connectivity", type=int, default=defaults.connectivity)
    parser.add_argument("--dtype", default=defaults.dtype)
    parser.add_argument("--expansion-add", type=int, default=defaults.expansion_add)
    parser.add_argument("--reduce-dims", type=int, default=defaults.reduce_dims)
    parser.add_argument("--reduce-from", type=int, default=defaults.reduce_from)
    parser.add_argument("--rerank", type=int, default=defaults.rerank)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--tmp", default=None, help="Where the stores are built (default /tmp).")
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args)


if __name__ == "__main__":
    main()
