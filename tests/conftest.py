"""Isolation for every test: no SCIPIX_* variable from the developer's shell, and config, data
and cache directories (platformdirs' XDG locations) in a fresh temporary folder, so neither a
developer's own scipix.toml nor their caches can change a result. Folders may add their own
fixtures on top (the foundation tests also change the working directory)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


#: Debian's chromium, which the browser tests (``-m browser``) drive through Playwright.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for one test module (skipped where chromium or playwright is missing)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


#: Helper processes that live as long as the interpreter by design (multiprocessing's own).
_INTERPRETER_HELPERS = ("resource_tracker", "forkserver")


def _live_children(pid: int) -> dict[int, str]:
    """The live (not zombie) child processes of ``pid`` and their command lines (Linux)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = command.strip()
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite must leave no process behind (a server test once left two orphaned workers):
    any child still alive 15 s after the last test fails the run, and is named and stopped."""
    if not Path("/proc/self/stat").exists():
        return
    import signal
    import time

    deadline = time.monotonic() + 15
    while True:
        left = {
            pid: cmd
            for pid, cmd in _live_children(os.getpid()).items()
            if not any(helper in cmd for helper in _INTERPRETER_HELPERS)
        }
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not left:
        return
    for pid, command in left.items():
        print(f"\nprocess left running by the tests: {pid} {command[:200]}")
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
