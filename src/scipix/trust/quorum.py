"""Quorum voting: n = 3f+1 voters (workers or strategies) read the same input; a reading is
accepted when at least 2f+1 of them agree on it, so up to f byzantine voters (returning wrong
LaTeX, or nothing) can neither make a wrong reading win nor block the right one.

Agreement is on the normalized LaTeX (:func:`scipix.latex.normalize`); when no spelling reaches
the quorum, groups whose LaTeX is the same mathematics (:func:`scipix.latex.equivalent`) are
joined before the count is made again. A voter whose attestation does not check out
(:func:`votes_from_records`) does not vote at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from scipix.errors import InputError, LatexError, ScipixError
from scipix.latex import equivalent, normalize
from scipix.schema import PreprocessSwitches, RecognizeOptions, Result
from scipix.trust.attestation import ReplayGuard, attested_latex, check_record
from scipix.trust.keys import Keyring


@dataclass(frozen=True)
class Vote:
    """One voter's reading (``latex`` None: the voter failed or abstained)."""

    voter: str
    latex: str | None


@dataclass(frozen=True)
class Decision:
    """The outcome: the accepted LaTeX (None when flagged), who agreed and who did not."""

    accepted: bool
    latex: str | None
    agreed: tuple[str, ...]
    dissent: tuple[str, ...]
    needed: int
    reason: str


def canonical(latex: str) -> str:
    try:
        return normalize(latex)
    except LatexError:
        return " ".join(latex.split())


class QuorumVote:
    """Votes of n = 3f+1 voters; ``decide`` accepts a reading that 2f+1 of them agree on."""

    def __init__(self, f: int, equivalence_timeout_s: float = 2.0) -> None:
        if f < 0:
            raise InputError(f"the number of faulty voters tolerated must be >= 0, not {f}")
        self.f = f
        self.timeout_s = equivalence_timeout_s

    @property
    def n(self) -> int:
        return 3 * self.f + 1

    @property
    def needed(self) -> int:
        return 2 * self.f + 1

    def decide(self, votes: Sequence[Vote]) -> Decision:
        voters = [v.voter for v in votes]
        if len(set(voters)) != len(voters):
            raise InputError(f"a voter voted twice: {voters}")
        if len(votes) > self.n:
            raise InputError(f"{len(votes)} votes for a quorum of n = 3f+1 = {self.n} voters")
        groups = self.group([v for v in votes if v.latex is not None])
        best = max(groups, key=len, default=[])
        if len(best) < self.needed and len(groups) > 1:
            groups = self.join_equivalent(groups)
            best = max(groups, key=len)
        agreed = tuple(v.voter for v in best)
        dissent = tuple(v for v in voters if v not in agreed)
        if len(best) >= self.needed:
            reason = f"{len(best)} of {len(votes)} voters agree (2f+1 = {self.needed} needed)"
            return Decision(True, best[0].latex, agreed, dissent, self.needed, reason)
        reason = (
            f"no quorum: at most {len(best)} of {len(votes)} voters agree, "
            f"2f+1 = {self.needed} needed"
        )
        return Decision(False, None, agreed, dissent, self.needed, reason)

    @staticmethod
    def group(votes: Iterable[Vote]) -> list[list[Vote]]:
        """Votes grouped by normalized LaTeX, in order of first appearance."""
        by_form: dict[str, list[Vote]] = {}
        for vote in votes:
            assert vote.latex is not None
            by_form.setdefault(canonical(vote.latex), []).append(vote)
        return list(by_form.values())

    def join_equivalent(self, groups: list[list[Vote]]) -> list[list[Vote]]:
        """Groups whose first readings are the same mathematics, joined (first one wins)."""
        joined: list[list[Vote]] = []
        for group in groups:
            latex = group[0].latex
            assert latex is not None
            for target in joined:
                other = target[0].latex
                assert other is not None
                if equivalent(other, latex, self.timeout_s).equal:
                    target.extend(group)
                    break
            else:
                joined.append(list(group))
        return joined


@dataclass(frozen=True)
class Ballot:
    """The votes of attested records of one image, and the records refused with the reason."""

    votes: tuple[Vote, ...]
    refused: tuple[tuple[str, str], ...]  # (who claimed to vote, why the vote does not count)


def votes_from_records(
    records: Sequence[dict[str, object]], keyring: Keyring, guard: ReplayGuard | None = None
) -> Ballot:
    """Each record's LaTeX as its signer's vote, when its attestation checks out; a failed
    item votes None. Records of one image only (the caller groups them by ``image_hash``)."""
    guard = guard if guard is not None else ReplayGuard()
    votes: list[Vote] = []
    refused: list[tuple[str, str]] = []
    for i, record in enumerate(records):
        check = check_record(record, keyring, guard, i)
        claimed = check.worker or f"record {i}"
        if not check.ok or check.worker is None:
            refused.append((claimed, check.reason or "no signer"))
        elif check.worker in {v.voter for v in votes}:
            refused.append((claimed, "this worker already voted for this image"))
        else:
            latex = attested_latex(record) if "error_info" not in record else None
            votes.append(Vote(check.worker, latex or None))
    return Ballot(tuple(votes), tuple(refused))


#: The strategies one machine can vote with: readings of the same picture by other means (the
#: beam's width, the cleaning switches), each a voter of its own.
STRATEGIES: tuple[tuple[str, RecognizeOptions], ...] = (
    ("beam-3", RecognizeOptions(beam_width=3)),
    ("greedy", RecognizeOptions(beam_width=1)),
    ("beam-8", RecognizeOptions(beam_width=8)),
    ("binarized", RecognizeOptions(preprocessing=PreprocessSwitches(binarize=True))),
    ("contrast", RecognizeOptions(preprocessing=PreprocessSwitches(clahe=True))),
    ("denoised", RecognizeOptions(preprocessing=PreprocessSwitches(denoise=True))),
    ("as-scanned", RecognizeOptions(preprocessing=PreprocessSwitches(deskew=False))),
)


def vote_by_strategies(
    recognize: Callable[[RecognizeOptions], Result], f: int
) -> tuple[Decision, dict[str, Result | None]]:
    """Quorum over 3f+1 of :data:`STRATEGIES` on one image (``recognize`` reads it with the
    options given, e.g. ``lambda o: service.recognize(image, o)``); a strategy whose reading
    fails votes nothing."""
    vote = QuorumVote(f)
    if vote.n > len(STRATEGIES):
        raise InputError(f"{len(STRATEGIES)} strategies are too few for n = 3f+1 = {vote.n}")
    results: dict[str, Result | None] = {}
    for name, options in STRATEGIES[: vote.n]:
        try:
            results[name] = recognize(options)
        except ScipixError:
            results[name] = None
    votes = [Vote(name, r.latex if r is not None else None) for name, r in results.items()]
    return vote.decide(votes), results
