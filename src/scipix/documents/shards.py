"""PDF pages sharded across a Ray cluster (``scipix pdf --engine ray``).

The document's bytes go to the object store once; each actor (one CPU, its own models, built
from the driver's settings by ``build``: ``scipix.service.Scipix``) opens the document itself
and reads the pages it is given with :func:`~scipix.documents.reader.read_page`, as the local
threads do. Pages come back as they are done (the caller orders them); at most ``2 x actors``
are out at once; the pages of an actor that dies are sent again (``max_retries`` times, then
the page fails as data, like any page that could not be read).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipix.documents.options import DocumentOptions
from scipix.documents.page import PageResult
from scipix.documents.reader import read_page
from scipix.documents.source import open_document
from scipix.errors import ScipixError
from scipix.pipeline.ray_runtime import connect, require_ray
from scipix.settings import Settings

log = logging.getLogger(__name__)

#: Makes a worker's service from the settings (``scipix.service.Scipix``; it travels by name).
ServiceFactory = Callable[[Settings], Any]


class PageWorker:
    """One actor: the document opened once, and a service to read its pages with."""

    def __init__(self, build: ServiceFactory, settings: Settings, data: bytes) -> None:
        settings = settings.model_copy(deep=True)
        settings.runtime.threads = settings.runtime.threads or 1  # one CPU per actor
        limits = settings.documents
        self.service = build(settings)
        self.doc = open_document(data, max_pages=limits.max_pages, max_bytes=limits.max_bytes)

    def read(self, index: int, options: DocumentOptions) -> PageResult:
        return read_page(self.doc, index, self.service, options)


@dataclass
class PageShards:
    """A pool of :class:`PageWorker` actors for one document; :meth:`close` stops them (and
    the local Ray when this started it)."""

    settings: Settings
    build: ServiceFactory
    data: bytes
    actors: int = 2
    address: str | None = None
    local_cpus: int = 2
    max_retries: int = 3
    pool: list[Any] = field(default_factory=list, init=False)
    retried: int = field(default=0, init=False)
    _started: bool = field(default=False, init=False)
    _data: Any = field(default=None, init=False, repr=False)  # kept: a restarted actor reads it

    def __post_init__(self) -> None:
        self._started = connect(self.address, self.local_cpus)
        ray = require_ray()
        cpus = int(float(ray.cluster_resources().get("CPU", 1.0)))
        remote = ray.remote(PageWorker).options(num_cpus=1, max_restarts=-1, max_task_retries=0)
        self._data = ray.put(self.data)
        size = max(1, min(self.actors, cpus))
        self.pool = [remote.remote(self.build, self.settings, self._data) for _ in range(size)]

    def read(self, indices: Sequence[int], options: DocumentOptions) -> Iterator[PageResult]:
        """The pages ``indices`` (0-based), each once, in the order they are done."""
        ray = require_ray()
        todo = iter(indices)
        turn = itertools.cycle(range(len(self.pool)))
        running: dict[Any, tuple[int, int, int]] = {}  # ref -> (index, actor, tries)
        while True:
            while len(running) < 2 * len(self.pool):
                index = next(todo, None)
                if index is None:
                    break
                actor = next(turn)
                running[self.pool[actor].read.remote(index, options)] = (index, actor, 1)
            if not running:
                return
            done, _ = ray.wait(list(running), num_returns=1)
            index, actor, tries = running.pop(done[0])
            try:
                page: PageResult = ray.get(done[0])
            except ray.exceptions.RayActorError as exc:
                if tries > self.max_retries:
                    error = ScipixError(f"page {index + 1}: its worker was lost {tries} times")
                    yield PageResult.failed(index + 1, error, options.dpi)
                    continue
                log.warning("page %d: its Ray worker died (%s); sending it again", index + 1, exc)
                self.retried += 1
                actor = (actor + 1) % len(self.pool)
                running[self.pool[actor].read.remote(index, options)] = (index, actor, tries + 1)
                continue
            except ray.exceptions.RayError as exc:  # the task itself failed: that page only
                log.error("page %d: its Ray task failed: %s", index + 1, exc)
                error = ScipixError(f"page {index + 1} could not be read on its Ray worker")
                page = PageResult.failed(index + 1, error, options.dpi)
            yield page

    def close(self) -> None:
        ray = require_ray()
        for actor in self.pool:
            ray.kill(actor)
        self.pool = []
        if self._started:
            ray.shutdown()
            self._started = False
