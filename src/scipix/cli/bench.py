"""``scipix bench [--json] [--profile] [--images DIR]``: how fast this machine recognizes
formulas: latency p50/p95 per stage, images/s with 1 … N workers, peak memory, and the ratio of
the p50 to a 512x512 float32 matmul timed in the same run (``scipix.bench``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scipix.cli.common import print_json, state, stderr_console, stdout_console

if TYPE_CHECKING:
    from rich.table import Table


def bench(
    ctx: typer.Context,
    images: Annotated[
        Path | None,
        typer.Option("--images", help="A folder of images (default: the shipped formulas)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    profile: Annotated[
        bool, typer.Option("--profile", help="Time the stages' parts too (decode, encoder, …).")
    ] = False,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Calls per image.")] = 3,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Throughput up to N workers (0 = cores).")
    ] = 0,
    memory: Annotated[
        bool,
        typer.Option("--memory/--no-memory", help="Also time the result cache and learning."),
    ] = True,
) -> None:
    """Measure recognition speed on this machine (the result cache off, so every call reads)."""
    from scipix.bench import BenchConfig, bench_images, run_bench
    from scipix.cli.ocr import OutputFormat, options_for

    found = bench_images(images)
    if not as_json:
        stderr_console().print(f"timing {len(found)} images × {repeat} …")
    config = BenchConfig(repeat=repeat, workers=workers, profile=profile, memory=memory)
    report = run_bench(state(ctx).settings(), found, options_for(OutputFormat.latex), config)
    if as_json:
        print_json(report)
    else:
        print_report(report)


def stage_table(report: dict[str, Any]) -> Table:
    from rich.table import Table

    table = Table(title=f"Scipix.recognize, {report['calls']} calls (result cache off)")
    table.add_column("stage")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    for name, ms in report["stages_ms"].items():
        table.add_row(name, f"{ms['p50']:.1f}", f"{ms['p95']:.1f}")
    total = report["latency_ms"]
    table.add_row("[bold]total[/bold]", f"{total['p50']:.1f}", f"{total['p95']:.1f}")
    return table


def print_report(report: dict[str, Any]) -> None:
    console = stdout_console()
    console.print(
        f"model {report['model']} · {report['images']} images · {report['cores']} cores · "
        f"{report['threads']} threads · load average {report['load_average'][0]}"
    )
    console.print(stage_table(report))
    total, matmul = report["latency_ms"], report["matmul512_ms"]
    console.print(
        f"p50 {total['p50']:.1f} ms = {total['ratio_matmul512']}× a 512×512 float32 matmul "
        f"({matmul['p50']:.2f} ms in this run; {total['ratio_fastest_matmul512']}× the "
        f"fastest, {matmul['min']:.2f} ms); CPU time per call p50 "
        f"{report['cpu_ms']['p50']:.1f} ms"
    )
    for row in report["throughput"]:
        console.print(f"{row['workers']} worker(s): {row['images_per_s']:.1f} images/s")
    if "memory" in report:
        mem = report["memory"]
        console.print(
            f"memory and learning on: first call p50 {mem['miss_ms']['p50']:.1f} ms "
            f"(CPU {mem['miss_cpu_ms']['p50']:.1f} ms) "
            f"(learning stage {mem['learn_ms']['p50']:.1f} ms), "
            f"cached repeat p50 {mem['hit_ms']['p50']:.1f} ms"
        )
    if report.get("peak_rss_mb") is not None:
        console.print(f"peak RSS {report['peak_rss_mb']:.0f} MB")
