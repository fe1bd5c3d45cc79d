"""Batched beam search in numpy over the ONNX decoder step (with key/value caches).

All images of a batch decode together: B images x K beams are the decoder's N = B*K rows.
Scores are summed log-probabilities; finished hypotheses are ranked with the GNMT length
penalty ``((5 + len) / 6) ** alpha``. Each hypothesis keeps its per-token probabilities.

With a :class:`~scipix.recognition.grammar.TokenGrammar` (and ``BeamConfig.constrained``, the
default), each row carries a LaTeX state and the step's log-probabilities are masked to the
tokens that keep the LaTeX valid: no ``}`` or ``\\right`` without an opener, no ``\\end``
that does not match, no ``<eos>`` while anything is open, and only closing tokens once the
remaining length is just enough to close. Finished hypotheses then pass the LaTeX validator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from scipix.recognition.grammar import START, State, TokenGrammar
from scipix.schema import BEAM_WIDTH, LENGTH_PENALTY, MAX_TOKENS, N_BEST

FloatArray = npt.NDArray[np.float32]
#: decoder step: (tokens (N,1), position, cross_k, cross_v, past_k, past_v) -> (logp, k, v)
StepFn = Callable[
    [npt.NDArray[np.int64], int, FloatArray, FloatArray, FloatArray, FloatArray],
    tuple[FloatArray, FloatArray, FloatArray],
]


@dataclass(frozen=True)
class BeamConfig:
    """How to search; the defaults are the shared ones of :mod:`scipix.schema` (settings too)."""

    beam_width: int = BEAM_WIDTH
    n_best: int = N_BEST
    max_tokens: int = MAX_TOKENS
    length_penalty: float = LENGTH_PENALTY
    bos: int = 1
    eos: int = 2
    banned: tuple[int, ...] = (0, 1, 3)  # pad, bos, unk: never emitted
    #: mask tokens that would make the LaTeX invalid (when a grammar is given)
    constrained: bool = True
    #: stop an image once its ``n_best`` best finished hypotheses outscore every live beam as
    #: if it ended at the next token (the usual heuristic); False: only once no live beam could
    #: outscore them at any length up to ``max_tokens`` (exact, about a quarter more steps)
    early_stop: bool = True


@dataclass(frozen=True)
class RawHypothesis:
    ids: tuple[int, ...]
    logps: tuple[float, ...]  # per token, the end token included
    score: float  # length-normalized


@dataclass
class ItemBeams:
    """The finished hypotheses of one image."""

    finished: list[RawHypothesis] = field(default_factory=list)

    def best_score(self) -> float:
        return max((h.score for h in self.finished), default=-np.inf)


def length_norm(length: int, alpha: float) -> float:
    return float(((5.0 + length) / 6.0) ** alpha)


def beam_search(
    step: StepFn,
    cross_k: FloatArray,
    cross_v: FloatArray,
    cfg: BeamConfig,
    grammar: TokenGrammar | None = None,
) -> list[list[RawHypothesis]]:
    """Decode every item of the batch; returns up to ``n_best`` hypotheses per item, best first.

    With ``grammar`` and ``cfg.constrained`` every hypothesis is valid LaTeX (module docstring).
    Per step, numpy chooses each item's ``2k`` best candidates; the bookkeeping of those few is
    plain Python over lists (row ``b * k + j`` is beam ``j`` of item ``b``).
    """
    rules = grammar if cfg.constrained else None
    layers, batch, heads, _, dh = cross_k.shape
    k = max(cfg.beam_width, cfg.n_best)
    rows = batch * k
    ck = np.repeat(cross_k, k, axis=1)
    cv = np.repeat(cross_v, k, axis=1)
    past_k = np.zeros((layers, rows, heads, 0, dh), dtype=np.float32)
    past_v = np.zeros_like(past_k)
    tokens = np.full((rows, 1), cfg.bos, dtype=np.int64)
    scores = np.full((batch, k), -np.inf, dtype=np.float64)
    scores[:, 0] = 0.0  # at the start only one beam per item is live
    beams = Beams([()] * rows, [()] * rows, [START] * rows)
    items = [ItemBeams() for _ in range(batch)]
    active = [True] * batch
    identity = list(range(rows))
    for t in range(cfg.max_tokens):
        logp, past_k, past_v = step(tokens, t, ck, cv, past_k, past_v)
        logp = logp.reshape(batch, k, -1)
        vocab = logp.shape[-1]
        allowed = unbanned(vocab, cfg.banned)
        if rules is not None:  # room: tokens that may follow this one before <eos>
            masks = rules.masks(beams.states, cfg.max_tokens - t - 2)
            allowed = masks.reshape(batch, k, vocab) & allowed
        total = np.where(allowed, scores[:, :, None] + logp, -np.inf).reshape(batch, k * vocab)
        top, top_total = best_first(total, 2 * k)
        beam_of, token_of = np.divmod(top, vocab)
        candidates = Candidates(
            top_total.tolist(),
            beam_of.tolist(),
            token_of.tolist(),
            logp[np.arange(batch)[:, None], beam_of, token_of].tolist(),
        )
        chosen = Chosen.empty(rows, cfg.eos)
        for b in range(batch):
            chosen.order[b * k : (b + 1) * k] = [b * k] * k  # dead rows just follow beam 0
            if active[b]:
                extend(b, k, candidates, beams, chosen, items[b], cfg, rules)
                if done(items[b], chosen.scores[b * k : (b + 1) * k], t + 1, cfg, k):
                    active[b] = False
        if not any(active):
            break
        if chosen.order != identity:
            flat_order = np.array(chosen.order)
            past_k, past_v = past_k[:, flat_order], past_v[:, flat_order]
        tokens = np.array(chosen.tokens, dtype=np.int64).reshape(rows, 1)
        scores = np.array(chosen.scores, dtype=np.float64).reshape(batch, k)
        beams = chosen.beams
    for b in range(batch):  # out of length: keep the live beams as (truncated) hypotheses
        if len(items[b].finished) < cfg.n_best:
            for j in range(b * k, (b + 1) * k):
                if np.isfinite(scores.flat[j]):
                    norm = scores.flat[j] / length_norm(len(beams.history[j]), cfg.length_penalty)
                    items[b].finished.append(
                        RawHypothesis(beams.history[j], beams.logps[j], float(norm))
                    )
    return [sorted(it.finished, key=lambda h: -h.score)[: cfg.n_best] for it in items]


class Beams(NamedTuple):
    """Per row: the tokens so far, their log-probabilities and the LaTeX state."""

    history: list[tuple[int, ...]]
    logps: list[tuple[float, ...]]
    states: list[State]


class Candidates(NamedTuple):
    """Per item, its step's best candidates, best first: total score, beam, token, log-prob."""

    totals: list[list[float]]
    beams: list[list[int]]
    tokens: list[list[int]]
    logps: list[list[float]]


