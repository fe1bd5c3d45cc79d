"""``scipix train``: make the recognizer's training data (``data``) and train it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scipix.cli.common import print_json, state, stderr_console, stdout_console
from scipix.errors import InputError

if TYPE_CHECKING:
    from scipix.training.cache import RendererSpec

train_app = typer.Typer(
    help="Train the formula recognizer (resumable), export it, render its training data.",
    invoke_without_command=True,
)

RENDERER_CHOICES = ("tex", "tex-pdf", "mathtext")


def renderer_specs(names: str, fonts: str | None) -> tuple[RendererSpec, ...]:
    """``default`` (the cache's mix), or ``tex,tex-pdf,mathtext`` (weighted 0.55/0.15/0.3)
    with an optional font list (``tex-pdf``, the im2latex look, defaults to Computer Modern)."""
    from scipix.training.cache import DEFAULT_RENDERERS, RendererSpec

    if names == "default" and not fonts:
        return DEFAULT_RENDERERS
    if names == "default":
        names = ",".join(RENDERER_CHOICES)

    weights = {"tex": 0.55, "tex-pdf": 0.15, "mathtext": 0.3}
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in RENDERER_CHOICES]
    if unknown or not chosen:
        raise InputError(f"--renderers: choose from {', '.join(RENDERER_CHOICES)}")
    font_list = tuple(f.strip() for f in fonts.split(",")) if fonts else ()
    return tuple(
        RendererSpec(
            "mathtext" if name == "mathtext" else "tex",
            fonts=font_list or (("cm",) if name == "tex-pdf" else ()),
            weight=weights[name],
            engine="pdf" if name == "tex-pdf" else "dvi",
        )
        for name in chosen
    )


@train_app.command("data")
def data(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("--n", min=1, help="How many formulas to render.")] = 1000,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Cache directory (default: <cache_dir>/data)."),
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help="generator | corpus | mixed (half each).")
    ] = "mixed",
    data_root: Annotated[
        Path, typer.Option("--data-root", help="Folder with train/*.txt (for corpus, mixed).")
    ] = Path("../shared/data"),
    renderers: Annotated[
        str, typer.Option("--renderers", help="default, or a comma list of tex, tex-pdf, mathtext.")
    ] = "default",
    fonts: Annotated[
        str | None, typer.Option("--fonts", help="Comma list of fonts (default: all usable).")
    ] = None,
    copies: Annotated[int, typer.Option("--copies", min=1, help="Conditions per formula.")] = 1,
    jobs: Annotated[int, typer.Option("--jobs", min=0, help="Render processes.")] = 2,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    contact: Annotated[
        bool, typer.Option("--contact-sheet/--no-contact-sheet", help="Write contact.png.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Render N formulas into the sharded cache (resumable: a re-run adds what is missing)."""
    from scipix.training.cache import BuildReport, DatasetCache
    from scipix.training.contact import cache_contact_sheet
    from scipix.training.corpus import sample_formulas

    if source not in ("generator", "corpus", "mixed"):
        raise InputError("--source must be generator, corpus or mixed")
    if source != "generator" and not data_root.is_dir():
        raise InputError(f"no data folder {data_root}: pass --data-root, or --source generator")
    specs = renderer_specs(renderers, fonts)
    root = out if out is not None else state(ctx).settings().runtime.cache_dir / "data"
    formulas = sample_formulas(n, source, data_root, seed)
    err = stderr_console()

    def progress(report: BuildReport) -> None:
        if err.is_terminal:
            done = report.rendered + report.failed
            err.print(f"\r{done} rendered or failed, {report.rate:.1f}/s", end="")

    cache = DatasetCache(root)
    report = cache.build(
        formulas, specs, n_workers=jobs, copies=copies, seed=seed, progress=progress
    )
    if err.is_terminal:
        err.print()
    result = {"cache": str(root), "samples": len(cache), **report.to_dict()}
    if contact and len(cache):
        result["contact_sheet"] = str(cache_contact_sheet(cache, root / "contact.png", seed=seed))
    if as_json:
        print_json(result)
        return
    console = stdout_console()
    for key, value in result.items():
        console.print(f"{key}: {value}", markup=False)


@train_app.callback()
def train(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="Training config (TOML, flat keys).")
    ] = None,
    hours: Annotated[float, typer.Option("--hours", min=0.0, help="Wall-clock budget.")] = 1.0,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda.")] = "cpu",
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="Checkpoints and log (default runs/formula).")
    ] = None,
    data_root: Annotated[
        Path | None, typer.Option("--data-root", help="Folder holding train/ (../shared/data).")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume/--fresh",
            help="Continue run-dir's last.pt (else the shipped weights); --fresh starts anew.",
        ),
    ] = True,
    pairs: Annotated[
        list[Path] | None,
        typer.Option(
            "--pairs",
            help="A paired set to mix in (labels.tsv + images/, e.g. from `scipix learning "
            "export`); repeatable.",
        ),
    ] = None,
) -> None:
    """Train for --hours, resuming from the run's last checkpoint or the shipped weights.

    Stop early by creating RUN_DIR/STOP; every checkpoint is written atomically.
    """
    if ctx.invoked_subcommand is not None:
        return
    from scipix.recognition.recognizer import packaged_model_dir
    from scipix.training.config import load_train_config
    from scipix.training.recipe import run_training

    extra = {"pairs": tuple(pairs)} if pairs else {}
    cfg = load_train_config(config, run_dir=run_dir, data_root=data_root, **extra)
    if not resume and (cfg.run_dir / "last.pt").exists():
        raise InputError(
            f"{cfg.run_dir} already holds a checkpoint; choose another --run-dir for a fresh run"
        )
    console = stderr_console()
    scores = run_training(
        cfg,
        hours,
        shipped=packaged_model_dir() if resume else None,
        device=device,
        echo=lambda line: console.print(line, markup=False, highlight=False),
    )
    print_json({"run_dir": str(cfg.run_dir), "val": scores})


