"""Replicated state: two data directories edited while apart converge after `scipix sync`
(corrections, calibration trajectories, memory entries with the newer edit winning and
deletions travelling); syncing again changes nothing, the order of the two does not matter,
and a malformed sync file merges nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scipix.cli.app import main
from scipix.learning.calibration import Calibrator
from scipix.learning.store import Correction, LearningStore, Trajectory
from scipix.memory.store import MemoryStore
from scipix.trust.sync import sync_dirs


def correction(latex: str, when: float) -> Correction:
    return Correction(0, "local", latex, when, "req-" + latex, "hash-" + latex, None, b"png", None)


def trajectory(request: str, when: float) -> Trajectory:
    nbest = (("x", -0.1, 0.9, 0.95, True),)
    return Trajectory(
        request, "local", "h", "v1", "render", "plain", (), nbest, "x", 0.9, 0.9, 5.0, "model", when
    )


def edit(
    directory: Path, latex: str | None = None, request: str | None = None, memo: str | None = None
) -> None:
    learning = LearningStore.in_dir(directory)
    if latex is not None:
        learning.add_correction(correction(latex, 1000.0 + len(latex)))
    if request is not None:
        learning.record(trajectory(request, 2000.0 + len(request)))
    learning.close()
    if memo is not None:
        with MemoryStore.open(directory / "memory") as store:
            store.add("cache", np.ones(4, np.float32), {"latex": memo}, scope="local", key="img1")


def calibrate(directory: Path, fitted_at: float) -> None:
    curve = Calibrator("v1", (0.0, 1.0), (0.1, 0.9), 0.8, 0.95, {"readings": 10}, fitted_at)
    curve.save(directory / "calibration.json")


def state(directory: Path) -> dict[str, Any]:
    learning = LearningStore.in_dir(directory)
    corrections = sorted(c.latex for c in learning.corrections())
    trajectories = sorted(t.request_id for t in learning.trajectories())
    learning.close()
    with MemoryStore.open(directory / "memory") as store:
        memory = sorted(
            (e.uid, e.payload.get("latex"), e.deleted) for e in store.entries(tombstones=True)
        )
    curve = Calibrator.load(directory / "calibration.json", "v1")
    fitted = curve.fitted_at if curve is not None else None
    return {
        "corrections": corrections,
        "trajectories": trajectories,
        "memory": memory,
        "calibration": fitted,
    }


@pytest.fixture
def apart(tmp_path: Path) -> tuple[Path, Path]:
    """Two directories that synced once, then were edited apart."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    edit(a, latex="x^{2}", request="r1", memo="old")
    sync_dirs(a, b)
    edit(a, latex="\\alpha", memo="from a")  # A's memo edit comes first...
    edit(b, latex="y", request="r22", memo="from b")  # ...B's later edit wins
    calibrate(b, 200.0)  # the newest fit wins
    calibrate(a, 100.0)
    learning = LearningStore.in_dir(b)
    gone = [c for c in learning.corrections() if c.latex == "x^{2}"]
    learning.delete_correction(gone[0].id)  # deleted on B: deleted on A after the sync
    learning.close()
    return a, b


def test_two_replicas_edited_apart_converge(apart: tuple[Path, Path]) -> None:
    a, b = apart
    report = sync_dirs(a, b)
    assert state(a) == state(b)
    assert state(a)["corrections"] == ["\\alpha", "y"]
    assert state(a)["trajectories"] == ["r1", "r22"]
    assert [m[1] for m in state(a)["memory"]] == ["from b"]
    assert state(a)["calibration"] == 200.0
    assert report.applied["corrections"] == (2, 1)  # y in and x^{2} out of A; \alpha into B
    before = state(a)
    again = sync_dirs(b, a)  # idempotent: nothing changes
    assert all(n == (0, 0) for n in again.applied.values()) and state(a) == before


def test_the_order_of_the_two_does_not_matter(apart: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = apart
    a2, b2 = tmp_path / "a2", tmp_path / "b2"
    shutil.copytree(a, a2), shutil.copytree(b, b2)
    sync_dirs(a, b)
    sync_dirs(b2, a2)
    assert state(a) == state(b) == state(a2) == state(b2)


def test_a_malformed_sync_file_merges_nothing(
    apart: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = apart
    before = state(a), state(b)
    (b / "sync" / "corrections.ydoc").write_bytes(b"\x01\x02garbage")
    with pytest.raises(SystemExit) as done:
        main(["sync", str(a), str(b)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "sync_invalid" in err and "corrections.ydoc is not a sync document" in err
    assert (state(a), state(b)) == before


def test_scipix_sync_reports_what_moved(
    apart: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = apart
    with pytest.raises(SystemExit) as done:
        main(["sync", "--json", str(a), str(b)])
    assert done.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stores"]["trajectories"] == {"into_a": 1, "into_b": 0}


def test_an_entry_of_the_wrong_shape_merges_nothing(apart: tuple[Path, Path]) -> None:
    """A sync file that decodes but holds an entry its store cannot take (here: not JSON, under
    the key of a correction both sides have) is refused before anything is written."""
    from pycrdt import Doc, Map

    from scipix.errors import SyncError

    a, b = apart
    path = a / "sync" / "corrections.ydoc"
    doc: Doc[Map[str]] = Doc()
    doc.apply_update(path.read_bytes())
    entries: Map[str] = doc.get("corrections", type=Map)
    key = next(k for k in entries.keys() if "alpha" not in entries[k])  # noqa: SIM118
    entries[key] = "~ not json"  # sorts after any JSON object: the store's own does not win
    path.write_bytes(doc.get_update())
    before = state(a), state(b)
    with pytest.raises(SyncError, match="not JSON"):
        sync_dirs(a, b)
    assert (state(a), state(b)) == before