@dataclass
class Chosen:
    """The next step's rows: which row each continues, its token and score, and its beam."""

    order: list[int]
    tokens: list[int]
    scores: list[float]
    beams: Beams

    @classmethod
    def empty(cls, rows: int, eos: int) -> Chosen:
        beams = Beams([()] * rows, [()] * rows, [START] * rows)
        return cls([0] * rows, [eos] * rows, [-np.inf] * rows, beams)


def extend(
    b: int,
    k: int,
    found: Candidates,
    beams: Beams,
    chosen: Chosen,
    item: ItemBeams,
    cfg: BeamConfig,
    rules: TokenGrammar | None,
) -> None:
    """Item ``b``'s live beams for the next step from its best candidates (best first): an
    ``<eos>`` finishes a hypothesis, any other token continues a beam, until ``k`` do."""
    live = 0
    for total, beam, token, logp in zip(
        found.totals[b], found.beams[b], found.tokens[b], found.logps[b], strict=True
    ):
        if not math.isfinite(total) or live == k:
            break
        row = b * k + beam
        path_logps = (*beams.logps[row], logp)
        if token == cfg.eos:
            ids = beams.history[row]
            norm = total / length_norm(len(ids) + 1, cfg.length_penalty)
            item.finished.append(RawHypothesis(ids, path_logps, norm))
            continue
        into = b * k + live
        chosen.order[into] = row
        chosen.tokens[into] = token
        chosen.scores[into] = total
        chosen.beams.history[into] = (*beams.history[row], token)
        chosen.beams.logps[into] = path_logps
        if rules is not None:
            chosen.beams.states[into] = rules.advance(beams.states[row], token)
        live += 1


@cache
def unbanned(vocab: int, banned: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """The tokens never banned (read-only)."""
    keep = np.ones(vocab, dtype=bool)
    keep[[i for i in banned if i < vocab]] = False
    keep.setflags(write=False)
    return keep


def best_first(
    total: npt.NDArray[np.float64], count: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Per row, the indices of the ``count`` highest values, highest first, and those values (a
    partition, then a sort of those few: the row holds beams x vocabulary values)."""
    rows = np.arange(total.shape[0])[:, None]
    if count >= total.shape[1]:
        order = np.argsort(-total, axis=1)
        return order, total[rows, order]
    part = np.argpartition(-total, count - 1, axis=1)[:, :count]
    values = total[rows, part]
    order = np.argsort(-values, axis=1, kind="stable")
    return part[rows, order], values[rows, order]


def done(
    item: ItemBeams, live_scores: Sequence[float], length: int, cfg: BeamConfig, k: int
) -> bool:
    """An item is done when no live beam is left, or (``cfg.early_stop``) its ``n_best`` best
    finished hypotheses outscore every live beam normalized at ``length + 1`` tokens, or (exact)
    it has k finished hypotheses and no live beam can beat the best at any length."""
    live = [s for s in live_scores if math.isfinite(s)]
    if not live:
        return True
    best_live = max(live)
    if cfg.early_stop:
        if len(item.finished) < cfg.n_best:
            return False
        kept = sorted((h.score for h in item.finished), reverse=True)[cfg.n_best - 1]
        return best_live / length_norm(length + 1, cfg.length_penalty) < kept
    if len(item.finished) < k:
        return False
    # Log-probs only fall, so a live beam's best normalized score is bounded by its current sum
    # normalized at the longest length it could still reach.
    bound = best_live / length_norm(cfg.max_tokens, cfg.length_penalty)
    return bound < item.best_score() or length >= cfg.max_tokens
