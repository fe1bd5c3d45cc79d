"""Ownership of messages: Owned moves, Shared is immutable, Mutable is locked, Tag is opaque."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pytest

from scipix.pipeline import MovedError, Mutable, Owned, Shared, Tag


def test_owned_value_moves_and_the_old_handle_dies() -> None:
    first = Owned([1, 2, 3])
    second = first.send()
    assert not first.alive and second.alive
    with pytest.raises(MovedError):
        first.peek()
    with pytest.raises(MovedError):
        first.send()
    assert second.take() == [1, 2, 3]
    with pytest.raises(MovedError):
        second.take()


def test_owned_can_be_taken_once_across_threads() -> None:
    handle = Owned(object())
    wins: list[bool] = []

    def grab() -> None:
        try:
            handle.take()
            wins.append(True)
        except MovedError:
            wins.append(False)

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


@dataclass(frozen=True)
class Frozen:
    name: str
    pixels: np.ndarray


@dataclass
class Loose:
    name: str


def test_shared_makes_arrays_read_only() -> None:
    pixels = np.zeros((4, 4), dtype=np.uint8)
    shared = Shared(Frozen("a", pixels))
    with pytest.raises(ValueError):
        shared.get().pixels[0, 0] = 1
    view = np.zeros((4, 4))[1:]
    assert not Shared(view).get().flags.writeable


def test_shared_refuses_mutable_values() -> None:
    with pytest.raises(TypeError, match="mutable dataclass"):
        Shared(Loose("x"))
    with pytest.raises(TypeError, match="mutable"):
        Shared([1, 2])
    assert Shared((1, "a", 2.0)).get() == (1, "a", 2.0)


def test_mutable_serializes_updates() -> None:
    counter = Mutable({"n": 0})

    def bump() -> None:
        for _ in range(1000):
            with counter.lock() as value:
                value["n"] += 1

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with counter.lock() as value:
        assert value["n"] == 4000


def test_tags_compare_by_id() -> None:
    assert Tag("r1") == Tag("r1") and Tag("r1") != Tag("r2") and str(Tag("r1")) == "r1"
