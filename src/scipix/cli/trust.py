"""``scipix verify FILE.jsonl...`` and ``scipix trust show|add|list``: signed results.

``verify`` checks every line's attestation (``scipix batch --attest``) against the keyring and
names what is wrong with each refused line; with ``--quorum`` it reads the files of n = 3f+1
workers that read the same images and accepts an image's LaTeX when 2f+1 of them agree.
Exit codes: 0 every line (or image) accepted, 1 some refused (or flagged), 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from scipix.cli.common import EXIT_FAILED, print_json, state, stdout_console
from scipix.errors import InputError

if TYPE_CHECKING:
    from scipix.trust.attestation import Check

trust_app = typer.Typer(help="This worker's signing key and the keyring of trusted workers.")


def read_records(path: Path) -> list[tuple[int, Any]]:
    """(line number, parsed JSON or None when the line is not JSON) for each non-empty line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}", path=str(path)) from exc
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append((number, json.loads(line)))
        except json.JSONDecodeError:
            found.append((number, None))
    return found


def file_check(record: Any, image_file: bool) -> str | None:
    """With ``--images``: whether the image file itself still has the signed hash."""
    if not image_file or not isinstance(record, dict) or not isinstance(record.get("image"), str):
        return None
    import blake3

    try:
        data = Path(record["image"]).read_bytes()
    except OSError as exc:
        return f"image file unreadable: {exc.strerror}"
    if blake3.blake3(data).hexdigest() != record.get("image_hash"):
        return "image file changed: its BLAKE3 hash is not the signed one"
    return None


def verify(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="JSON-lines results (scipix batch).")],
    quorum: Annotated[
        bool,
        typer.Option("--quorum", help="The files are n = 3f+1 workers' results: vote per image."),
    ] = False,
    faulty: Annotated[
        int | None,
        typer.Option("--f", min=0, help="Byzantine workers tolerated (distributed.quorum_f)."),
    ] = None,
    images: Annotated[
        bool, typer.Option("--images", help="Also hash each image file named by its line.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON report on stdout.")] = False,
) -> None:
    """Check the attestations of results: tampered LaTeX, a swapped image hash, an unknown key,
    a forged signature or a replay are refused, each with its reason."""
    from scipix.trust.attestation import ReplayGuard, check_record
    from scipix.trust.keys import Keyring
    from scipix.trust.worker import keyring_path

    settings = state(ctx).settings()
    keyring = Keyring.load(keyring_path(settings))
    records = {path: read_records(path) for path in files}
    if quorum:
        f = faulty if faulty is not None else settings.distributed.quorum_f
        vote_on(records, keyring, f, as_json)
        return
    guard, report, refused = ReplayGuard(), [], 0
    for path, lines in records.items():
        for number, record in lines:
            check = check_record(record, keyring, guard, number) if record is not None else None
            reason = "not a JSON line" if check is None else check.reason
            reason = reason or file_check(record, images)
            refused += reason is not None
            report.append(line_report(path, number, reason, check))
    show(report, refused, as_json)
    if refused:
        raise typer.Exit(EXIT_FAILED)


def line_report(path: Path, number: int, reason: str | None, check: Check | None) -> dict[str, Any]:
    worker = check.worker if check is not None else None
    return {
        "file": str(path),
        "line": number,
        "ok": reason is None,
        "worker": worker,
        "reason": reason,
    }


def show(report: list[dict[str, Any]], refused: int, as_json: bool) -> None:
    if as_json:
        print_json({"checked": len(report), "refused": refused, "lines": report})
        return
    out = stdout_console()
    for entry in report:
        where = f"{entry['file']}:{entry['line']}"
        if entry["ok"]:
            out.print(f"{escape(where)}: ok ({entry['worker']})")
        else:
            out.print(f"{escape(where)}: [red]refused[/red]: {escape(entry['reason'])}")
    out.print(f"{len(report) - refused} of {len(report)} lines verified, {refused} refused")


