"""``scipix batch DIR|GLOB --out results.jsonl``: many images, one JSON line each, resumable.

Each line has the shape of ``scipix ocr --format json`` (``image``, ``image_hash`` and the
Mathpix-shaped result, failures included with ``error``/``error_info``). Lines are written whole
and flushed one by one, so a killed batch leaves valid JSON lines (a torn last line, should the
kill land mid-write, is cut off on ``--resume``); ``--resume`` skips images whose BLAKE3 hash is
already in the file.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scipix.cli.common import EXIT_FAILED, EXIT_USAGE, state, stderr_console
from scipix.cli.engine import AddressOption, Engine, EngineOption, on_cluster
from scipix.cli.ocr import OutputFormat, image_record, options_for, read_input

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

    from scipix.pipeline.runtime import Runtime
    from scipix.schema import Result
    from scipix.settings import Settings

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"})


def find_images(target: str) -> list[str]:
    """Image files under a directory (recursively, by suffix), or the files a glob matches."""
    path = Path(target)
    if path.is_dir():
        found = [
            str(p)
            for p in sorted(path.rglob("*"))
            if p.suffix.lower() in IMAGE_SUFFIXES and (p.is_file() or p.is_symlink())
        ]
    else:
        found = sorted(glob.glob(target, recursive=True))
    return found


def done_hashes(out: Path) -> set[str]:
    """Hashes already in ``out``; a torn last line (a kill mid-write) is cut off."""
    if not out.exists():
        return set()
    data = out.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):
        with out.open("r+b") as fh:
            fh.truncate(keep)
    hashes = set()
    for line in data[:keep].splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        digest = record.get("image_hash") if isinstance(record, dict) else None
        if isinstance(digest, str):
            hashes.add(digest)
    return hashes


@dataclass
class Tally:
    done: int = 0
    skipped: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    confidences: list[float] = field(default_factory=list)
    stage_ms: dict[str, float] = field(default_factory=dict)
    #: how each image was cleaned: the strategy kept, and the second readings made and won
    strategies: Counter[str] = field(default_factory=Counter)
    second_readings: int = 0
    second_won: int = 0

    def add(self, result: Result) -> None:
        if result.error_info is not None:
            self.failed[result.error_info.id] += 1
            return
        self.done += 1
        if result.confidence is not None:
            self.confidences.append(result.confidence)
        report = result.preprocessing
        if report is not None:
            self.strategies[report.strategy] += 1
            if report.second_reading:
                from scipix.pipeline.strategy import FIRST

                self.second_readings += 1
                first = FIRST[report.kind] if report.kind is not None else "plain"
                self.second_won += report.strategy != first


def batch(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A directory of images or a glob ('scans/*.png').")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The JSON-lines file to write.")],
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Threads per pipeline stage.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip images already in --out (by BLAKE3 hash).")
    ] = False,
    engine: EngineOption = None,
    address: AddressOption = None,
    attest: Annotated[
        bool | None,
        typer.Option("--attest/--no-attest", help="Sign each result (distributed.attest)."),
    ] = None,
) -> None:
    """Recognize every image of a directory or glob into a JSON-lines file, with progress."""
    from scipix.service import Scipix

    images = find_images(target)
    if not images:
        stderr_console().print(f"error: no images found at {target}", style="red")
        raise typer.Exit(EXIT_USAGE)
    if out.exists() and not resume and out.stat().st_size > 0:
        stderr_console().print(f"error: {out} exists; use --resume to continue it", style="red")
        raise typer.Exit(EXIT_USAGE)
    skip = done_hashes(out) if resume else set()
    tally, pending = Tally(), []
    started = time.perf_counter()

    def sources() -> Iterator[bytes | str]:
        for name in images:
            data, digest = read_input(name)
            if digest is not None and digest in skip:
                tally.skipped += 1
                continue
            pending.append((name, digest))
            yield data

    from scipix.pipeline.runtime import new_stats

    stats = new_stats()
    settings = batch_settings(state(ctx).settings(), attest)
    runtime = open_runtime(settings, engine, address)
    with (
        Scipix(settings, workers=workers) as service,
        out.open("a", encoding="utf-8") as fh,
        contextlib.closing(runtime) if runtime is not None else contextlib.nullcontext(),
    ):
        opts = options_for(OutputFormat.json)
        results = service.recognize_many(sources(), opts, workers, stats, runtime)
        with progress_bar() as bar:
            task = bar.add_task("recognizing", total=len(images), processed=0)
            for i, result in enumerate(results):
                name, digest = pending[i]
                fh.write(json.dumps(image_record(name, digest, result), ensure_ascii=False) + "\n")
                fh.flush()
                tally.add(result)
                bar.update(task, completed=tally.skipped + i + 1, processed=i + 1)
            bar.update(task, completed=len(images))
        os.fsync(fh.fileno())
    with stats.lock() as stages:
        tally.stage_ms = {name: s.mean_ms for name, s in stages.items()}
    print_summary(tally, time.perf_counter() - started, out)
    if tally.failed:
        raise typer.Exit(EXIT_FAILED)


def batch_settings(settings: Settings, attest: bool | None) -> Settings:
    """The settings with the command line's ``--attest/--no-attest`` applied."""
    if attest is None or attest == settings.distributed.attest:
        return settings
    changed = settings.model_copy(deep=True)
    changed.distributed.attest = attest
    return changed


