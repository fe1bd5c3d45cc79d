"""Attestations: a result signed by a worker verifies; tampered LaTeX, a swapped image hash, an
unknown key, a forged or wrong-key signature, a replay and a malformed attestation are refused
with their reason."""

from __future__ import annotations

import copy
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from scipix.cli.app import main
from scipix.errors import ConfigError
from scipix.trust.attestation import ReplayGuard, attest, check_record
from scipix.trust.keys import Keyring, WorkerKey

from .conftest import EXAMPLE, Signed


def reason(record: Any, ring: Keyring, guard: ReplayGuard | None = None) -> str | None:
    return check_record(record, ring, guard or ReplayGuard()).reason


def test_a_signed_result_verifies(signed: Signed) -> None:
    a = signed.result.attestation
    assert a is not None and a.worker == signed.key.worker_id
    assert a.image_hash == signed.image_hash and a.model_version == signed.result.version
    assert reason(signed.record, signed.keyring) is None


def test_the_key_file_is_private_and_a_readable_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "k" / "worker.key"
    key = WorkerKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert WorkerKey.load(path).worker_id == key.worker_id
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        WorkerKey.load(path)


def test_workers_starting_at_once_share_one_key(tmp_path: Path) -> None:
    path, ids = tmp_path / "worker.key", []
    threads = [
        threading.Thread(target=lambda: ids.append(WorkerKey.load_or_create(path).worker_id))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["worker.key"]  # no temporary file left


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(latex_styled="x=\\frac{-b}{2a}"), "tampered LaTeX"),
        (lambda r: r.update(image_hash="0" * 64), "image hash swapped"),
        (lambda r: r.update(confidence=0.999), "result changed after signing"),
        (lambda r: r["attestation"].update(model_version="other"), "bad signature"),
        (lambda r: r["attestation"].update(signature="00" * 64), "bad signature"),
        (lambda r: r["attestation"].update(signature="zz"), "malformed attestation"),
        (lambda r: r["attestation"].pop("nonce"), "malformed attestation: nonce"),
        (lambda r: r.pop("attestation"), "no attestation"),
    ],
    ids=["latex", "image-hash", "confidence", "version", "forged", "bad-hex", "no-nonce", "none"],
)
def test_changes_are_refused_with_their_reason(signed: Signed, change: Any, expected: str) -> None:
    record = copy.deepcopy(signed.record)
    change(record)
    found = reason(record, signed.keyring)
    assert found is not None and found.startswith(expected), found


def test_the_same_latex_spelt_another_way_still_verifies(signed: Signed) -> None:
    record = copy.deepcopy(signed.record)
    assert record["latex_styled"] == "x=\\frac{-b\\pm\\sqrt{b^{2}-4ac}}{2a}"
    record["latex_styled"] = "x = \\frac{-b\\pm\\sqrt{b^2-4ac}}{2a}"  # normalizes the same
    found = reason(record, signed.keyring)
    assert found == "result changed after signing (fields other than the LaTeX)"


def test_unknown_and_wrong_keys_are_refused(signed: Signed) -> None:
    assert reason(signed.record, Keyring()).startswith("unknown key")  # type: ignore[union-attr]
    # a stranger signs the result honestly, but claims to be the trusted worker
    stranger = WorkerKey.generate()
    forged = attest(
        stranger, signed.image_hash, signed.result.model_copy(update={"attestation": None})
    )
    record = copy.deepcopy(signed.record)
    record["attestation"] = forged.model_copy(update={"worker": signed.key.worker_id}).model_dump()
    assert reason(record, signed.keyring).startswith("bad signature")  # type: ignore[union-attr]
    record["attestation"] = forged.model_dump()  # under its own name: not in the keyring
    assert reason(record, signed.keyring).startswith("unknown key")  # type: ignore[union-attr]


def test_a_replayed_attestation_is_refused(signed: Signed) -> None:
    guard = ReplayGuard()
    assert reason(signed.record, signed.keyring, guard) is None
    again = reason(copy.deepcopy(signed.record), signed.keyring, guard)
    assert again is not None and again.startswith("replayed attestation")


def test_scipix_verify_names_each_refused_line(
    signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "scipix.toml"
    config.write_text(f'[runtime]\ndata_dir = "{signed.settings.runtime.data_dir}"\n')
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(signed.record) + "\n")
    with pytest.raises(SystemExit) as done:
        main(["--config", str(config), "verify", str(good)])
    assert done.value.code == 0
    assert "1 of 1 lines verified" in capsys.readouterr().out

    tampered = copy.deepcopy(signed.record)
    tampered["latex_styled"] = "x=1"
    bad = tmp_path / "bad.jsonl"
    lines = [signed.record, tampered, signed.record]
    bad.write_text("\n".join(json.dumps(r) for r in lines) + "\n{not json\n")
    with pytest.raises(SystemExit) as done:
        main(["--config", str(config), "verify", "--json", str(bad)])
    assert done.value.code == 1
    report = json.loads(capsys.readouterr().out)
    reasons = [line["reason"] for line in report["lines"]]
    assert reasons[0] is None
    assert reasons[1].startswith("tampered LaTeX")
    assert reasons[2] == "replayed attestation: its nonce was already used on line 1"
    assert reasons[3] == "not a JSON line"


def test_trusting_another_workers_key_from_the_cli(
    signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A verifier with its own data directory refuses the worker's lines until it trusts the
    key that `scipix trust show` prints on the worker."""
    worker = tmp_path / "worker.toml"
    worker.write_text(f'[runtime]\ndata_dir = "{signed.settings.runtime.data_dir}"\n')
    verifier = tmp_path / "verifier.toml"
    verifier.write_text(f'[runtime]\ndata_dir = "{tmp_path / "verifier"}"\n')
    lines = tmp_path / "r.jsonl"
    lines.write_text(json.dumps(signed.record) + "\n")
    with pytest.raises(SystemExit) as done:
        main(["--config", str(verifier), "verify", str(lines)])
    assert done.value.code == 1 and "unknown key" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--config", str(worker), "trust", "show"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["worker"] == signed.key.worker_id
    with pytest.raises(SystemExit):
        main(["--config", str(verifier), "trust", "add", shown["public_key"], "--name", "w1"])
    assert signed.key.worker_id in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["--config", str(verifier), "verify", str(lines)])
    assert done.value.code == 0
    with pytest.raises(SystemExit) as done:
        main(["--config", str(verifier), "trust", "add", "not-hex"])
    assert done.value.code == 2


def test_verify_images_hashes_the_files_too(
    signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "scipix.toml"
    config.write_text(f'[runtime]\ndata_dir = "{signed.settings.runtime.data_dir}"\n')
    image = tmp_path / "formula.png"
    image.write_bytes(EXAMPLE.read_bytes())
    lines = tmp_path / "r.jsonl"
    lines.write_text(json.dumps({**signed.record, "image": str(image)}) + "\n")
    with pytest.raises(SystemExit) as done:
        main(["--config", str(config), "verify", "--images", str(lines)])
    assert done.value.code == 0  # the path is not signed: the file may move
    image.write_bytes(EXAMPLE.read_bytes() + b"\0")
    with pytest.raises(SystemExit) as done:
        main(["--config", str(config), "verify", "--images", str(lines)])
    assert done.value.code == 1 and "image file changed" in capsys.readouterr().out
