"""Runtimes run the same agents: inline (one job, the caller's thread) or local (threads).

An :class:`Agent` turns a job into the same job further along (``process``). A runtime moves
jobs between agents as ``Owned`` envelopes, turns an agent's exception into an error envelope
that later agents pass through untouched (errors travel as data), and yields envelopes in input
order. :class:`Runtime` is the interface a cluster runtime (Ray: one actor pool per agent)
implements too.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from scipix import timing
from scipix.errors import ScipixError
from scipix.pipeline.job import Envelope, Job
from scipix.pipeline.message import Mutable, Owned, Tag

log = logging.getLogger("scipix.pipeline")


@dataclass
class StageStats:
    """What one agent did in a run: items done and failed, and milliseconds spent."""

    done: int = 0
    failed: int = 0
    ms: float = 0.0

    @property
    def mean_ms(self) -> float:
        n = self.done + self.failed
        return self.ms / n if n else 0.0


#: Per-agent statistics, shared by all the workers of a run (a ``Mutable``: updated under lock).
RunStats = Mutable[dict[str, StageStats]]


def new_stats() -> RunStats:
    return Mutable({})


def record(stats: RunStats | None, name: str, ms: float, failed: bool) -> None:
    if stats is None:
        return
    with stats.lock() as table:
        entry = table.setdefault(name, StageStats())
        entry.ms += ms
        if failed:
            entry.failed += 1
        else:
            entry.done += 1


class Agent(Protocol):
    """One pipeline stage. ``process`` must be thread-safe: a runtime may call it concurrently
    with different jobs (each job is owned by one call at a time)."""

    name: str

    def process(self, job: Job) -> Job: ...


class Runtime(Protocol):
    def run(
        self, agents: Sequence[Agent], jobs: Iterable[Job], stats: RunStats | None = None
    ) -> Iterator[Envelope]:
        """Every job through every agent; envelopes come back in input order; ``stats`` (if
        given) collects what each agent did."""
        ...

    def close(self) -> None: ...


def internal_error(agent: Agent, exc: Exception, tag: Tag) -> ScipixError:
    """The error a caller sees for a bug in a stage: a generic message with the stage and the
    request id (never the exception's text, which may hold internals); the exception itself is
    logged with the request id and kept as the error's ``__cause__``."""
    log.error("request %s: internal error in the %s stage", tag, agent.name, exc_info=exc)
    error = ScipixError(
        f"Internal error in the {agent.name} stage (request {tag})",
        stage=agent.name,
        request_id=str(tag),
    )
    error.__cause__ = exc
    return error


def step(agent: Agent, envelope: Envelope, stats: RunStats | None = None) -> Envelope:
    """Run one agent on one envelope; failures become error envelopes, never exceptions."""
    if envelope.error is not None or envelope.job is None:
        return envelope
    job = envelope.job.take()
    start = time.perf_counter()
    error: ScipixError | None = None
    try:
        job = agent.process(job)
    except ScipixError as exc:
        error = exc
    except Exception as exc:  # a bug in one item must not stop the batch
        error = internal_error(agent, exc, envelope.tag)
    ms = (time.perf_counter() - start) * 1000.0
    job.timings[agent.name] = ms
    timing.record(agent.name, ms)
    record(stats, agent.name, ms, error is not None)
    if error is not None:
        return Envelope(envelope.seq, envelope.tag, None, error, image_size(job))
    return Envelope(envelope.seq, envelope.tag, Owned(job))


def image_size(job: Job) -> tuple[int, int] | None:
    return job.image_size


def run_inline(agents: Sequence[Agent], job: Job) -> Job:
    """One job through the agents in the caller's thread; the first error is raised."""
    envelope = Envelope.of(job)
    for agent in agents:
        envelope = step(agent, envelope)
        if envelope.error is not None:
            raise envelope.error from envelope.error.__cause__
    assert envelope.job is not None  # invariant: no error means the job is still held
    return envelope.job.take()


_STOP = object()


class LocalRuntime:
    """Agents on threads (``workers`` per agent) joined by bounded queues.

    Back-pressure: at most ``max_in_flight`` jobs are between the input and the output at any
    time, so a slow consumer (or a slow first item) stops the reading of new input instead of
    filling memory. ONNX Runtime and OpenCV release the GIL, so threads give real parallelism.
    """

    def __init__(self, workers: int = 1, queue_size: int = 64) -> None:
        self.workers = max(1, workers)
        self.queue_size = max(1, queue_size)
        self.max_in_flight = max(self.queue_size, 2 * self.workers)

    def run(
        self, agents: Sequence[Agent], jobs: Iterable[Job], stats: RunStats | None = None
    ) -> Iterator[Envelope]:
        run = _LocalRun(agents, jobs, self.workers, self.queue_size, self.max_in_flight, stats)
        return run.results()

    def close(self) -> None:
        """Nothing is held between runs: each run's threads end with it."""


class _LocalRun:
    def __init__(
        self,
        agents: Sequence[Agent],
        jobs: Iterable[Job],
        workers: int,
        queue_size: int,
        max_in_flight: int,
        stats: RunStats | None,
    ) -> None:
        self.agents = list(agents)
        self.stats = stats
        self.jobs = jobs
        self.workers = workers
        self.queues: list[queue.Queue[object]] = [
            queue.Queue(queue_size) for _ in range(len(self.agents) + 1)
        ]
        self.slots = threading.Semaphore(max_in_flight)
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.feed_error: BaseException | None = None
        self.stopped = [0] * len(self.agents)
        self.stop_lock = threading.Lock()

    def start(self) -> None:
        feeder = threading.Thread(target=self.feed, name="scipix-feed", daemon=True)
        self.threads.append(feeder)
        for i, agent in enumerate(self.agents):
            for w in range(self.workers):
                name = f"scipix-{agent.name}-{w}"
                t = threading.Thread(target=self.work, args=(i, agent), name=name, daemon=True)
                self.threads.append(t)
        for t in self.threads:
            t.start()

    def put(self, q: queue.Queue[object], item: object) -> bool:
        while not self.stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def feed(self) -> None:
        try:
            for n, job in enumerate(self.jobs):  # the runtime numbers envelopes itself
                while not self.slots.acquire(timeout=0.1):
                    if self.stop.is_set():
                        return
                if not self.put(self.queues[0], Envelope(n, job.tag, Owned(job))):
                    return
        except BaseException as exc:  # the input iterator failed: report it after the rest
            self.feed_error = exc
        finally:
            for _ in range(self.workers if self.agents else 1):
                self.put(self.queues[0], _STOP)

    def work(self, index: int, agent: Agent) -> None:
        inbox, outbox = self.queues[index], self.queues[index + 1]
        while not self.stop.is_set():
            try:
                item = inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _STOP:
                if self.last_to_stop(index):
                    # every job has left this stage: tell each worker of the next one
                    downstream = self.workers if index + 1 < len(self.agents) else 1
                    for _ in range(downstream):
                        self.put(outbox, _STOP)
                return
            assert isinstance(item, Envelope)
            self.put(outbox, step(agent, item, self.stats))

    def last_to_stop(self, index: int) -> bool:
        with self.stop_lock:
            self.stopped[index] += 1
            return self.stopped[index] == self.workers

    def results(self) -> Iterator[Envelope]:
        self.start()
        pending: dict[int, Envelope] = {}
        expected = 0
        outbox = self.queues[-1]
        try:
            while True:
                item = outbox.get()
                if item is _STOP:
                    break
                assert isinstance(item, Envelope)
                pending[item.seq] = item
                while expected in pending:
                    self.slots.release()
                    yield pending.pop(expected)
                    expected += 1
            for seq in sorted(pending):  # only if input sequence numbers had gaps
                yield pending.pop(seq)
            if self.feed_error is not None:
                raise self.feed_error
        finally:
            self.stop.set()
