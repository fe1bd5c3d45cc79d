"""This machine as a worker: its key and keyring paths (``distributed`` settings), and the
:class:`AttestAgent` that signs each result the pipeline produces."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from scipix.pipeline.job import Job
from scipix.settings import Settings
from scipix.trust.attestation import attest
from scipix.trust.keys import Keyring, WorkerKey


def key_path(settings: Settings) -> Path:
    """``distributed.worker_key``, default ``<data_dir>/trust/worker.key``."""
    path = settings.distributed.worker_key
    return path if path is not None else settings.runtime.data_dir / "trust" / "worker.key"


def keyring_path(settings: Settings) -> Path:
    """``distributed.keyring``, default ``<data_dir>/trust/keyring.json``."""
    path = settings.distributed.keyring
    return path if path is not None else settings.runtime.data_dir / "trust" / "keyring.json"


def own_key(settings: Settings) -> WorkerKey:
    """This worker's key, made on first use; a new key is added to the local keyring, so that
    this machine trusts what it signed itself (other machines add it with ``scipix trust add``)."""
    path = key_path(settings)
    created = not path.exists()
    key = WorkerKey.load_or_create(path)
    ring_path = keyring_path(settings)
    ring = Keyring.load(ring_path)
    if created or key.worker_id not in ring:
        ring.trust(key.public, "this machine")
        ring.save(ring_path)
    return key


class AttestAgent:
    """After Validate: sign the result (``Result.attestation``). The key is read on first use,
    in the process that runs the agent (on a Ray cluster: each worker's own key)."""

    name = "attest"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: WorkerKey | None = None
        self._lock = threading.Lock()

    def key(self) -> WorkerKey:
        with self._lock:
            if self._key is None:
                self._key = WorkerKey.load_or_create(self.path)
            return self._key

    def process(self, job: Job) -> Job:
        prep, result = job.prep, job.result
        if prep is not None and result is not None and result.error_info is None:
            result.attestation = attest(self.key(), prep.page.hash, result)
        return job

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}  # a key travels as its path: the receiver reads its own

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]
