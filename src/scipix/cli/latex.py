"""``scipix latex check|normalize|convert``: the LaTeX core from the command line.

Each command reads one formula from its argument, or one formula per line from stdin (no
argument, or ``-``). A bad line never stops the others. ``--json`` prints one object per input
line, in order: ``{"input": ..., "output": ... or null, "error": null or {"id", "message",
"position"}}``. Exit codes: 0 all good; 1 some line of a batch failed; 2 the one formula given
as an argument failed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Annotated, Any

import typer

from scipix.cli.common import EXIT_FAILED, EXIT_USAGE, print_json
from scipix.errors import LatexError

latex_app = typer.Typer(
    help="Check, normalize and convert LaTeX formulas (argument or one per line on stdin).",
    no_args_is_help=True,
)

Formula = Annotated[
    str | None,
    typer.Argument(
        help="The formula; omit it (or give -) to read one formula per line from stdin."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object per input line.")]


class Target(StrEnum):
    mathml = "mathml"
    asciimath = "asciimath"
    html = "html"
    mmd = "mmd"
    latex = "latex"


def _inputs(formula: str | None) -> Iterator[str]:
    if formula is not None and formula != "-":
        yield formula
        return
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def _run(formula: str | None, as_json: bool, action: Callable[[str], str]) -> None:
    failures = 0
    single = formula is not None and formula != "-"
    for source in _inputs(formula):
        output: str | None = None
        error: dict[str, Any] | None = None
        try:
            output = action(source)
        except LatexError as exc:
            failures += 1
            issue = exc.detail.get("issue") or exc.error_id
            error = {"id": issue, "message": exc.message, "position": exc.position}
        if as_json:
            print_json({"input": source, "output": output, "error": error})
        elif error is None:
            sys.stdout.write(f"{output}\n")
        else:
            if not single:
                sys.stdout.write("\n")  # keep output lines aligned with input lines
            sys.stderr.write(f"error: {error['id']}: {error['message']}\n")
    sys.stdout.flush()
    if failures:
        raise typer.Exit(EXIT_USAGE if single else EXIT_FAILED)


@latex_app.command("check")
def check_command(formula: Formula = None, as_json: AsJson = False) -> None:
    """Validate: print "ok", or the first problem with its position (unknown commands too)."""
    from scipix.latex import check

    def action(source: str) -> str:
        check(source)
        return "ok"

    _run(formula, as_json, action)


@latex_app.command("normalize")
def normalize_command(
    formula: Formula = None,
    as_json: AsJson = False,
    labels: Annotated[
        bool, typer.Option("--labels", help="Also drop spacing/styles/labels, unify old fonts.")
    ] = False,
    tokens: Annotated[
        bool, typer.Option("--tokens", help="Print the model tokens, space-separated.")
    ] = False,
) -> None:
    """Print the canonical spelling (rendering unchanged unless --labels)."""
    from scipix.latex import NormalizeOptions, model_tokens, normalize

    options = NormalizeOptions.for_labels() if labels else None

    def action(source: str) -> str:
        if tokens:
            return " ".join(model_tokens(source, options))
        return normalize(source, options)

    _run(formula, as_json, action)


@latex_app.command("convert")
def convert_command(
    formula: Formula = None,
    to: Annotated[Target, typer.Option("--to", help="Output format.")] = Target.mathml,
    display: Annotated[
        bool, typer.Option("--display", help="Display (block) math instead of inline.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Convert to MathML, AsciiMath, HTML, Mathpix Markdown or canonical LaTeX."""
    from scipix import latex

    converters: dict[Target, Callable[[str], str]] = {
        Target.mathml: lambda s: latex.to_mathml(s, display=display),
        Target.asciimath: latex.to_asciimath,
        Target.html: lambda s: latex.to_html(s, display=display),
        Target.mmd: lambda s: latex.to_mmd(s, display=display),
        Target.latex: latex.normalize,
    }
    _run(formula, as_json, converters[to])
