"""``scipix ocr FILE... [-]``: recognize images (or InkML pen strokes, ``*.inkml``) and print
LaTeX, MathML, AsciiMath, MMD, HTML or Mathpix-shaped JSON (one line per image, with
``"image"``: the path given)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scipix.cli.common import EXIT_FAILED, EXIT_USAGE, one_line, print_json, state, stdout_console

if TYPE_CHECKING:
    from scipix.schema import RecognizeOptions, Result
    from scipix.service import Scipix


class OutputFormat(StrEnum):
    latex = "latex"
    mathml = "mathml"
    asciimath = "asciimath"
    mmd = "mmd"
    html = "html"
    json = "json"


def options_for(fmt: OutputFormat, line_data: bool = False) -> RecognizeOptions:
    """The recognition options that produce what ``fmt`` prints."""
    from scipix.schema import DataOptions, RecognizeOptions

    formats: tuple[str, ...] = ("text",)
    data = DataOptions()
    if fmt in (OutputFormat.latex, OutputFormat.json):
        formats = ("text", "latex_styled")
    if fmt == OutputFormat.html:
        formats = ("text", "html")
    if fmt == OutputFormat.json:
        data = DataOptions(include_latex=True, include_mathml=True, include_asciimath=True)
    elif fmt in (OutputFormat.latex, OutputFormat.mathml, OutputFormat.asciimath):
        data = DataOptions(**{f"include_{fmt.value}": True})
        line_data = True  # to tell a page with prose (printed whole, as MMD) from formulas
    return RecognizeOptions(formats=formats, data_options=data, include_line_data=line_data)


def rendering(result: Result, fmt: OutputFormat) -> str:
    """What ``scipix ocr --format fmt`` prints for one successful result."""
    if fmt == OutputFormat.mmd:
        return result.text or ""
    if fmt == OutputFormat.html:
        return result.html or ""
    if fmt == OutputFormat.latex and result.latex_styled is not None:
        return result.latex_styled
    if any(line.type == "text" for line in result.line_data or ()):
        return result.text or ""  # prose and formulas: the math alone would lose the prose
    values = [d.value for d in result.data or () if d.type == fmt.value]
    return "\n".join(values) if values else (result.text or "")


def image_record(image: str, digest: str | None, result: Result) -> dict[str, Any]:
    """One JSON line of ``ocr --format json`` and ``batch``: the path, its hash, the result."""
    record: dict[str, Any] = {"image": image}
    if digest is not None:
        record["image_hash"] = digest
    record.update(result.to_mathpix())
    return record


def read_input(name: str) -> tuple[bytes | str, str | None]:
    """The bytes of a file (or stdin for ``-``) and their BLAKE3 hash; on a read error the path
    itself, so that recognition reports the error for that image."""
    import blake3

    if name == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(name).read_bytes()
        except OSError:
            return name, None
    return data, blake3.blake3(data).hexdigest()


def is_inkml(name: str) -> bool:
    """Pen strokes (W3C InkML, as CROHME writes them) rather than an image."""
    return name.lower().endswith(".inkml")


def ink_result(service: Scipix, name: str, options: RecognizeOptions) -> Result:
    """An InkML file's strokes recognized (within the ``[ink]`` limits), or its error."""
    from scipix.errors import ScipixError
    from scipix.ink import InkLimits, read_inkml
    from scipix.schema import Result, new_request_id

    try:
        document = read_inkml(Path(name), InkLimits.from_settings(service.settings.ink))
        return service.recognize_ink(document.ink, options)
    except ScipixError as error:
        return Result.from_error(error, new_request_id())


def ocr(
    ctx: typer.Context,
    files: Annotated[
        list[str],
        typer.Argument(help="Image or InkML (.inkml) files; '-' reads one image from stdin."),
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="What to print.", case_sensitive=False)
    ] = OutputFormat.latex,
    line_data: Annotated[
        bool, typer.Option("--line-data", help="With --format json: add line_data.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Threads per pipeline stage.")
    ] = None,
) -> None:
    """Recognize images of mathematics (screenshots, scans, photos) and print the result."""
    from scipix.service import Scipix

    if files.count("-") > 1:
        stdout_console().print("error: '-' (stdin) may be given only once", style="red")
        raise typer.Exit(EXIT_USAGE)
    digests: dict[int, str | None] = {}

    def sources() -> Iterator[bytes | str]:
        for i, name in enumerate(files):
            if not is_inkml(name):
                data, digests[i] = read_input(name)
                yield data

    failed: list[str] = []
    options = options_for(fmt, line_data)
    with Scipix(state(ctx).settings(), workers=workers) as service:
        images = iter(service.recognize_many(sources(), options, workers))
        for i, name in enumerate(files):
            ink = is_inkml(name)
            result = ink_result(service, name, options) if ink else next(images)
            digest = read_input(name)[1] if ink else digests.get(i)
            if report(name, digest, result, fmt, many=len(files) > 1):
                failed.append(result.error_info.id if result.error_info else "sys_exception")
    if failed:
        raise typer.Exit(failure_exit_code(failed))


def failure_exit_code(error_ids: list[str]) -> int:
    """2 when every failure is bad input (a missing file, not an image, no content: the
    :class:`~scipix.errors.InputError` ids), else 1 (recognition itself failed)."""
    from scipix.errors import InputError, error_classes

    bad_input = {cls.error_id for cls in error_classes() if issubclass(cls, InputError)}
    return EXIT_USAGE if all(i in bad_input for i in error_ids) else EXIT_FAILED


def report(name: str, digest: str | None, result: Result, fmt: OutputFormat, many: bool) -> int:
    """Print one result (errors, and warnings such as LaTeX that is not valid, also on stderr);
    1 if it failed."""
    if result.error_info is not None or result.warnings:
        print_problems(name, result)
    if fmt == OutputFormat.json:
        print_json(image_record(name, digest, result))
    elif result.error_info is None:
        if many:
            sys.stdout.write(f"==> {name} <==\n")
        sys.stdout.write(rendering(result, fmt) + "\n")
        sys.stdout.flush()
    return 0 if result.error_info is None else 1


def print_problems(name: str, result: Result) -> None:
    """The error and warnings of one result, on stderr (rich imported only then)."""
    from rich.markup import escape

    from scipix.cli.common import stderr_console

    if result.error_info is not None:
        message = escape(one_line(result.error_info.message))
        stderr_console().print(
            f"[red]error[/red]: {escape(name)}: {result.error_info.id}: {message}"
        )
    for warning in result.warnings or ():
        message = escape(one_line(warning.message))
        stderr_console().print(f"[yellow]warning[/yellow]: {escape(name)}: {warning.id}: {message}")
