"""Fixtures for the foundation tests: an isolated home for config, data and cache."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scipix.settings import get_settings


@dataclass(frozen=True)
class Home:
    """Where platformdirs points during a test, and the working directory."""

    root: Path
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    cwd: Path

    @property
    def user_config(self) -> Path:
        return self.config_dir / "scipix" / "scipix.toml"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    """No SCIPIX_* variable, XDG dirs in tmp, a fresh working directory, no cached settings."""
    for name in list(os.environ):
        if name.upper().startswith("SCIPIX_"):
            monkeypatch.delenv(name)
    h = Home(
        root=tmp_path,
        config_dir=tmp_path / "xdg-config",
        data_dir=tmp_path / "xdg-data",
        cache_dir=tmp_path / "xdg-cache",
        cwd=tmp_path / "work",
    )
    h.cwd.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(h.config_dir))
    monkeypatch.setenv("XDG_DATA_HOME", str(h.data_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(h.cache_dir))
    monkeypatch.chdir(h.cwd)
    get_settings.cache_clear()
    yield h
    get_settings.cache_clear()


@dataclass(frozen=True)
class Run:
    """What a CLI run gave."""

    returncode: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``python -m scipix ARGS`` in a subprocess, with the test's environment and cwd."""

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Run:
        full_env = {**os.environ, **(env or {}), "NO_COLOR": "1", "COLUMNS": "200"}
        proc = subprocess.run(
            [sys.executable, "-m", "scipix", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=120,
            check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> Cli:
    return Cli()
