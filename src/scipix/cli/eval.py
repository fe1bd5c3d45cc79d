"""``scipix eval``: score the shipped recognizer (or a file of predictions) on labelled images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scipix.cli.common import print_json, state, stderr_console, stdout_console
from scipix.errors import InputError, ModelError

if TYPE_CHECKING:
    from scipix.training.evaluate import Prediction, RecognizerLike


def read_predictions(path: Path) -> dict[str, Prediction]:
    """JSON lines ``{"image": name, "latex": ...}`` (later lines win)."""
    from scipix.training.evaluate import Prediction

    found: dict[str, Prediction] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read predictions {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            found[str(record["image"])] = Prediction(str(record.get("latex") or ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f'{path}:{number}: expected {{"image": NAME, "latex": LATEX}} ({exc})'
            ) from exc
    return found


def load_recognizer(model_dir: Path | None) -> RecognizerLike:
    """The shipped formula recognizer (or the one in ``model_dir``); ModelError if none."""
    try:
        from scipix.recognition import FormulaRecognizer
    except ImportError as exc:
        raise ModelError(
            f"the formula recognizer is not available ({exc}); "
            "score a predictions file with --predictions instead"
        ) from exc
    recognizer: RecognizerLike = FormulaRecognizer.load(model_dir=model_dir)
    return recognizer


def eval_command(
    ctx: typer.Context,
    labels: Annotated[Path, typer.Argument(help="NAME<TAB>LATEX lines, one per image.")],
    images: Annotated[
        Path | None, typer.Option("--images", help="Image folder (default: images/ beside LABELS).")
    ] = None,
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", help='Score JSON lines {"image", "latex"}; no model run.'),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write the JSON report (with items).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N labels.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Parallel TeX renders.")] = 2,
    beam: Annotated[int | None, typer.Option("--beam", min=1, help="Beam width.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    render: Annotated[
        bool, typer.Option("--render/--no-render", help="Measure the rendered match (TeX).")
    ] = True,
    model_dir: Annotated[
        Path | None, typer.Option("--model-dir", help="A model other than the shipped one.")
    ] = None,
) -> None:
    """Exact match, BLEU-4, edit similarity and rendered match, by length and construct."""
    from scipix.training.evaluate import evaluate, read_labels, score

    if not labels.is_file():
        raise InputError(f"no labels file {labels}")
    pairs = read_labels(labels, images, limit)
    err = stderr_console()
    if predictions is not None:
        result = score(pairs, read_predictions(predictions), render_match=render, jobs=jobs)
    else:
        directory = model_dir or state(ctx).settings().ocr.model_dir
        recognizer = load_recognizer(directory)

        def progress(done: int, total: int) -> None:
            if err.is_terminal:
                err.print(f"\r{done}/{total} images", end="")

        result = evaluate(
            recognizer,
            pairs,
            beam_width=beam,
            batch_size=batch_size,
            render_match=render,
            jobs=jobs,
            progress=progress,
        )
        if err.is_terminal:
            err.print()
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(result.to_dict(items=True), ensure_ascii=False, indent=1))
    if as_json:
        print_json(result.to_dict())
    else:
        stdout_console().print(result.table(), markup=False)
