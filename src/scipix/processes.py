"""External programs (TeX, pdftoppm, dvipng, Chromium) run with a time limit in a process group
of their own: on a time-out, and after the program ends, the whole group is killed, so no
helper it spawned (TeX's font makers, the browser's renderers) outlives the call."""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessResult:
    finished: bool
    returncode: int | None
    output: str


def run_process(
    command: list[str],
    cwd: Path,
    timeout_s: float,
    env: dict[str, str] | None = None,
    output: bool = True,
) -> ProcessResult:
    """Run ``command`` in ``cwd``; ``finished`` is False when it ran past ``timeout_s``.
    ``output``: collect stdout and stderr (off for programs whose helpers may hold the pipe
    open after the program itself has ended)."""
    stream = subprocess.PIPE if output else subprocess.DEVNULL
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stream,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout_s)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        _kill_group(proc.pid)
        if not finished:
            out, _ = proc.communicate()
    text = out.decode("utf-8", "replace") if out else ""
    return ProcessResult(finished, proc.returncode if finished else None, text)


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
