"""Scale-out: the local engine against Ray actors, the cost of Ray and of attestations per item,
and a paper estimate of throughput on 10 and 100 nodes from those measured costs.

- images/s of ``Scipix.recognize_many`` on the same images: local threads (1 and 2 workers per
  stage) and Ray (``RayRuntime``, 2 actors of 1 CPU on a local Ray with this machine's CPUs: one
  item in flight, then four), one ONNX thread per model everywhere, after a warm-up that loads
  the models, runs taken in turns; the ratio Ray / local;
- Ray's overhead per item: the same jobs through actors that run no agent (put the job in the
  object store, call the actor, get the job back): what the driver spends per item;
- attestation: ms to sign a result (``trust.attest``) and to check a record
  (``trust.check_record``);
- estimate: ``throughput(N) = min(N * cores / (item_s + attest_s), 1 / driver_s)``: N nodes
  with this machine's cores, each core a 1-CPU actor at the measured per-item time, bounded by
  the one driver's per-item cost. A paper figure, not a measurement.

Usage: ``nice -n 10 python3 benchmarks/scale.py [--images N] [--runs N] [--json]``. Reads
formula images from ``../shared/data/train/im2latex_val/images`` (held-out renders), else the
repository's examples. Needs the ``[ray]`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "train" / "im2latex_val" / "images"


def images(count: int) -> list[bytes]:
    found = sorted(SHARED.glob("*.png"))[:count] if SHARED.is_dir() else []
    if not found:
        found = sorted((ROOT / "examples").glob("*.png"))
    data = [p.read_bytes() for p in found]
    return (data * (count // len(data) + 1))[:count]


def rate(service: Any, data: list[bytes], workers: int, runtime: Any = None) -> float:
    """Images/s of one run."""
    start = time.perf_counter()
    results = list(service.recognize_many(data, workers=workers, runtime=runtime))
    return len(results) / (time.perf_counter() - start)


def engines(service: Any, runtime: Any, data: list[bytes], runs: int) -> dict[str, float]:
    """Median images/s of each engine, the runs taken in turns (local 1, local 2, Ray 1, Ray 2,
    then again) so that a change in the machine's load falls on all of them alike. Ray's "1
    worker" is its pool with one item in flight (one actor busy at a time), "2" with four."""
    list(service.recognize_many(data[:4]))  # warm-up: models loaded, first calls made
    list(service.recognize_many(data[:4], runtime=runtime))
    found: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, workers, in_flight in (
            ("local", 1, 0),
            ("local", 2, 0),
            ("ray", 1, 1),
            ("ray", 2, 4),
        ):
            engine = None
            if name == "ray":
                runtime.max_in_flight = in_flight
                engine = runtime
            found.setdefault(f"{name}_{workers}", []).append(rate(service, data, workers, engine))
    return {name: statistics.median(rates) for name, rates in found.items()}


def ray_overhead_ms(runtime: Any, data: list[bytes], count: int) -> float:
    """ms per item through actors that run no agent (transport and scheduling only)."""
    from scipix.pipeline.job import Job
    from scipix.pipeline.message import Tag
    from scipix.schema import RecognizeOptions

    def jobs() -> Any:
        options = RecognizeOptions()
        for i in range(count):
            yield Job(seq=i, tag=Tag(f"r{i}"), source=data[i % len(data)], options=options)

    list(runtime.run([], jobs()))  # the actors start and build their (unused) pipeline
    start = time.perf_counter()
    done = list(runtime.run([], jobs()))
    assert len(done) == count
    return (time.perf_counter() - start) * 1000.0 / count


def attestation_ms(service: Any, data: bytes, count: int) -> tuple[float, float]:
    import blake3

    from scipix.cli.ocr import image_record
    from scipix.trust import Keyring, ReplayGuard, WorkerKey, attest, check_record

    result = service.recognize(data)
    digest = blake3.blake3(data).hexdigest()
    key, ring, guard = WorkerKey.generate(), Keyring(), ReplayGuard()
    ring.trust(key.public)
    start = time.perf_counter()
    records = []
    for _ in range(count):
        result.attestation = attest(key, digest, result)
        records.append(image_record("x.png", digest, result))
    sign = (time.perf_counter() - start) * 1000.0 / count
    start = time.perf_counter()
    assert all(check_record(r, ring, guard, i).ok for i, r in enumerate(records))
    check = (time.perf_counter() - start) * 1000.0 / count
    return sign, check


def estimate(item_s: float, attest_s: float, driver_s: float, nodes: int, cores: int) -> float:
    return min(nodes * cores / (item_s + attest_s), 1.0 / driver_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import ray

    from scipix.pipeline.ray_runtime import RayRuntime
    from scipix.service import Scipix, pipeline_agents
    from scipix.settings import load_settings

    settings = load_settings()
    settings.runtime.threads = 1  # one ONNX thread per model everywhere: the engines compared
    data = images(args.images)
    cores = len(os.sched_getaffinity(0))
    out: dict[str, Any] = {"images": len(data), "cores": cores, "runs": args.runs}
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    try:
        with Scipix(settings) as service:
            runtime = RayRuntime(settings, pipeline_agents, actors=2)
            out.update(engines(service, runtime, data, args.runs))
            out["ray_ms_per_item"] = ray_overhead_ms(runtime, data, 200)
            runtime.close()
            out["attest_ms"], out["verify_ms"] = attestation_ms(service, data[0], 200)
    finally:
        ray.shutdown()
    item_s = 1.0 / out["ray_1"]  # one 1-CPU actor's seconds per image
    attest_s, driver_s = out["attest_ms"] / 1000.0, out["ray_ms_per_item"] / 1000.0
    for nodes in (10, 100):
        out[f"estimate_{nodes}_nodes"] = estimate(item_s, attest_s, driver_s, nodes, cores)
    show(out, args.json)
    return 0


def show(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, indent=2))
        return
    print(f"{out['images']} images, {out['cores']} cores (medians)")
    for name in ("local_1", "local_2", "ray_1", "ray_2"):
        print(f"  {name:8s} {out[name]:6.2f} images/s")
    print(f"  ray/local, 1 worker:  {out['ray_1'] / out['local_1']:.2f}")
    print(f"  ray/local, 2 workers: {out['ray_2'] / out['local_2']:.2f}")
    print(f"  Ray per item (no agents, driver side): {out['ray_ms_per_item']:.2f} ms")
    print(f"  attestation: sign {out['attest_ms']:.3f} ms, check {out['verify_ms']:.3f} ms")
    for nodes in (10, 100):
        value = out[f"estimate_{nodes}_nodes"]
        print(f"  estimate, {nodes} nodes of {out['cores']} cores: {value:.0f} images/s")


if __name__ == "__main__":
    sys.exit(main())
