"""Attestations: a worker signs what it computed, and anyone with its public key checks it.

The signed message is, each part length-prefixed so the concatenation is unambiguous::

    "scipix-attestation-v1" ‖ BLAKE3(image bytes) ‖ BLAKE3(normalized LaTeX) ‖ model version
                            ‖ worker id ‖ time ‖ nonce ‖ BLAKE3(the result's other fields)

The LaTeX is the result's ``latex_styled`` (else its ``text``), normalized by
:func:`scipix.latex.normalize` so that spelling that renders the same signs the same; the other
fields are the result's canonical JSON without ``attestation`` (and without the batch record's
``image`` path, which is where the verifier found the file, not what the worker computed).

:func:`check_record` names the first thing wrong with one record: a malformed attestation, an
unknown key, a bad signature (forged, or signed by another key), a replay (a nonce seen
before), a swapped image hash, tampered LaTeX, other fields changed, or a time in the future.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import blake3
from pydantic import ValidationError

from scipix.errors import LatexError
from scipix.latex import normalize
from scipix.schema import Attestation, Result
from scipix.trust.keys import SIGNATURE_BYTES, Keyring, WorkerKey, verify_signature

DOMAIN = b"scipix-attestation-v1"
#: fields of a batch record that are not the worker's result
RECORD_ONLY = frozenset({"image", "image_hash", "attestation"})
#: how far in the future a signing time may be (clocks of different machines differ)
CLOCK_SKEW = timedelta(seconds=300)


def digest(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def attested_latex(fields: dict[str, Any]) -> str:
    """The normalized LaTeX of a result (``latex_styled``, else ``text``); text that does not
    parse as LaTeX (prose, Markdown) with its whitespace collapsed."""
    source = fields.get("latex_styled")
    if not isinstance(source, str):
        source = fields.get("text")
    if not isinstance(source, str):
        return ""
    try:
        return normalize(source)
    except LatexError:
        return " ".join(source.split())


def content_hash(fields: dict[str, Any]) -> str:
    """BLAKE3 of the canonical JSON of a result's fields, less the record-only ones."""
    kept = {k: v for k, v in fields.items() if k not in RECORD_ONLY}
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return digest(text.encode("utf-8"))


def message(a: Attestation) -> bytes:
    """The bytes that ``a.signature`` signs."""
    parts = (
        a.image_hash,
        a.latex_hash,
        a.model_version,
        a.worker,
        a.time,
        a.nonce,
        a.content_hash,
    )
    out = [DOMAIN]
    for part in parts:
        data = part.encode("utf-8")
        out += [struct.pack(">I", len(data)), data]
    return b"".join(out)


def now_utc() -> datetime:
    return datetime.now(UTC)


def attest(
    key: WorkerKey, image_hash: str, result: Result, when: datetime | None = None
) -> Attestation:
    """``key``'s attestation of ``result``, computed from the image whose BLAKE3 is
    ``image_hash``."""
    fields = result.to_mathpix()
    unsigned = Attestation(
        worker=key.worker_id,
        time=(when or now_utc()).isoformat(timespec="microseconds"),
        nonce=os.urandom(16).hex(),
        model_version=result.version or "",
        image_hash=image_hash,
        latex_hash=digest(attested_latex(fields).encode("utf-8")),
        content_hash=content_hash(fields),
        signature="",
    )
    signature = key.sign(message(unsigned)).hex()
    return unsigned.model_copy(update={"signature": signature})


@dataclass
class ReplayGuard:
    """The attestations seen so far, by (worker, nonce): the same one again is a replay."""

    seen: dict[tuple[str, str], int] = field(default_factory=dict)

    def first_seen(self, a: Attestation, where: int) -> int | None:
        """Where ``a`` was seen before (None: never; it is remembered now at ``where``)."""
        key = (a.worker, a.nonce)
        before = self.seen.get(key)
        if before is None:
            self.seen[key] = where
        return before


@dataclass(frozen=True)
class Check:
    """The outcome of checking one record: ``reason`` is None when it is accepted."""

    reason: str | None = None
    worker: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def parse_attestation(raw: object) -> Attestation | str:
    """The attestation, or why it is malformed."""
    if raw is None:
        return "no attestation"
    try:
        a = Attestation.model_validate(raw)
        signature = bytes.fromhex(a.signature)
        bytes.fromhex(a.nonce)
        datetime.fromisoformat(a.time)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "attestation"
        return f"malformed attestation: {where}: {problem['msg']}"
    except ValueError as exc:
        return f"malformed attestation: {exc}"
    if len(signature) != SIGNATURE_BYTES:
        return f"malformed attestation: the signature has {len(signature)} bytes, not 64"
    return a


def check_record(
    record: object,
    keyring: Keyring,
    guard: ReplayGuard,
    where: int = 0,
    now: datetime | None = None,
) -> Check:
    """Check one batch record (``image``, ``image_hash``, the result, ``attestation``)."""
    if not isinstance(record, dict):
        return Check("not a JSON object")
    parsed = parse_attestation(record.get("attestation"))
    if isinstance(parsed, str):
        return Check(parsed)
    a = parsed
    public = keyring.public_key(a.worker)
    if public is None:
        return Check(f"unknown key: worker {a.worker} is not in the keyring", a.worker)
    if not verify_signature(public, bytes.fromhex(a.signature), message(a)):
        return Check(f"bad signature: forged, or not signed by {a.worker}'s key", a.worker)
    fields = check_fields(record, a, now)
    if not fields.ok:
        return fields
    before = guard.first_seen(a, where)
    if before is not None:
        return Check(f"replayed attestation: its nonce was already used on line {before}", a.worker)
    return fields


def check_fields(record: dict[str, Any], a: Attestation, now: datetime | None) -> Check:
    """Whether the record says what the (validly signed) attestation signed."""
    if record.get("image_hash") != a.image_hash:
        return Check(
            f"image hash swapped: the record says {record.get('image_hash')}, "
            f"the worker signed {a.image_hash}",
            a.worker,
        )
    if digest(attested_latex(record).encode("utf-8")) != a.latex_hash:
        return Check("tampered LaTeX: it is not the LaTeX the worker signed", a.worker)
    if content_hash(record) != a.content_hash:
        return Check("result changed after signing (fields other than the LaTeX)", a.worker)
    signed = datetime.fromisoformat(a.time)
    if signed.tzinfo is None or signed > (now or now_utc()) + CLOCK_SKEW:
        return Check(f"bad time: {a.time} is in the future or has no time zone", a.worker)
    return Check(None, a.worker)
