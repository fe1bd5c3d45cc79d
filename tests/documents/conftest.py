"""Fixtures for the documents tests: the real ``Scipix`` once per session, the test papers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scipix.service import Scipix
from scipix.settings import Settings

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scipix]:
    data_dir = tmp_path_factory.mktemp("documents-svc")
    settings = Settings(runtime={"data_dir": data_dir}, memory={"enabled": False})  # type: ignore[arg-type]
    found = Scipix(settings)
    yield found
    found.close()


def paper(name: str) -> bytes:
    return (DATA / name).read_bytes()
