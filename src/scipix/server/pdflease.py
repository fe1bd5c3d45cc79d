"""Who holds a PDF job's lease: ``host:pid:start`` of a server process, and whether that
process still runs (a holder on this host whose process is gone was killed: its documents are
taken over at once instead of when the lease runs out)."""

from __future__ import annotations

import os
import socket
import time


def worker_id() -> str:
    """``host:pid:start`` of this process: a lease's owner."""
    return f"{socket.gethostname()}:{os.getpid()}:{int(time.time() * 1000)}"


def owner_alive(owner: str | None) -> bool:
    """False only when the owner ran on this host and its process is gone (killed)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine's worker: trust its lease until it runs out
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
