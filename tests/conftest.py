"""Isolation for every test: no SCIPIX_* variable from the developer's shell, and config, data
and cache directories (platformdirs' XDG locations) in a fresh temporary folder, so neither a
developer's own scipix.toml nor their caches can change a result. Folders may add their own
fixtures on top (the foundation tests also change the working directory)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scipix.settings import get_settings


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.upper().startswith("SCIPIX_"):
            monkeypatch.delenv(name)
    for var, folder in (
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_DATA_HOME", "xdg-data"),
        ("XDG_CACHE_HOME", "xdg-cache"),
    ):
        monkeypatch.setenv(var, str(tmp_path / folder))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
