"""The Ray runtime: the same agents, on a pool of Ray actors (a local Ray or a cluster).

Each actor is one worker with its own models: it builds the pipeline from the driver's settings
(the agents travel as the settings that build them, never as pickled models) and runs a job
through every agent (``step``: errors become error envelopes, as in ``LocalRuntime``). A job goes
to the object store once (``ray.put``); the actor takes it from there, and the job it returns
comes back through the object store too: the ``Shared`` page and layout arrays are read-only, so
Ray hands them over without copying.

Like ``LocalRuntime``: envelopes come back in input order, at most ``max_in_flight`` jobs are
between the input and the output (back-pressure: the input is read only as results are taken),
and a failed item is an error envelope. An actor that dies (a node lost, a process killed) is
restarted by Ray; the items it held are sent again to the pool (at most ``max_retries`` times,
then they fail as data with ``sys_exception``), and every input yields exactly one envelope.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from scipix.errors import ClusterError, ScipixError
from scipix.pipeline.job import Envelope, Job
from scipix.pipeline.message import Owned, Tag
from scipix.pipeline.runtime import Agent, RunStats, new_stats, record, step
from scipix.settings import Settings

log = logging.getLogger("scipix.pipeline")

INSTALL = "pip install 'scipix[ray]'"
#: a TCP connect to the cluster's address must succeed within this many seconds
CONNECT_TIMEOUT_S = 3.0


def require_ray() -> ModuleType:
    """The ``ray`` module, or a :class:`ClusterError` with the command that installs it."""
    try:
        import ray
    except ImportError as exc:
        raise ClusterError(f"the Ray engine needs the [ray] extra: {INSTALL}") from exc
    return ray


def check_reachable(address: str) -> None:
    """Refuse quickly (rather than wait for Ray's own minute of retries) an address where
    nothing answers."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ClusterError(
            f"Ray address {address!r} is neither 'auto' nor HOST:PORT", value=address
        )
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClusterError(
            f"cannot reach the Ray cluster at {address}: {reason}; start one there "
            "(`ray start --head`), or leave the address unset for a local Ray",
            value=address,
        ) from exc


def connect(address: str | None, local_cpus: int) -> bool:
    """Join the cluster at ``address`` ('auto' or HOST:PORT), or start a local Ray with
    ``local_cpus`` CPUs when it is None. Returns whether this call started Ray (and so must
    stop it); an already initialized Ray is used as it is."""
    ray = require_ray()
    if address is not None and address != "auto":
        check_reachable(address)
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address is None:
        options["num_cpus"] = local_cpus
    else:
        options["address"] = address
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "this machine's Ray cluster ('auto')" if address == "auto" else address
        raise ClusterError(f"cannot join {where}: {exc}", value=address) from exc
    return True


@dataclass(frozen=True)
class Outcome:
    """An envelope as it travels back from an actor (``Owned`` handles stay in one process),
    with each agent's milliseconds for the run's statistics."""

    seq: int
    tag: Tag
    job: Job | None
    error: ScipixError | None
    image_size: tuple[int, int] | None
    timings: tuple[tuple[str, float, bool], ...]

    def envelope(self) -> Envelope:
        job = Owned(self.job) if self.job is not None else None
        return Envelope(self.seq, self.tag, job, self.error, self.image_size)


#: Builds a worker's pipeline from the settings (``scipix.service.pipeline_agents``): a
#: module-level function, so that it travels to the actors by name.
AgentFactory = Callable[[Settings], Sequence[Agent]]


class PipelineWorker:
    """One actor: the pipeline that ``build`` makes from ``settings``, with ``names``' agents
    in that order; its models use ``cpus`` threads (the CPUs Ray gave it) unless
    ``runtime.threads`` says otherwise."""

    def __init__(
        self, build: AgentFactory, settings: Settings, names: tuple[str, ...], cpus: float
    ) -> None:
        threads = settings.runtime.threads or max(1, int(cpus))
        settings = settings.model_copy(deep=True)
        settings.runtime.threads = threads
        by_name = {agent.name: agent for agent in build(settings)}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ClusterError(f"this worker's pipeline has no {', '.join(missing)} agent")
        self.agents: list[Agent] = [by_name[n] for n in names]

    def run(self, job: Job, seq: int) -> Outcome:
        stats = new_stats()
        envelope = Envelope(seq, job.tag, Owned(job))
        for agent in self.agents:
            envelope = step(agent, envelope, stats)
        with stats.lock() as table:
            timings = tuple((name, s.ms, s.failed > 0) for name, s in table.items())
        done = envelope.job.take() if envelope.job is not None else None
        return Outcome(
            envelope.seq, envelope.tag, done, envelope.error, envelope.image_size, timings
        )

    def pid(self) -> int:
        return os.getpid()


@dataclass
class _Pending:
    job_ref: Any
    seq: int
    tag: Tag
    actor: int
    tries: int = 1


