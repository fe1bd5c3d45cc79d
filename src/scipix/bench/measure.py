"""What ``scipix bench`` measures, as one JSON-able report.

- ``latency_ms``: ``Scipix.recognize`` on each image (bytes, as a file's), ``repeat`` times,
  with the memory and the learning loop off, so every call recognizes (none answered from the
  result cache); p50/p95 and the ratio of p50 to a 512x512 float32 numpy matmul timed before
  each pass over the images (the machine's speed and load, measured alongside: the fastest of
  3 back-to-back products each time, so one the scheduler interrupted does not count; then a
  pause of ``BLAS_PARK_S``: OpenBLAS's threads spin for ~0.1 s after a product, and a call
  timed meanwhile ran on half the machine: 36 instead of 17 ms CPU). On a busy machine the
  two-thread product waits for its descheduled thread (1.9 ms fastest, 9-50 ms p50 at load 9):
  ``ratio_fastest_matmul512`` divides by the run's fastest product instead; ``cpu_ms``: the
  process's CPU time per call (less inflated by other processes' load than the wall time).
- ``stages_ms``: the pipeline's stages in the same calls (preprocess, detect, recognize,
  generate, validate, …), p50/p95; with ``profile`` also their parts: ``preprocess.decode``,
  ``recognize.prepare`` (the crop scaled for the model), ``recognize.encoder``,
  ``recognize.beam`` (decoder steps and the beam search) and ``recognize.decide`` (tokens to
  checked LaTeX); ``other`` is the call's time outside any stage.
- ``throughput``: images/s of ``Scipix.recognize_many`` (what ``scipix batch`` runs) with
  1 … ``workers`` workers, each with its own model sessions sharing the cores.
- ``memory``: with the memory and learning on (the defaults), in a temporary folder: the first
  call per image (``miss``: cache lookup, recognition, result and trajectory written), the same
  image again (``hit``) and the learning stage alone.
- ``peak_rss_mb``: the process's peak resident memory; ``load_average``: the machine's 1-minute
  load before and after the latency calls (on a busy machine wall times stretch, CPU times less).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from scipix.errors import InputError
from scipix.schema import RecognizeOptions
from scipix.service import Scipix, available_cores
from scipix.settings import Settings
from scipix.timing import collecting

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: the pipeline's stages, in order (the learning stage only with learning on)
STAGES = ("preprocess", "detect", "recognize", "generate", "learn", "validate")
#: matmul products timed before each pass, and the pause after them (OpenBLAS's threads spin
#: after a product, taking the core a recognition timed then would need)
MATMULS_PER_PASS = 5
BLAS_PARK_S = 0.3


@dataclass(frozen=True)
class BenchConfig:
    repeat: int = 3  # calls per image for the latency
    workers: int = 0  # throughput with 1 … workers workers; 0 = the cores
    profile: bool = False  # the stages' parts too
    memory: bool = True  # also time the memory and learning loop (the defaults)


def packaged_images() -> list[Path]:
    """The formula images shipped for ``scipix bench``."""
    folder = Path(str(resources.files("scipix") / "bench" / "images"))
    return sorted(folder.glob("*.png"))


def bench_images(folder: Path | None = None) -> list[tuple[str, bytes]]:
    """(name, encoded bytes) of the images in ``folder`` (default: the packaged ones)."""
    if folder is None:
        paths = packaged_images()
    elif not folder.is_dir():
        raise InputError(f"{folder} is not a folder of images")
    else:
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise InputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return [(p.name, p.read_bytes()) for p in paths]


def percentiles(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
    }


def matmul_ms(a: np.ndarray, tries: int = 3) -> float:
    """The fastest of ``tries`` back-to-back products ``a @ a``: the machine's speed at this
    moment, not counting a product the scheduler interrupted."""
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        a @ a
        best = min(best, (time.perf_counter() - start) * 1000.0)
    return best


def quiet_settings(settings: Settings) -> Settings:
    """``settings`` with the memory and the learning loop off: every call recognizes."""
    memory = settings.memory.model_copy(update={"enabled": False})
    learning = settings.learning.model_copy(update={"enabled": False})
    return settings.model_copy(update={"memory": memory, "learning": learning})


def default_settings(settings: Settings, data_dir: Path) -> Settings:
    """``settings`` with the memory and learning on, kept in ``data_dir`` (not the user's)."""
    runtime = settings.runtime.model_copy(update={"data_dir": data_dir})
    memory = settings.memory.model_copy(update={"enabled": True, "cache": True, "dir": None})
    learning = settings.learning.model_copy(update={"enabled": True})
    return settings.model_copy(update={"runtime": runtime, "memory": memory, "learning": learning})


def latency(
    service: Scipix, images: list[tuple[str, bytes]], options: RecognizeOptions, repeat: int
) -> tuple[list[float], list[float], dict[str, list[float]]]:
    """Per call: ms of ``recognize`` and by stage (``cpu``: the process's CPU time in the call,
    all threads: what the machine's load does not inflate as much as the wall time); and the ms
    of the matmul512s timed before each pass."""
    a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    totals: list[float] = []
    matmuls: list[float] = []
    stages: dict[str, list[float]] = {}
    cpus: list[float] = []
    for _ in range(max(1, repeat)):
        matmuls += [matmul_ms(a) for _ in range(MATMULS_PER_PASS)]
        time.sleep(BLAS_PARK_S)
        for _, data in images:
            with collecting() as table:
                start, cpu = time.perf_counter(), time.process_time()
                service.recognize(data, options)
                total = (time.perf_counter() - start) * 1000.0
            cpus.append((time.process_time() - cpu) * 1000.0)
            totals.append(total)
            table["other"] = max(0.0, total - sum(table.get(s, 0.0) for s in STAGES))
            for name, ms in table.items():
                stages.setdefault(name, []).append(ms)
    stages["cpu"] = cpus
    return totals, matmuls, stages


def throughput(
    settings: Settings,
    images: list[tuple[str, bytes]],
    options: RecognizeOptions,
    workers: int,
    passes: int,
) -> float:
    """Images/s of ``recognize_many`` with ``workers`` workers (models loaded beforehand)."""
    with Scipix(settings, workers=workers) as service:
        service.warm_up()
        list(service.recognize_many([d for _, d in images[:workers]], options, workers))
        batch = [data for _ in range(passes) for _, data in images]
        start = time.perf_counter()
        for _ in service.recognize_many(batch, options, workers):
            pass
        return len(batch) / (time.perf_counter() - start)


def memory_costs(
    settings: Settings, images: list[tuple[str, bytes]], options: RecognizeOptions
) -> dict[str, Any]:
    """ms of a first call per image (miss; and its CPU ms), the same image again (hit), and the
    learn stage."""
    miss: list[float] = []
    hit: list[float] = []
    learn: list[float] = []
    miss_cpu: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="scipix-bench-") as tmp,
        Scipix(default_settings(settings, Path(tmp))) as service,
    ):
        service.warm_up()
        for _, data in images:
            with collecting() as table:
                start, cpu = time.perf_counter(), time.process_time()
                service.recognize(data, options)
                miss.append((time.perf_counter() - start) * 1000.0)
            miss_cpu.append((time.process_time() - cpu) * 1000.0)
            learn.append(table.get("learn", 0.0))
            start = time.perf_counter()
            service.recognize(data, options)
            hit.append((time.perf_counter() - start) * 1000.0)
    return {
        "miss_ms": percentiles(miss),
        "miss_cpu_ms": percentiles(miss_cpu),
        "hit_ms": percentiles(hit),
        "learn_ms": percentiles(learn),
    }