@train_app.command("export")
def export(
    checkpoint: Annotated[
        Path, typer.Option("--checkpoint", help="A training checkpoint (best.pt or last.pt).")
    ] = Path("runs/formula/best.pt"),
    out: Annotated[
        Path | None, typer.Option("--out", help="Model folder (default: the packaged weights).")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="Model version name.")] = None,
    int8: Annotated[
        bool,
        typer.Option(
            "--int8/--no-int8",
            help="Decoder matrix weights in int8 (faster beams; check the BLEU cost with "
            "benchmarks/beam_choice.py).",
        ),
    ] = True,
) -> None:
    """Export a checkpoint to encoder.onnx, decoder.onnx and formula.state.pt."""
    from scipix.recognition.recognizer import packaged_model_dir
    from scipix.training.export import export_model

    if not checkpoint.is_file():
        raise InputError(f"no checkpoint {checkpoint}")
    target = out or packaged_model_dir()
    extra = {"version": version} if version else None
    metadata = export_model(checkpoint, target, extra=extra, int8=int8)
    print_json({"out": str(target), "version": metadata["version"], "step": metadata["step"]})


@train_app.command("style")
def style(
    data_root: Annotated[
        Path, typer.Option("--data-root", help="Folder holding train/ (../shared/data).")
    ] = Path("../shared/data"),
    model: Annotated[
        Path | None, typer.Option("--model", help="Model folder (default: the packaged weights).")
    ] = None,
    per_set: Annotated[
        int, typer.Option("--per-set", min=20, help="Images per set and split.")
    ] = 600,
) -> None:
    """Fit the printed/handwritten probe (is_printed, is_handwritten) for the model; writes
    style.json next to it and prints its held-out accuracy. Run again after each export."""
    from scipix.recognition import FormulaRecognizer
    from scipix.training.style import fit_style_probe, write_style_probe

    if not (data_root / "train").is_dir():
        raise InputError(
            f"no {data_root / 'train'} (the folder with im2latex_val/, crohme/, hand/)"
        )
    recognizer = FormulaRecognizer.load(model)
    probe = fit_style_probe(recognizer, data_root, per_set, echo=stderr_console().print)
    path = write_style_probe(probe, recognizer.model_dir)
    print_json(
        {
            "out": str(path),
            "model_version": probe["model_version"],
            "train": probe["train"],
            "val": probe["val"],
        }
    )


@train_app.command("picture")
def picture(
    data_root: Annotated[
        Path, typer.Option("--data-root", help="Folder holding train/ (../shared/data).")
    ] = Path("../shared/data"),
    per_condition: Annotated[
        int, typer.Option("--per-condition", min=10, help="Pictures per condition to fit on.")
    ] = 150,
    check: Annotated[
        int, typer.Option("--check", min=10, help="Held-out pictures per condition to check on.")
    ] = 100,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: weights/picture.json).")
    ] = None,
) -> None:
    """Fit the picture-kind classifier (render, screenshot, paper, handwriting) on pictures the
    data engine makes from the train split; write it and print its confusion matrix on pictures
    made from held-out formulas (``check``)."""
    from scipix.imaging.picture import CLASSIFIER_FILE
    from scipix.training.classifier import train_picture_classifier

    if not (data_root / "train").is_dir():
        raise InputError(f"no {data_root / 'train'} (the folder with the corpora, crohme/, hand/)")
    report = train_picture_classifier(data_root, per_condition, check, stderr_console().print)
    path = out or CLASSIFIER_FILE
    report.write(path)
    print_json({"out": str(path), **report.summary()})