@dataclass
class RayRuntime:
    """Agents on a pool of ``actors`` Ray actors, each with ``cpus_per_actor`` CPUs and its own
    models, built by ``build`` from ``settings``. ``address``: 'auto', HOST:PORT or None (a
    local Ray with ``local_cpus`` CPUs, started now and stopped by :meth:`close`)."""

    settings: Settings
    build: AgentFactory
    actors: int = 2
    address: str | None = None
    local_cpus: int = 2
    max_in_flight: int = 8
    max_retries: int = 3
    cpus_per_actor: float = 1.0
    pool: list[Any] = field(default_factory=list, init=False)
    retried: int = field(default=0, init=False)
    _started: bool = field(default=False, init=False)
    _names: tuple[str, ...] = field(default=(), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._started = connect(self.address, self.local_cpus)

    def start_pool(self, names: tuple[str, ...]) -> None:
        """Start the actors (once; a new list of agents restarts them)."""
        ray = require_ray()
        with self._lock:
            if self.pool and names == self._names:
                return
            self.kill_pool()
            cpus = float(ray.cluster_resources().get("CPU", 1.0))
            size = max(1, min(self.actors, int(cpus // self.cpus_per_actor)))
            remote = ray.remote(PipelineWorker).options(
                num_cpus=self.cpus_per_actor, max_restarts=-1, max_task_retries=0
            )
            self.pool = [
                remote.remote(self.build, self.settings, names, self.cpus_per_actor)
                for _ in range(size)
            ]
            self._names = names

    def run(
        self, agents: Sequence[Agent], jobs: Iterable[Job], stats: RunStats | None = None
    ) -> Iterator[Envelope]:
        self.start_pool(tuple(agent.name for agent in agents))
        return self._results(jobs, stats)

    def _results(self, jobs: Iterable[Job], stats: RunStats | None) -> Iterator[Envelope]:
        ray = require_ray()
        source = enumerate(jobs)
        turn = itertools.cycle(range(len(self.pool)))
        running: dict[Any, _Pending] = {}
        ready: dict[int, Envelope] = {}
        expected, exhausted = 0, False
        while True:
            while not exhausted and len(running) + len(ready) < self.max_in_flight:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                seq, job = item
                pending = _Pending(ray.put(job), seq, job.tag, next(turn))
                running[self._submit(pending)] = pending
            if not running and not ready:
                return
            if running:
                done, _ = ray.wait(list(running), num_returns=1)
                pending = running.pop(done[0])
                outcome = self._collect(done[0], pending, running)
                if outcome is not None:
                    self._record(outcome, stats)
                    ready[outcome.seq] = outcome.envelope()
            while expected in ready:
                yield ready.pop(expected)
                expected += 1
            if exhausted and not running:
                for seq in sorted(ready):  # only if sequence numbers had gaps
                    yield ready.pop(seq)
                return

    def _submit(self, pending: _Pending) -> Any:
        return self.pool[pending.actor].run.remote(pending.job_ref, pending.seq)

    def _collect(self, ref: Any, pending: _Pending, running: dict[Any, _Pending]) -> Outcome | None:
        """The item's outcome; None when it was sent again because its actor died."""
        ray = require_ray()
        try:
            outcome: Outcome = ray.get(ref)
            return outcome
        except ray.exceptions.RayActorError as exc:
            if pending.tries > self.max_retries:
                error = ScipixError(
                    f"the worker running request {pending.tag} was lost "
                    f"{pending.tries} times ({type(exc).__name__})",
                    request_id=str(pending.tag),
                )
                return Outcome(pending.seq, pending.tag, None, error, None, ())
            log.warning("request %s: its Ray worker died; sending it again", pending.tag)
            self.retried += 1
            others = [i for i in range(len(self.pool)) if i != pending.actor] or [pending.actor]
            pending.actor = others[pending.tries % len(others)]
            pending.tries += 1
            running[self._submit(pending)] = pending
            return None
        except ray.exceptions.RayError as exc:  # the task itself failed: that item only
            log.error("request %s: its Ray task failed: %s", pending.tag, exc)
            error = ScipixError(
                f"Internal error on a Ray worker (request {pending.tag})",
                request_id=str(pending.tag),
            )
            return Outcome(pending.seq, pending.tag, None, error, None, ())

    @staticmethod
    def _record(outcome: Outcome, stats: RunStats | None) -> None:
        for name, ms, failed in outcome.timings:
            record(stats, name, ms, failed)

    def kill_pool(self) -> None:
        if self.pool:
            ray = require_ray()
            for actor in self.pool:
                ray.kill(actor)
            self.pool = []

    def close(self) -> None:
        """Stop the actors, and the local Ray when this runtime started it."""
        with self._lock:
            self.kill_pool()
        if self._started:
            require_ray().shutdown()
            self._started = False