def vote_on(
    records: dict[Path, list[tuple[int, Any]]], keyring: Any, f: int, as_json: bool
) -> None:
    """One quorum decision per image hash over the files' attested records."""
    from scipix.trust.quorum import QuorumVote, votes_from_records

    by_image: dict[str, list[dict[str, Any]]] = {}
    for lines in records.values():
        for _, record in lines:
            if isinstance(record, dict) and isinstance(record.get("image_hash"), str):
                by_image.setdefault(record["image_hash"], []).append(record)
    vote, flagged, report = QuorumVote(f), 0, []
    for image_hash, group in by_image.items():
        ballot = votes_from_records(group, keyring)
        decision = vote.decide(ballot.votes)
        flagged += not decision.accepted
        report.append(
            {
                "image_hash": image_hash,
                "image": group[0].get("image"),
                "accepted": decision.accepted,
                "latex": decision.latex,
                "agreed": list(decision.agreed),
                "dissent": list(decision.dissent),
                "refused": [{"worker": w, "reason": r} for w, r in ballot.refused],
                "reason": decision.reason,
            }
        )
    show_votes(report, flagged, as_json)
    if flagged:
        raise typer.Exit(EXIT_FAILED)


def show_votes(report: list[dict[str, Any]], flagged: int, as_json: bool) -> None:
    if as_json:
        print_json({"images": len(report), "flagged": flagged, "decisions": report})
        return
    out = stdout_console()
    for entry in report:
        name = escape(str(entry["image"] or entry["image_hash"]))
        if entry["accepted"]:
            out.print(f"{name}: accepted {escape(entry['latex'] or '')}")
        else:
            out.print(f"{name}: [red]flagged[/red]: {escape(entry['reason'])}")
        out.print(f"  agreed: {', '.join(entry['agreed']) or '-'}")
        if entry["dissent"]:
            out.print(f"  dissent: {', '.join(entry['dissent'])}")
        for refused in entry["refused"]:
            out.print(f"  refused {refused['worker']}: {escape(refused['reason'])}")
    out.print(f"{len(report) - flagged} of {len(report)} images accepted, {flagged} flagged")


@trust_app.command("show")
def show_key(ctx: typer.Context) -> None:
    """This worker's id and public key (made on first use); give them to `scipix trust add`."""
    from scipix.trust.worker import own_key

    key = own_key(state(ctx).settings())
    print_json({"worker": key.worker_id, "public_key": key.public.hex()})


@trust_app.command("add")
def add(
    ctx: typer.Context,
    public_key: Annotated[str, typer.Argument(help="The worker's public key (hex, 32 bytes).")],
    name: Annotated[str, typer.Option("--name", "-n", help="A note: which machine.")] = "",
) -> None:
    """Trust a worker's public key (its attestations then verify here)."""
    from scipix.trust.keys import Keyring
    from scipix.trust.worker import keyring_path

    try:
        public = bytes.fromhex(public_key)
    except ValueError as exc:
        raise InputError(f"the public key must be hex: {exc}") from exc
    path = keyring_path(state(ctx).settings())
    ring = Keyring.load(path)
    worker = ring.trust(public, name)
    ring.save(path)
    stdout_console().print(f"trusted {worker}")


@trust_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """The trusted workers."""
    from scipix.trust.keys import Keyring
    from scipix.trust.worker import keyring_path

    ring = Keyring.load(keyring_path(state(ctx).settings()))
    print_json(
        {w: {"public_key": k.hex(), "name": ring.names.get(w, "")} for w, k in ring.keys.items()}
    )


def sync(
    ctx: typer.Context,
    dir_a: Annotated[Path, typer.Argument(help="A data directory (runtime.data_dir).")],
    dir_b: Annotated[Path, typer.Argument(help="Another one, e.g. a worker's.")],
    as_json: Annotated[bool, typer.Option("--json", help="The counts as JSON.")] = False,
) -> None:
    """Merge two data directories both ways: corrections, calibration data (trajectories) and
    memory entries (the result cache's index), through pycrdt documents in <dir>/sync/. Running
    it again changes nothing; a malformed sync file merges nothing (exit 2)."""
    from scipix.trust.sync import sync_dirs

    report = sync_dirs(dir_a, dir_b, state(ctx).settings().memory)
    if as_json:
        counts = {name: {"into_a": a, "into_b": b} for name, (a, b) in report.applied.items()}
        print_json({"stores": counts, "passes": report.passes})
        return
    out = stdout_console()
    for name, (into_a, into_b) in report.applied.items():
        out.print(f"{name}: {into_a} into {escape(str(dir_a))}, {into_b} into {escape(str(dir_b))}")
