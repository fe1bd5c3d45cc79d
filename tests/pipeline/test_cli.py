"""``scipix ocr`` and ``scipix batch`` as a user runs them, on bad input (no model needed)."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from imaging.drawing import encode, text_line


def run(
    *args: str, cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd / ".config"), **(env or {})}
    env.pop("SCIPIX_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "scipix", *args],
        cwd=cwd,
        env=env,
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=300,
    )


def bomb() -> bytes:
    """The header of a 30000×30000 PNG (decoding never starts, so the rest may be short)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 30000, 30000, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 3751 * 100)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.fixture
def bad_dir(tmp_path: Path) -> Path:
    d = tmp_path / "scans"
    d.mkdir()
    good = text_line("x + 1 = 2")
    (d / "a_empty.png").write_bytes(b"")
    (d / "b_notes.png").write_text("not an image\n")
    jpeg = encode(good, "JPEG", quality=90)
    (d / "c_truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (d / "d_bomb.png").write_bytes(bomb())
    (d / "e_blank.png").write_bytes(encode(np.full((100, 300), 255, np.uint8), "PNG"))
    (d / "f_broken_link.png").symlink_to(d / "missing.png")
    (d / "g_locked.png").write_bytes(encode(good, "PNG"))
    (d / "g_locked.png").chmod(0)
    (d / "readme.txt").write_text("not picked: wrong suffix")
    return d


EXPECTED = {
    "a_empty.png": "image_missing",
    "b_notes.png": "image_decode_error",
    "c_truncated.jpg": "image_decode_error",
    "d_bomb.png": "image_max_size",
    "e_blank.png": "image_no_content",
    "f_broken_link.png": "image_missing",
}


def test_ocr_reports_each_bad_file_on_stderr_and_in_json(bad_dir: Path, tmp_path: Path) -> None:
    names = sorted(EXPECTED)
    result = run("ocr", *[str(bad_dir / n) for n in names], "--format", "json", cwd=tmp_path)
    assert result.returncode == 2  # every failure is bad input
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["image"] for r in records] == [str(bad_dir / n) for n in names]
    assert [r["error_info"]["id"] for r in records] == [EXPECTED[n] for n in names]
    for name in names:
        assert f"{bad_dir / name}: {EXPECTED[name]}:" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_ocr_reads_stdin(tmp_path: Path) -> None:
    result = run("ocr", "-", "--format", "json", cwd=tmp_path, stdin=b"")
    assert result.returncode == 2
    record = json.loads(result.stdout)
    assert record["image"] == "-" and record["error_info"]["id"] == "image_missing"


def test_a_missing_file_is_bad_input_exit_2(tmp_path: Path) -> None:
    result = run("ocr", "missing.png", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: missing.png: image_missing:") and "no such file" in line


def test_a_failed_recognition_is_exit_1_even_with_bad_input(tmp_path: Path) -> None:
    (tmp_path / "good.png").write_bytes(encode(text_line("x + 1 = 2"), "PNG"))
    (tmp_path / "no-model").mkdir()
    env = {"SCIPIX_OCR__MODEL_DIR": str(tmp_path / "no-model")}
    result = run("ocr", "good.png", "missing.png", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr  # not the input's fault: the model is missing
    assert "model_unavailable" in result.stderr and "image_missing" in result.stderr


def summary_rate(stderr: str) -> str:
    """The value of the batch summary's ``rate (this run)`` row."""
    [row] = [line for line in stderr.splitlines() if "rate (this run)" in line]
    return row.split("│")[2].strip()


def test_batch_rate_of_a_resumed_run_counts_only_its_own_images(tmp_path: Path) -> None:
    d = tmp_path / "few"
    d.mkdir()
    for i in range(3):  # blank pages: quick to fail, and each its own hash
        cv2.imwrite(str(d / f"{i}.png"), np.full((100 + i, 300), 255, np.uint8))
    out = tmp_path / "out.jsonl"
    first = run("batch", str(d), "--out", str(out), cwd=tmp_path)
    assert summary_rate(first.stderr).endswith("img/s (3 recognized)"), first.stderr
    done = run("batch", str(d), "--out", str(out), "--resume", cwd=tmp_path)
    assert summary_rate(done.stderr) == "- (0 recognized)", done.stderr  # nothing read: no rate
    assert "-- img/s" in done.stderr and "skipped" in done.stderr  # nor in the progress bar


def test_batch_rates_ignore_skipped_images(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.progress import Task, TaskID

    from scipix.cli import batch

    assert batch.run_rate(0, 5.0) is None and batch.run_rate(3, 0.0) is None
    assert batch.run_rate(2, 4.0) == 0.5
    rate, eta = batch.run_rate_columns()
    # 1000 images skipped by --resume, then 1 recognized in the 2 s this run took so far
    task = Task(TaskID(0), "recognizing", 1010, 1001, _get_time=lambda: 2.0)
    task.start_time, task.fields["processed"] = 0.0, 1
    text = rate.render(task).plain
    assert text == "0.5 img/s", text  # not 500 img/s
    assert eta.render(task).plain == "ETA 0:00:18"  # 9 left at 0.5 img/s
    task.fields["processed"] = 0
    assert rate.render(task).plain == "-- img/s" and "-:--" in eta.render(task).plain
    batch.print_summary(batch.Tally(done=1, skipped=1000), 2.0, Path("out.jsonl"))
    assert "0.50 img/s (1 recognized)" in capsys.readouterr().err


def test_batch_goes_on_past_bad_files(bad_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    result = run("batch", str(bad_dir), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    # a record without error_info is a read (only g_locked.png, and only for root)
    got = {Path(r["image"]).name: r.get("error_info", {}).get("id", "read") for r in records}
    assert len(records) == 7 and "readme.txt" not in got
    for name, error_id in EXPECTED.items():
        assert got[name] == error_id
    # root can read a file without permissions: then it is read like any good image
    assert got["g_locked.png"] == ("image_missing" if os.geteuid() != 0 else "read")
    assert "failed: image_missing" in result.stderr and "mean confidence" in result.stderr


def test_batch_resume_skips_done_images_and_repairs_a_torn_line(
    bad_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results.jsonl"
    run("batch", str(bad_dir), "--out", str(out), cwd=tmp_path)
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines[:3]) + "\n" + lines[3][:25])  # killed mid-write
    refused = run("batch", str(bad_dir), "--out", str(out), cwd=tmp_path)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    result = run("batch", str(bad_dir), "--out", str(out), "--resume", cwd=tmp_path)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    images = [Path(r["image"]).name for r in records]
    hashed = [r for r in records if "image_hash" in r]
    assert len(hashed) == len({r["image_hash"] for r in hashed})  # nothing done twice
    assert sorted(images) == [*sorted(EXPECTED), "g_locked.png"]  # the torn one done again
    assert "skipped" in result.stderr


def test_killed_batch_leaves_valid_json_lines_and_resumes(tmp_path: Path) -> None:
    d = tmp_path / "many"
    d.mkdir()
    count = 120
    for i in range(count):  # distinct blank pages: fast to fail, each its own hash
        cv2.imwrite(str(d / f"{i:03d}.png"), np.full((900 + i, 1200), 255, np.uint8))
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "scipix", "batch", str(d), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.read_text().count("\n") < 10):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = out.read_text().splitlines()
    assert 10 <= len(written) < count
    assert all(json.loads(line)["error_info"]["id"] == "image_no_content" for line in written)
    result = run("batch", str(d), "--out", str(out), "--resume", cwd=tmp_path)
    assert result.returncode == 1  # every image failed (blank), but the batch finished
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == count and len({r["image_hash"] for r in records}) == count
