"""The learning database keeps trajectories bounded and survives a reopen."""

from __future__ import annotations

from pathlib import Path

from scipix.learning.store import PRUNE_EVERY, Correction, LearningStore, Trajectory


def trajectory(i: int) -> Trajectory:
    return Trajectory(
        request_id=f"r{i}",
        scope="local",
        input_hash="0" * 64,
        model_version="m",
        kind="render",
        strategy="plain",
        tried=({"name": "wide_beam", "changed": False, "ms": 1.0},),
        nbest=(("x", -0.1, 0.9, 0.95, True),),
        chosen="x",
        raw_confidence=0.9,
        confidence=0.8,
        latency_ms=12.0,
    )


def test_trajectories_are_bounded_oldest_first(tmp_path: Path) -> None:
    store = LearningStore(tmp_path / "l.sqlite3", max_trajectories=50)
    for i in range(PRUNE_EVERY + 60):
        store.record(trajectory(i))
    kept = store.trajectories()
    assert len(kept) <= 50 + PRUNE_EVERY and kept[-1].request_id == f"r{PRUNE_EVERY + 59}"
    assert store.trajectory("r0") is None and store.trajectory("r300") is not None
    assert kept[-1].tried[0]["name"] == "wide_beam" and kept[-1].nbest[0][0] == "x"
    store.close()


def test_corrections_survive_a_reopen(tmp_path: Path) -> None:
    store = LearningStore(tmp_path / "l.sqlite3")
    made = store.add_correction(Correction(0, "key-a", "x^{2}", 0.0, input_hash="h"))
    store.close()
    again = LearningStore(tmp_path / "l.sqlite3")
    assert again.by_hash("key-a", "h") is not None and again.by_hash("key-b", "h") is None
    assert again.delete_correction(made) and again.count("corrections") == 0
    again.close()
