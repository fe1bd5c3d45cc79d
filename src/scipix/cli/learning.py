"""``scipix correct IMAGE LATEX`` and ``scipix learning calibrate|rerank|export|stats``.

Corrections made here are in the local scope (``learning.scope = "key"``: they change what this
machine's CLI and Python API read, not what an API key of the server is told).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scipix.cli.common import print_json, state, stdout_console

learning_app = typer.Typer(
    help="The learning loop: calibration, export of corrections, statistics.",
    no_args_is_help=True,
)


def correct(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="The image whose reading was wrong.")],
    latex: Annotated[str, typer.Argument(help="What the image really shows (LaTeX).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the correction as JSON.")] = False,
) -> None:
    """Teach scipix what IMAGE shows: the same or a near-identical image is then read as LATEX.
    Invalid LaTeX is refused (math_syntax, exit code 2)."""
    from scipix.learning import checked_latex
    from scipix.service import Scipix

    checked_latex(latex)  # before the model loads
    with Scipix(state(ctx).settings()) as service:
        before = service.recognize(image)
        found = service.correct(latex, image, original=before.latex)
    body = {
        "correction_id": found.id,
        "scope": found.scope,
        "latex": found.latex,
        "original_latex": found.original_latex,
    }
    if as_json:
        print_json(body)
        return
    stdout_console().print(
        f"correction {found.id} kept: {found.original_latex!r} -> {found.latex!r}", markup=False
    )


@learning_app.command("calibrate")
def calibrate(
    ctx: typer.Context,
    min_verdicts: Annotated[
        int, typer.Option("--min-verdicts", min=10, help="Refuse to fit on fewer verdicts.")
    ] = 50,
) -> None:
    """Refit the confidence calibration from the verdicts kept here (corrections of served
    readings: right when the correction equals the reading) and write it to the data dir."""
    from scipix.learning.refit import refit_from_verdicts

    settings = state(ctx).settings()
    print_json(refit_from_verdicts(settings, min_verdicts))


@learning_app.command("rerank")
def rerank(
    ctx: typer.Context,
    min_verdicts: Annotated[
        int, typer.Option("--min-verdicts", min=1, help="Refuse to fit on fewer verdicts.")
    ] = 30,
) -> None:
    """Refit the learned n-best reranker from the corrections kept here (each image read and
    measured again; the shipped weights are the prior) and write it to the data dir."""
    from scipix.learning.refit import refit_reranker

    print_json(refit_reranker(state(ctx).settings(), min_verdicts))


@learning_app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for labels.tsv and images/.")],
    scope: Annotated[
        str | None, typer.Option("--scope", help="Only this scope's corrections (an app_id).")
    ] = None,
) -> None:
    """Write the corrections that carry an image as a paired set (labels.tsv + images/), which
    `scipix train --pairs OUT` mixes into training."""
    from scipix.learning.export import export_pairs
    from scipix.learning.store import LearningStore

    settings = state(ctx).settings()
    store = LearningStore.in_dir(settings.runtime.data_dir, settings.learning.max_trajectories)
    try:
        print_json(export_pairs(store, out, scope))
    finally:
        store.close()


@learning_app.command("stats")
def stats(ctx: typer.Context) -> None:
    """Trajectories and corrections kept, and what each strategy paid per kind of picture."""
    from scipix.learning.store import LearningStore
    from scipix.learning.strategies import StrategyStats

    settings = state(ctx).settings()
    store = LearningStore.in_dir(settings.runtime.data_dir, settings.learning.max_trajectories)
    try:
        trajectories = store.trajectories()
        learned = StrategyStats.learn((t.kind, t.tried) for t in trajectories)
        print_json(
            {
                "trajectories": len(trajectories),
                "corrections": store.count("corrections"),
                "answered_by_correction": sum(t.source == "correction" for t in trajectories),
                "strategies": learned.table(),
            }
        )
    finally:
        store.close()