def open_runtime(settings: Settings, engine: Engine | None, address: str | None) -> Runtime | None:
    """The Ray runtime when the engine is ray; None: the local one (see ``cli/engine.py``)."""

    def start() -> Runtime:
        from scipix.pipeline.ray_runtime import RayRuntime
        from scipix.service import pipeline_agents

        dist = settings.distributed
        return RayRuntime(
            settings,
            pipeline_agents,
            actors=dist.actors,
            address=address if address is not None else dist.address,
            local_cpus=dist.local_cpus,
            max_in_flight=2 * dist.actors,  # one item running and one waiting per actor
            max_retries=dist.max_retries,
        )

    return on_cluster(settings, engine, start)


def progress_bar() -> Progress:
    """A progress bar on stderr: done/total, percent, images per second, elapsed, ETA."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    rate, eta = run_rate_columns()
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        rate,
        TimeElapsedColumn(),
        eta,
        console=stderr_console(),
    )


def run_rate(processed: int, seconds: float | None) -> float | None:
    """Images recognized by this run per second of this run; None before the first one (an
    image skipped by --resume is not recognized, so it does not count)."""
    if not processed or not seconds or seconds <= 0:
        return None
    return processed / seconds


def run_rate_columns() -> tuple[ProgressColumn, ProgressColumn]:
    """The rate and ETA columns, from the task's ``processed`` field over its elapsed time (rich's
    own speed would count the skipped images as done in no time)."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    def rate_of(task: Task) -> float | None:
        return run_rate(int(task.fields.get("processed", 0)), task.elapsed)

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            rate = rate_of(task)
            return Text("-- img/s" if rate is None else f"{rate:.1f} img/s", style="cyan")

    class EtaColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            rate, left = rate_of(task), (task.total or 0) - task.completed
            if left <= 0:
                return Text("ETA 0:00:00", style="progress.remaining")
            if rate is None:
                return Text("ETA -:--:--", style="progress.remaining")
            seconds = int(left / rate)
            text = f"ETA {seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            return Text(text, style="progress.remaining")

    return RateColumn(), EtaColumn()


def print_summary(tally: Tally, seconds: float, out: Path) -> None:
    """The table at the end: done, failed by error id, mean confidence, time."""
    from rich.table import Table

    table = Table(title=f"scipix batch → {out}", show_header=True, header_style="bold")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    table.add_row("done", str(tally.done))
    for error_id, count in sorted(tally.failed.items()):
        table.add_row(f"failed: {error_id}", f"[red]{count}[/red]")
    if tally.skipped:
        table.add_row("skipped (already in the file)", str(tally.skipped))
    mean = sum(tally.confidences) / len(tally.confidences) if tally.confidences else None
    table.add_row("mean confidence", "-" if mean is None else f"{mean:.3f}")
    for strategy, count in tally.strategies.most_common():
        table.add_row(f"cleaning kept: {strategy}", str(count))
    if tally.second_readings:
        won = f"{tally.second_readings} ({tally.second_won} won)"
        table.add_row("second readings", won)
    table.add_row("time", f"{seconds:.1f} s")
    for stage, ms in tally.stage_ms.items():
        table.add_row(f"  {stage} (mean per image)", f"{ms:.1f} ms")
    processed = tally.done + sum(tally.failed.values())
    rate = run_rate(processed, seconds)
    shown = "-" if rate is None else f"{rate:.2f} img/s"
    table.add_row("rate (this run)", f"{shown} ({processed} recognized)")
    stderr_console().print(table)
