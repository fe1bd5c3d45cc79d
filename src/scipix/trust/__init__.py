"""Trust: Ed25519 attestations of results over their BLAKE3 image hash, a keyring of trusted
workers, quorum voting (3f+1 voters, 2f+1 agreeing) and replicated state (pycrdt)."""

from __future__ import annotations

from scipix.trust.attestation import Check, ReplayGuard, attest, check_record
from scipix.trust.keys import Keyring, WorkerKey
from scipix.trust.quorum import Decision, QuorumVote, Vote, votes_from_records

__all__ = [
    "Check",
    "Decision",
    "Keyring",
    "QuorumVote",
    "ReplayGuard",
    "Vote",
    "WorkerKey",
    "attest",
    "check_record",
    "votes_from_records",
]
