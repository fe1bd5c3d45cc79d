"""kill -9 during inserts: no committed entry is lost and the index loads (subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from scipix.memory import MemoryStore
from scipix.settings.model import MemorySettings

WRITER = """
import sys
import numpy as np
from pathlib import Path
from scipix.memory import MemoryStore
from scipix.settings.model import MemorySettings

store = MemoryStore.open(Path(sys.argv[1]), MemorySettings(persist_every=40))
rng = np.random.default_rng(int(sys.argv[2]))
i = 0
while True:
    vec = rng.normal(size=32).astype(np.float32)
    entry_id = store.add("v", vec, {"i": i}, scope="s", key=str(i % 500))
    print(entry_id, i, flush=True)  # committed: the parent may count on it
    i += 1
"""


def run_and_kill(directory: Path, seed: int, lines: int) -> list[tuple[int, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory), str(seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    committed: list[tuple[int, int]] = []
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        while len(committed) < lines and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            entry_id, i = line.split()
            committed.append((int(entry_id), int(i)))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    return committed


def test_kill_9_during_inserts_loses_nothing_committed(tmp_path: Path) -> None:
    directory = tmp_path / "memory"
    committed = run_and_kill(directory, seed=1, lines=300)
    assert len(committed) == 300
    committed += run_and_kill(directory, seed=2, lines=150)  # a second life, killed again
    with MemoryStore.open(directory, MemorySettings()) as store:
        latest: dict[int, int] = {}
        for entry_id, i in committed:
            latest[entry_id] = i
        for entry_id, i in latest.items():
            entry = store.get(entry_id)
            assert entry is not None, f"committed entry {entry_id} was lost"
            assert entry.payload["i"] >= i  # the last write or a later one (killed mid-print)
            hit = store.search("v", entry.vector, 1, scope="s")[0]
            assert hit.id == entry_id
        stats = store.stats()["kinds"]["v"]
        assert stats["indexed"] == stats["entries"] == store.count("v")
        assert np.isfinite(stats["entries"])
