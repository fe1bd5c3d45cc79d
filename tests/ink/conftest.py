"""Fixtures for the ink tests: the real ``Scipix`` once per session, apps on fresh databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scipix.server.app import create_app
from scipix.server.keys import KeyStore
from scipix.server.store import Database
from scipix.service import Scipix
from scipix.settings import Settings

DATA = Path(__file__).parent / "data"


def ink_settings(data_dir: Path, **ink: Any) -> Settings:
    return Settings(runtime={"data_dir": data_dir}, ink=ink)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scipix]:
    found = Scipix(ink_settings(tmp_path_factory.mktemp("ink-svc")))
    yield found
    found.close()


def new_headers(data_dir: Path) -> tuple[dict[str, str], str]:
    """``app_id``/``app_key`` headers of a fresh key, and the key alone."""
    db = Database.in_dir(data_dir)
    try:
        made = KeyStore(db).create("ink-test")
    finally:
        db.close()
    return {"app_id": made.key.app_id, "app_key": made.app_key}, made.app_key


@pytest.fixture
def api(tmp_path: Path, service: Scipix) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    """A client of an app with default ``[ink]`` limits, its key's headers and app_key."""
    data_dir = tmp_path / "data"
    headers, app_key = new_headers(data_dir)
    with TestClient(create_app(ink_settings(data_dir), service=service)) as client:
        yield client, headers, app_key
