"""One real recognition of the example formula, signed by this machine's worker key, shared by
the trust tests (the model loads once)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3
import pytest

from scipix.cli.ocr import image_record
from scipix.schema import Result
from scipix.settings import Settings
from scipix.trust.keys import Keyring, WorkerKey

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "quadratic.png"


@dataclass(frozen=True)
class Signed:
    settings: Settings
    key: WorkerKey
    keyring: Keyring
    result: Result
    record: dict[str, Any]
    image_hash: str


@pytest.fixture(scope="session")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    from scipix.service import Scipix
    from scipix.trust.worker import key_path, keyring_path

    data_dir = tmp_path_factory.mktemp("trust")
    settings = Settings(runtime={"data_dir": data_dir}, distributed={"attest": True})  # type: ignore[arg-type]
    data = EXAMPLE.read_bytes()
    with Scipix(settings) as service:
        result = service.recognize(data)
    digest = blake3.blake3(data).hexdigest()
    key = WorkerKey.load(key_path(settings))
    ring = Keyring.load(keyring_path(settings))
    record = image_record(str(EXAMPLE), digest, result)
    return Signed(settings, key, ring, result, record, digest)
