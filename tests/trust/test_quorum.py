"""Quorum: n = 3f+1 voters, 2f+1 agreeing accept; a byzantine worker is outvoted, its forged
votes do not count, and too few agreeing voters flag the image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scipix.cli.app import main
from scipix.cli.ocr import image_record
from scipix.errors import InputError
from scipix.schema import RecognizeOptions, Result
from scipix.trust.attestation import attest
from scipix.trust.keys import Keyring, WorkerKey
from scipix.trust.quorum import QuorumVote, Vote, votes_from_records

from .conftest import EXAMPLE, Signed

WRONG = "x=\\frac{-b+\\sqrt{b^{2}+4ac}}{2a}"


def worker_record(signed: Signed, key: WorkerKey, latex: str | None = None) -> dict[str, Any]:
    """``key``'s attested record of the example image (with ``latex`` instead of its reading)."""
    result = signed.result.model_copy(update={"attestation": None}, deep=True)
    if latex is not None:
        result.latex_styled = latex
        result.text = f"\\[\n{latex}\n\\]"
    result.attestation = attest(key, signed.image_hash, result)
    return image_record("quadratic.png", signed.image_hash, result)


def test_normalized_spellings_agree_and_the_odd_one_is_dissent() -> None:
    votes = [Vote("a", "x^2+1"), Vote("b", "x^{2}+1"), Vote("c", "{x}^{2} + 1"), Vote("d", "y")]
    decision = QuorumVote(f=1).decide(votes)
    assert decision.accepted and decision.latex == "x^2+1"
    assert decision.agreed == ("a", "b", "c") and decision.dissent == ("d",)


def test_equivalent_mathematics_joins_when_spelling_alone_falls_short() -> None:
    votes = [Vote("a", "a+b"), Vote("b", "b+a"), Vote("c", "a+b"), Vote("d", "a-b")]
    decision = QuorumVote(f=1).decide(votes)
    assert decision.accepted and set(decision.agreed) == {"a", "b", "c"}


def test_no_quorum_is_flagged() -> None:
    votes = [Vote("a", "x"), Vote("b", "x"), Vote("c", "y"), Vote("d", None)]
    decision = QuorumVote(f=1).decide(votes)
    assert not decision.accepted and decision.latex is None
    assert decision.reason.startswith("no quorum: at most 2 of 4")
    with pytest.raises(InputError, match="voted twice"):
        QuorumVote(f=1).decide([Vote("a", "x"), Vote("a", "x")])


def test_a_byzantine_worker_is_outvoted_with_n4_f1(signed: Signed) -> None:
    honest = [WorkerKey.generate() for _ in range(3)]
    byzantine = WorkerKey.generate()
    ring = Keyring()
    for key in [*honest, byzantine]:
        ring.trust(key.public)
    records = [worker_record(signed, k) for k in honest] + [worker_record(signed, byzantine, WRONG)]
    ballot = votes_from_records(records, ring)
    decision = QuorumVote(f=1).decide(ballot.votes)
    assert decision.accepted and decision.latex == signed.result.latex_styled
    assert set(decision.agreed) == {k.worker_id for k in honest}
    assert decision.dissent == (byzantine.worker_id,)


def test_forged_votes_do_not_count(signed: Signed) -> None:
    """Two honest workers; the byzantine one votes twice with WRONG, once under an honest
    worker's name (signed with its own key): no quorum for WRONG, and the image is flagged."""
    honest = [WorkerKey.generate() for _ in range(2)]
    byzantine = WorkerKey.generate()
    ring = Keyring()
    for key in [*honest, byzantine]:
        ring.trust(key.public)
    forged = worker_record(signed, byzantine, WRONG)
    forged["attestation"]["worker"] = honest[0].worker_id  # signed by the byzantine key
    records = [
        worker_record(signed, honest[0]),
        worker_record(signed, byzantine, WRONG),
        forged,
        worker_record(signed, honest[1]),
    ]
    ballot = votes_from_records(records, ring)
    assert [why.split(":")[0] for _, why in ballot.refused] == ["bad signature"]
    decision = QuorumVote(f=1).decide(ballot.votes)
    assert not decision.accepted


def test_scipix_verify_quorum_says_who_agreed(
    signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = [WorkerKey.generate() for _ in range(4)]
    ring = Keyring()
    for key in keys:
        ring.trust(key.public)
    ring_path = tmp_path / "ring.json"
    ring.save(ring_path)
    files = []
    for i, key in enumerate(keys):
        path = tmp_path / f"worker{i}.jsonl"
        record = worker_record(signed, key, WRONG if i == 2 else None)
        path.write_text(json.dumps(record) + "\n")
        files.append(str(path))
    config = tmp_path / "scipix.toml"
    config.write_text(f'[distributed]\nkeyring = "{ring_path}"\nquorum_f = 1\n')
    with pytest.raises(SystemExit) as done:
        main(["--config", str(config), "verify", "--quorum", "--json", *files])
    assert done.value.code == 0
    decision = json.loads(capsys.readouterr().out)["decisions"][0]
    assert decision["accepted"] and decision["dissent"] == [keys[2].worker_id]
    assert decision["agreed"] == [keys[0].worker_id, keys[1].worker_id, keys[3].worker_id]


def test_strategies_vote_on_one_machine(signed: Signed) -> None:
    from scipix.service import Scipix
    from scipix.trust.quorum import vote_by_strategies

    data = EXAMPLE.read_bytes()
    with Scipix(signed.settings) as service:
        honest, _ = vote_by_strategies(lambda o: service.recognize(data, o), f=1)

        def one_byzantine(options: RecognizeOptions) -> Result:
            result = service.recognize(data, options)
            if options.beam_width == 1:  # this strategy lies
                result.latex_styled = WRONG
            return result

        outvoted, _ = vote_by_strategies(one_byzantine, f=1)
    assert honest.accepted and len(honest.agreed) >= 3
    assert outvoted.accepted and outvoted.latex == signed.result.latex_styled
    assert "greedy" in outvoted.dissent
