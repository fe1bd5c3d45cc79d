"""Where the time of one call goes: named stages timed into the caller's own table.

``scipix bench --profile`` opens a table with :func:`collecting` around one recognition; code
on the way marks its parts with :func:`stage` (the recognizer: pre-processing of the crop, the
encoder, the beam search, the choice among hypotheses). Outside ``collecting`` a stage costs one
context-variable read. The table is per thread and per call (a ``ContextVar``): concurrent calls
never mix their stages.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_TABLE: ContextVar[dict[str, float] | None] = ContextVar("scipix_timing", default=None)


@contextmanager
def collecting() -> Iterator[dict[str, float]]:
    """A fresh table of milliseconds by stage name, filled by the stages run inside."""
    table: dict[str, float] = {}
    token = _TABLE.set(table)
    try:
        yield table
    finally:
        _TABLE.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the time spent inside to ``name`` in the current table (if one is collecting)."""
    table = _TABLE.get()
    if table is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        table[name] = table.get(name, 0.0) + (time.perf_counter() - start) * 1000.0


def record(name: str, ms: float) -> None:
    """Add ``ms`` to ``name`` in the current table (if one is collecting)."""
    table = _TABLE.get()
    if table is not None:
        table[name] = table.get(name, 0.0) + ms
