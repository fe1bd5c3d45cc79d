"""Messages between agents, with their ownership explicit (reference capabilities).

- :class:`Owned` (iso): one holder at a time. ``send()`` moves the value into a new handle and
  kills the old one; any later use of the old handle raises :class:`MovedError`.
- :class:`Shared` (val): an immutable value, safe to read from any number of agents at once.
  Numpy arrays are made read-only; dataclasses must be frozen.
- :class:`Mutable` (ref): one mutable value shared by cooperating agents, used under its lock.
- :class:`Tag`: an opaque identity (a request id, a stored result id): compared, never opened.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")

_IMMUTABLE_SCALARS = (str, bytes, int, float, bool, complex, type(None), frozenset)


class MovedError(RuntimeError):
    """An :class:`Owned` handle was used after its value was sent (moved) elsewhere."""


class Owned(Generic[T]):
    """A value with exactly one live handle; ``send()`` transfers it (the old handle dies)."""

    __slots__ = ("_alive", "_lock", "_value")

    def __init__(self, value: T) -> None:
        self._value: T | None = value
        self._alive = True
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self._alive

    def _release(self) -> T:
        with self._lock:
            if not self._alive:
                raise MovedError("this value was already sent to another agent; use the new handle")
            value = self._value
            self._value = None
            self._alive = False
        return value  # type: ignore[return-value]

    def send(self) -> Owned[T]:
        """Move the value into a fresh handle for the receiver; this handle is dead afterwards."""
        return Owned(self._release())

    def take(self) -> T:
        """Consume the handle and return the value (the caller now owns it outright)."""
        return self._release()

    def peek(self) -> T:
        """Read the value without moving it (only the current holder may do this)."""
        if not self._alive:
            raise MovedError("this value was already sent to another agent; use the new handle")
        return self._value  # type: ignore[return-value]


def freeze(value: Any) -> Any:
    """``value`` made safe to share: arrays read-only, containers checked recursively."""
    if isinstance(value, np.ndarray):
        if value.flags.writeable:
            if value.base is not None:
                value = value.copy()
            value.flags.writeable = False
        return value
    if isinstance(value, _IMMUTABLE_SCALARS):
        return value
    if isinstance(value, tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, MappingProxyType):  # a read-only view: its values must be immutable
        for v in value.values():
            freeze(v)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(type(value), "__dataclass_params__", None)
        if params is None or not params.frozen:
            raise TypeError(f"{type(value).__name__} is a mutable dataclass: it cannot be Shared")
        for f in dataclasses.fields(value):
            frozen = freeze(getattr(value, f.name))
            object.__setattr__(value, f.name, frozen)
        return value
    raise TypeError(
        f"a {type(value).__name__} is mutable: share a tuple, a frozen dataclass or an array"
    )


class Shared(Generic[T]):
    """An immutable value any number of agents may read at once."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value: T = freeze(value)

    def get(self) -> T:
        return self.value


class Mutable(Generic[T]):
    """A mutable value shared by cooperating agents; touch it only inside ``with m.lock():``."""

    __slots__ = ("_lock", "_value")

    def __init__(self, value: T) -> None:
        self._value = value
        self._lock = threading.RLock()

    @contextmanager
    def lock(self) -> Iterator[T]:
        with self._lock:
            yield self._value


@dataclasses.dataclass(frozen=True)
class Tag:
    """An opaque identity: equal tags name the same thing; the id is not meant to be parsed."""

    id: str

    def __str__(self) -> str:
        return self.id
