"""What replicates: one adapter per store, between the store and its pycrdt document.

Each adapter shows its store as a map from a stable key to a canonical JSON value (``snapshot``),
checks a value that came from elsewhere (``check``: a malformed one is a :class:`SyncError`),
and applies a value or a removal to the store. Keys are the same on every replica:

- ``corrections`` (the learning store's verdicts): BLAKE3 of what the correction says (scope,
  LaTeX, time, request, input hash, original); the image and its thumbnail travel base64. A
  correction deleted on one side is deleted on the other.
- ``trajectories`` (the calibration data: each recognition's raw confidence, n-best and chosen
  LaTeX, from which ``scipix learning calibrate`` fits): the request id and time. They only
  grow: a trajectory that one side dropped (its store is bounded) is not dropped elsewhere.
- ``calibration`` (the curve ``scipix learning calibrate`` fitted, ``<dir>/calibration.json``):
  the newest fit wins.
- ``memory`` (the memory store's entries, the result cache's index among them): the entry's
  ``uid``, merged by the store itself (:meth:`MemoryStore.merge`: the newer ``updated`` wins,
  deletions travel as tombstones).
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import blake3
import numpy as np

from scipix.errors import SyncError
from scipix.learning.calibration import Calibrator
from scipix.learning.store import Correction, LearningStore, Trajectory
from scipix.memory.entry import Entry
from scipix.memory.store import MemoryStore


def canonical(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse(
    name: str, key: str, value: object, fields: dict[str, type | tuple[type, ...]]
) -> dict[str, Any]:
    """``value`` as a JSON object with ``fields`` of the given types, or a SyncError."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except json.JSONDecodeError as exc:
        raise SyncError(f"{name} {key}: not JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise SyncError(f"{name} {key}: not a JSON object")
    for field, kind in fields.items():
        if not isinstance(data.get(field), kind):
            raise SyncError(f"{name} {key}: field {field!r} is missing or of the wrong type")
    return data


def b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def unb64(text: str | None) -> bytes | None:
    return base64.b64decode(text, validate=True) if text is not None else None


class Replica(Protocol):
    name: str
    deletes: bool  # a removal on one side removes on the other

    def snapshot(self) -> dict[str, str]: ...

    def check(self, key: str, value: object) -> None: ...

    def apply(self, key: str, value: str) -> None: ...

    def remove(self, key: str) -> None: ...

    def prefers(self, mine: str, theirs: str) -> bool: ...


OPTIONAL_STR = (str, type(None))
CORRECTION_FIELDS: dict[str, type | tuple[type, ...]] = {
    "scope": str,
    "latex": str,
    "created_at": (int, float),
    "request_id": OPTIONAL_STR,
    "input_hash": OPTIONAL_STR,
    "original_latex": OPTIONAL_STR,
    "image": OPTIONAL_STR,
    "thumb": OPTIONAL_STR,
}


class CorrectionReplica:
    name = "corrections"
    deletes = True

    def __init__(self, store: LearningStore) -> None:
        self.store = store

    @staticmethod
    def key_of(c: Correction) -> str:
        said = [c.scope, c.latex, c.created_at, c.request_id, c.input_hash, c.original_latex]
        return blake3.blake3(json.dumps(said).encode("utf-8")).hexdigest(length=16)

    def rows(self) -> dict[str, Correction]:
        return {self.key_of(c): c for c in self.store.corrections()}

    def snapshot(self) -> dict[str, str]:
        found = {}
        for key, c in self.rows().items():
            value = asdict(c)
            del value["id"]
            value["image"], value["thumb"] = b64(c.image), b64(c.thumb)
            found[key] = canonical(value)
        return found

    def check(self, key: str, value: object) -> None:
        data = parse(self.name, key, value, CORRECTION_FIELDS)
        try:
            unb64(data["image"]), unb64(data["thumb"])
        except ValueError as exc:
            raise SyncError(f"{self.name} {key}: image or thumb is not base64") from exc

    def apply(self, key: str, value: str) -> None:
        data = json.loads(value)
        data["image"], data["thumb"] = unb64(data["image"]), unb64(data["thumb"])
        self.store.add_correction(Correction(id=0, **data))

    def remove(self, key: str) -> None:
        c = self.rows().get(key)
        if c is not None:
            self.store.delete_correction(c.id)

    def prefers(self, mine: str, theirs: str) -> bool:
        return mine > theirs  # a correction never changes: any tie-break will do


TRAJECTORY_FIELDS: dict[str, type | tuple[type, ...]] = {
    "request_id": str,
    "scope": str,
    "input_hash": str,
    "model_version": str,
    "kind": OPTIONAL_STR,
    "strategy": str,
    "tried": list,
    "nbest": list,
    "chosen": str,
    "raw_confidence": (int, float),
    "confidence": (int, float),
    "latency_ms": (int, float),
    "source": str,
    "created_at": (int, float),
}


class TrajectoryReplica:
    name = "trajectories"
    deletes = False

    def __init__(self, store: LearningStore) -> None:
        self.store = store
        self._oldest: float | None = None

    def snapshot(self) -> dict[str, str]:
        rows = self.store.trajectories()
        full = len(rows) >= self.store.max_trajectories
        self._oldest = rows[0].created_at if rows and full else None
        return {f"{t.request_id}@{t.created_at!r}": canonical(asdict(t)) for t in rows}

    def check(self, key: str, value: object) -> None:
        data = parse(self.name, key, value, TRAJECTORY_FIELDS)
        if not all(isinstance(h, list) and len(h) == 5 for h in data["nbest"]):
            raise SyncError(f"{self.name} {key}: nbest must hold [latex, score, conf, rate, valid]")

    def apply(self, key: str, value: str) -> None:
        """Keep a trajectory from the other side, unless this store is full and it is older
        than all it holds (this store dropped it, or would drop it at once)."""
        data = json.loads(value)
        if self._oldest is not None and data["created_at"] < self._oldest:
            return
        data["tried"] = tuple(data["tried"])
        data["nbest"] = tuple(tuple(h) for h in data["nbest"])
        self.store.record(Trajectory(**data))

    def remove(self, key: str) -> None:
        """Never called (``deletes`` is False): each store bounds its own trajectories."""

    def prefers(self, mine: str, theirs: str) -> bool:
        return mine > theirs


MEMORY_FIELDS: dict[str, type | tuple[type, ...]] = {
    "uid": str,
    "kind": str,
    "scope": str,
    "key": OPTIONAL_STR,
    "payload": dict,
    "vector": OPTIONAL_STR,
    "created": (int, float),
    "updated": (int, float),
    "deleted": bool,
}


class MemoryReplica:
    name = "memory"
    deletes = False  # a deletion is a tombstone entry, which replicates like any entry

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def snapshot(self) -> dict[str, str]:
        found = {}
        for e in self.store.entries(tombstones=True):
            vector = None if e.vector is None else b64(np.asarray(e.vector, np.float32).tobytes())
            value = {
                "uid": e.uid,
                "kind": e.kind,
                "scope": e.scope,
                "key": e.key,
                "payload": e.payload,
                "vector": vector,
                "created": e.created,
                "updated": e.updated,
                "deleted": e.deleted,
            }
            found[e.uid] = canonical(value)
        return found

    def check(self, key: str, value: object) -> None:
        data = parse(self.name, key, value, MEMORY_FIELDS)
        if data["uid"] != key:
            raise SyncError(f"{self.name} {key}: its uid is {data['uid']!r}")
        try:
            raw = unb64(data["vector"])
        except ValueError as exc:
            raise SyncError(f"{self.name} {key}: the vector is not base64") from exc
        if raw is not None and len(raw) % 4:
            raise SyncError(f"{self.name} {key}: the vector is not float32")

    def apply(self, key: str, value: str) -> None:
        d = json.loads(value)
        raw = unb64(d["vector"])
        vector = None if raw is None else np.frombuffer(raw, dtype=np.float32).copy()
        fields = (d["uid"], d["kind"], d["scope"], d["key"], d["payload"], vector)
        self.store.merge(Entry(0, *fields, d["created"], d["updated"], d["deleted"], 0))

    def remove(self, key: str) -> None:
        """Never called (``deletes`` is False)."""

    def prefers(self, mine: str, theirs: str) -> bool:
        """The newer ``updated`` wins, then the payload text (as the store merges)."""
        a, b = json.loads(mine), json.loads(theirs)
        order_a = (a["updated"], json.dumps(a["payload"], sort_keys=True))
        return order_a > (b["updated"], json.dumps(b["payload"], sort_keys=True))


CALIBRATION_FIELDS: dict[str, type | tuple[type, ...]] = {
    "model_version": str,
    "xs": list,
    "ys": list,
    "accept_above": (int, float),
    "precision": (int, float),
    "fitted_on": dict,
    "fitted_at": (int, float),
}


class CalibrationReplica:
    """The calibration refitted here (``scipix learning calibrate``: one file, one model
    version): the newest fit wins on both sides."""

    name = "calibration"
    deletes = False
    KEY = "calibration"

    def __init__(self, path: Path) -> None:
        self.path = path

    def snapshot(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet (an unreadable one is the learning loop's to report)
        return {self.KEY: canonical(data)} if isinstance(data, dict) else {}

    def check(self, key: str, value: object) -> None:
        data = parse(self.name, key, value, CALIBRATION_FIELDS)
        if key != self.KEY or len(data["xs"]) != len(data["ys"]) or not data["xs"]:
            raise SyncError(f"{self.name} {key}: not a calibration curve")

    def apply(self, key: str, value: str) -> None:
        mine = self.snapshot().get(self.KEY)
        if mine is not None and not self.prefers(value, mine):
            return
        data = json.loads(value)
        Calibrator(
            data["model_version"],
            tuple(data["xs"]),
            tuple(data["ys"]),
            data["accept_above"],
            data["precision"],
            data["fitted_on"],
            data["fitted_at"],
        ).save(self.path)

    def remove(self, key: str) -> None:
        """Never called (``deletes`` is False)."""

    def prefers(self, mine: str, theirs: str) -> bool:
        a, b = json.loads(mine), json.loads(theirs)
        return (a["fitted_at"], mine) > (b["fitted_at"], theirs)