def load_average() -> float | None:
    """The 1-minute load average (what else the cores were running), None where unknown."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # not on Unix
        return None


def peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def run_bench(
    settings: Settings,
    images: list[tuple[str, bytes]],
    options: RecognizeOptions,
    config: BenchConfig,
) -> dict[str, Any]:
    """Everything ``scipix bench`` reports (module docstring), as plain JSON-able data."""
    quiet = quiet_settings(settings)
    load_before = load_average()
    with Scipix(quiet, workers=1) as service:
        service.warm_up()
        service.recognize(images[0][1], options)  # first calls build kernels: not measured
        totals, matmuls, stages = latency(service, images, options, config.repeat)
        cpus = stages.pop("cpu")
        version, threads = service.version, service.threads
    kept = {k: v for k, v in stages.items() if config.profile or "." not in k}
    order = [k for s in (*STAGES, "other") for k in sorted(kept) if k.split(".")[0] == s]
    p50, mm50 = statistics.median(totals), statistics.median(matmuls)
    most = config.workers or available_cores()
    passes = max(1, config.repeat)
    report: dict[str, Any] = {
        "model": version,
        "images": len(images),
        "calls": len(totals),
        "cores": available_cores(),
        "threads": threads,
        "load_average": [load_before, load_average()],  # 1-minute, before and after the latency
        "matmul512_ms": {**percentiles(matmuls), "min": round(min(matmuls), 2)},
        "latency_ms": {
            **percentiles(totals),
            "ratio_matmul512": round(p50 / mm50, 1),
            "ratio_fastest_matmul512": round(p50 / min(matmuls), 1),
        },
        "cpu_ms": percentiles(cpus),
        "stages_ms": {name: percentiles(kept[name]) for name in order},
        "throughput": [
            {"workers": w, "images_per_s": round(throughput(quiet, images, options, w, passes), 2)}
            for w in range(1, most + 1)
        ],
    }
    if config.memory:
        report["memory"] = memory_costs(settings, images, options)
    report["peak_rss_mb"] = peak_rss_mb()
    return report
