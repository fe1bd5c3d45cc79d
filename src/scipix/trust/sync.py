"""``scipix sync DIR_A DIR_B``: two data directories merged both ways through pycrdt documents.

Each store of a data directory (:mod:`scipix.trust.replica`) has a Yjs document (pycrdt) in
``<dir>/sync/<store>.ydoc``: the map of its entries as of the last sync. A sync, per store:

1. brings each side's document up to date with its store (an entry the store no longer has
   was deleted there since the last sync; a changed entry is written when the store's is newer);
2. exchanges the two documents' missing updates (Yjs: the merge is commutative, associative and
   idempotent, so both documents end equal whatever the order);
3. applies to each store what the exchange changed in its document.

Steps 1-2 for every store come first and touch nothing on disk: a document that does not
decode, or an entry that is not what its store holds, is a :class:`SyncError` and nothing is
merged. A store may refuse an older entry (the memory keeps the newer one): the pass is run
again, at most :data:`MAX_PASSES` times, until nothing changes; syncing again changes nothing.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from pycrdt import Doc, Map

from scipix.errors import SyncError
from scipix.learning.calibration import CALIBRATION_FILE
from scipix.learning.store import LearningStore
from scipix.memory.store import MemoryStore
from scipix.settings.model import MemorySettings
from scipix.trust.replica import (
    CalibrationReplica,
    CorrectionReplica,
    MemoryReplica,
    Replica,
    TrajectoryReplica,
)

SYNC_DIR = "sync"
MAX_PASSES = 3


@dataclass
class Side:
    """One data directory's replica of one store, and its document."""

    replica: Replica
    path: Path
    doc: Doc[Map[str]] = field(default_factory=Doc)

    @property
    def entries(self) -> Map[str]:
        entries: Map[str] = self.doc.get(self.replica.name, type=Map)
        return entries

    def load(self) -> None:
        try:
            data = self.path.read_bytes() if self.path.exists() else b""
        except OSError as exc:
            raise SyncError(f"cannot read {self.path}: {exc.strerror}") from exc
        if data:
            try:
                self.doc.apply_update(data)
            except ValueError as exc:
                raise SyncError(f"{self.path} is not a sync document: {exc}") from exc

    def refresh(self) -> None:
        """Step 1: the document says what the store holds now."""
        snapshot, entries = self.replica.snapshot(), self.entries
        with self.doc.transaction():
            for key in [k for k in entries.keys() if k not in snapshot]:  # noqa: SIM118
                del entries[key]
            for key, value in snapshot.items():
                held = entries.get(key)
                if held is None or (held != value and self.replica.prefers(value, str(held))):
                    entries[key] = value

    def view(self) -> dict[str, object]:
        return dict(self.entries.items())

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_bytes(self.doc.get_update())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise SyncError(f"cannot write {self.path}: {exc.strerror}") from exc


@dataclass
class Plan:
    """What one store's exchange changed in one side's document: to apply to its store."""

    side: Side
    put: dict[str, str]
    removed: list[str]

    def apply(self) -> int:
        for key, value in self.put.items():
            self.side.replica.apply(key, value)
        if self.side.replica.deletes:
            for key in self.removed:
                self.side.replica.remove(key)
        return len(self.put) + (len(self.removed) if self.side.replica.deletes else 0)


def exchange(a: Side, b: Side) -> tuple[Plan, Plan]:
    """Steps 1-2 for one store: both documents refreshed and merged; each side's plan."""
    a.refresh()
    b.refresh()
    before_a, before_b = a.view(), b.view()
    to_b = a.doc.get_update(b.doc.get_state())
    to_a = b.doc.get_update(a.doc.get_state())
    b.doc.apply_update(to_b)
    a.doc.apply_update(to_a)
    return plan(a, before_a), plan(b, before_b)


def plan(side: Side, before: dict[str, object]) -> Plan:
    after = side.view()
    put: dict[str, str] = {}
    for key, value in after.items():
        if before.get(key) != value:
            side.replica.check(key, value)
            put[key] = str(value)
    removed = [key for key in before if key not in after]
    return Plan(side, put, removed)


@dataclass(frozen=True)
class SyncReport:
    """How many entries each store took from the other directory, per store."""

    applied: dict[str, tuple[int, int]]
    passes: int


def replicas(directory: Path, stack: ExitStack, memory: MemorySettings) -> list[Replica]:
    """The stores of a data directory (made when missing), closed with ``stack``."""
    learning = LearningStore.in_dir(directory)
    stack.callback(learning.close)
    store = MemoryStore.open(directory / "memory", memory)
    stack.callback(store.close)
    calibration = CalibrationReplica(directory / CALIBRATION_FILE)
    return [
        CorrectionReplica(learning),
        TrajectoryReplica(learning),
        calibration,
        MemoryReplica(store),
    ]


def sync_dirs(dir_a: Path, dir_b: Path, memory: MemorySettings | None = None) -> SyncReport:
    """Merge two data directories both ways (see the module docstring)."""
    for d in (dir_a, dir_b):
        if not d.is_dir():
            raise SyncError(f"{d} is not a directory", path=str(d))
    if dir_a.resolve() == dir_b.resolve():
        raise SyncError(f"{dir_a} and {dir_b} are the same directory")
    settings = memory if memory is not None else MemorySettings()
    applied: dict[str, tuple[int, int]] = {}
    with ExitStack() as stack:
        pairs = list(
            zip(replicas(dir_a, stack, settings), replicas(dir_b, stack, settings), strict=True)
        )
        passes = 0
        while passes < MAX_PASSES:
            passes += 1
            if not one_pass(dir_a, dir_b, pairs, applied):
                break
    return SyncReport(applied, passes)


def one_pass(
    dir_a: Path,
    dir_b: Path,
    pairs: list[tuple[Replica, Replica]],
    applied: dict[str, tuple[int, int]],
) -> int:
    """One pass over every store: all exchanged and checked first, then applied and saved."""
    sides, plans = [], []
    for ra, rb in pairs:
        a = Side(ra, dir_a / SYNC_DIR / f"{ra.name}.ydoc")
        b = Side(rb, dir_b / SYNC_DIR / f"{rb.name}.ydoc")
        a.load()
        b.load()
        plans.append(exchange(a, b))
        sides += [a, b]
    changed = 0
    for plan_a, plan_b in plans:
        n_a, n_b = plan_a.apply(), plan_b.apply()
        before = applied.get(plan_a.side.replica.name, (0, 0))
        applied[plan_a.side.replica.name] = (before[0] + n_a, before[1] + n_b)
        changed += n_a + n_b
    for side in sides:
        side.save()
    return changed
