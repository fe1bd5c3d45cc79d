"""``scipix memory search|patterns|stats``: what the memory (``scipix.memory``) holds.

The memory keeps every reading (its LaTeX and image embeddings) and the result cache, in
``memory.dir`` (default ``<runtime.data_dir>/memory``). ``--scope`` picks whose: ``local`` (the
CLI's and Python's own calls, the default), a server key's ``app_id``, or ``--all-scopes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from scipix.cli.common import print_json, state, stdout_console
from scipix.errors import InputError

if TYPE_CHECKING:
    from scipix.memory import MemoryStore
    from scipix.settings import Settings

memory_app = typer.Typer(
    help="Search the memory of readings, mine its frequent sub-expressions, see its size.",
    no_args_is_help=True,
)

Scope = Annotated[
    str, typer.Option("--scope", help="Whose memory: local (default) or a key's app_id.")
]
AllScopes = Annotated[bool, typer.Option("--all-scopes", help="Every scope at once.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _open(settings: Settings) -> MemoryStore:
    from scipix.memory import MemoryStore, memory_dir

    if not settings.memory.enabled:
        raise InputError("the memory is off (memory.enabled = false in the settings)")
    return MemoryStore.open(memory_dir(settings), settings.memory)


@memory_app.command("search")
def search(
    ctx: typer.Context,
    latex: Annotated[str | None, typer.Argument(help="A formula in LaTeX.")] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="Find readings of images like this one.")
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="How many to show.")] = 10,
    scope: Scope = "local",
    all_scopes: AllScopes = False,
    as_json: AsJson = False,
) -> None:
    """Find stored readings by formula (similar and equivalent ones) or by image."""
    from scipix.memory.search import search_formula, search_image

    if (latex is None) == (image is None):
        raise InputError("give a formula or --image FILE (one of the two)")
    settings = state(ctx).settings()
    where = None if all_scopes else scope
    with _open(settings) as store:
        if latex is not None:
            dim = settings.memory.latex_dim
            found = search_formula(store, latex, k, scope=where, dim=dim)
        else:
            from scipix.memory import image_embedding
            from scipix.service import Scipix

            assert image is not None
            with Scipix(settings) as sp:
                vector = image_embedding(sp, image)
            found = search_image(store, vector, k, scope=where)
    if as_json:
        print_json([f.to_json() for f in found])
        return
    out = stdout_console()
    if not found:
        out.print("nothing found")
    for f in found:
        out.print(f"{f.score:6.3f}  {f.match:8s}  {escape(f.latex)}")


@memory_app.command("patterns")
def patterns(
    ctx: typer.Context,
    min_support: Annotated[
        int, typer.Option("--min-support", min=2, help="Readings a pattern must be in.")
    ] = 2,
    top: Annotated[int, typer.Option("--top", min=1, help="How many to show.")] = 20,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest readings mined.")] = 5000,
    scope: Scope = "local",
    all_scopes: AllScopes = False,
    as_json: AsJson = False,
) -> None:
    """The sub-expressions that recur most across stored readings."""
    from scipix.memory.patterns import mine
    from scipix.memory.search import READING

    settings = state(ctx).settings()
    with _open(settings) as store:
        readings = [
            str(e.payload.get("latex", ""))
            for e in store.entries(READING)
            if all_scopes or e.scope == scope
        ][-limit:]
    found = mine(readings, min_support=min_support, top=top)
    if as_json:
        print_json({"readings": len(readings), "patterns": [p.to_json() for p in found]})
        return
    out = stdout_console()
    out.print(f"{len(readings)} readings")
    for p in found:
        out.print(f"{p.support:6d}  {escape(p.latex)}")


@memory_app.command("stats")
def stats(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Entries per kind and scope, vector sizes, the index settings and the size on disk."""
    from scipix.memory import memory_dir

    settings = state(ctx).settings()
    with _open(settings) as store:
        report = store.stats()
    directory = memory_dir(settings)
    report["directory"] = str(directory)
    report["bytes"] = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
    if as_json:
        print_json(report)
        return
    out = stdout_console()
    out.print(f"memory in {escape(str(directory))}: {report['bytes'] / 1e6:.1f} MB")
    out.print(f"index: {escape(str(report['index']))}")
    for kind, info in report["kinds"].items():
        scopes = ", ".join(f"{s}: {n}" for s, n in info["scopes"].items()) or "-"
        out.print(f"{kind:12s} {info['entries']:8d} x {info['dim']}-d   ({escape(scopes)})")
