"""``scipix bench``: the report's shape and that its numbers are measured (the shipped model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scipix.bench import BenchConfig, bench_images, packaged_images, run_bench
from scipix.errors import InputError
from scipix.schema import RecognizeOptions
from scipix.settings import Settings


def positive(ms: dict[str, float]) -> bool:
    return 0.0 < ms["p50"] <= ms["p95"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("data")
    settings = Settings().model_copy(
        update={"runtime": Settings().runtime.model_copy(update={"cache_dir": data / "cache"})}
    )
    images = bench_images()[:3]
    config = BenchConfig(repeat=1, workers=1, profile=True, memory=True)
    return run_bench(settings, images, RecognizeOptions(), config)


def test_packaged_images_are_a_few_small_formulas() -> None:
    paths = packaged_images()
    assert 3 <= len(paths) <= 10
    assert all(p.stat().st_size < 10_000 for p in paths)


def test_report_numbers_are_measured_and_stages_add_up(report: dict[str, Any]) -> None:
    assert report["images"] == 3 and report["calls"] == 3
    assert positive(report["latency_ms"]) and positive(report["matmul512_ms"])
    assert positive(report["cpu_ms"])
    assert report["latency_ms"]["ratio_matmul512"] > 0
    fastest = report["latency_ms"]["ratio_fastest_matmul512"]
    assert fastest >= report["latency_ms"]["ratio_matmul512"]
    stages = report["stages_ms"]
    for name in ("preprocess", "detect", "recognize", "generate", "validate"):
        assert stages[name]["p50"] >= 0.0
    for part in ("recognize.encoder", "recognize.beam", "preprocess.decode"):
        assert positive(stages[part])
    assert stages["recognize.beam"]["p50"] < stages["recognize"]["p95"]
    top = sum(ms["p50"] for name, ms in stages.items() if "." not in name)
    assert 0.5 * report["latency_ms"]["p50"] < top < 1.5 * report["latency_ms"]["p95"]
    assert [row["workers"] for row in report["throughput"]] == [1]
    assert report["throughput"][0]["images_per_s"] > 0
    memory = report["memory"]
    assert positive(memory["miss_ms"]) and positive(memory["hit_ms"])
    assert report["peak_rss_mb"] > 50


def test_bench_images_refuses_an_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no images"):
        bench_images(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        bench_images(tmp_path / "missing")


def test_cli_prints_json_for_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.png").write_bytes(packaged_images()[0].read_bytes())
    (folder / "notes.txt").write_text("not an image")
    env = {**os.environ, "SCIPIX_RUNTIME__CACHE_DIR": str(tmp_path / "cache")}
    args = ["bench", "--json", "--repeat", "1", "--workers", "1", "--no-memory"]
    done = subprocess.run(
        [sys.executable, "-m", "scipix", *args, "--images", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["images"] == 1 and "memory" not in report
    assert "recognize.beam" not in report["stages_ms"]  # only with --profile
    assert positive(report["latency_ms"])
    missing = subprocess.run(
        [sys.executable, "-m", "scipix", "bench", "--images", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert missing.returncode == 2 and "not a folder" in missing.stderr
