"""A worker process of ``scipix serve --workers N`` ends with the process that started it.

uvicorn's supervisor stops its workers on SIGTERM/SIGINT, but when the supervisor itself is
killed (SIGKILL, an OOM kill, a crashed parent shell) the workers would live on as orphans,
holding the port and the model's memory. On Linux the kernel sends the worker SIGTERM when its
parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread notices the parent is gone.
Either way the worker then shuts down as uvicorn does on SIGTERM.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
POLL_S = 1.0


def bind_to_parent() -> None:
    """Make this process receive SIGTERM once its parent is gone."""
    parent = os.getppid()
    if sys.platform.startswith("linux") and _set_parent_death_signal(signal.SIGTERM):
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)
        return
    watcher = threading.Thread(target=_watch, args=(parent,), name="scipix-lifeline", daemon=True)
    watcher.start()


def _set_parent_death_signal(signum: int) -> bool:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)
