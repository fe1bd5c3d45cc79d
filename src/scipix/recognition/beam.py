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

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

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
    history: list[list[tuple[int, ...]]] = [[() for _ in range(k)] for _ in range(batch)]
    new_hist: list[list[tuple[int, ...]]]
    logps: list[list[tuple[float, ...]]] = [[() for _ in range(k)] for _ in range(batch)]
    states: list[list[State]] = [[START] * k for _ in range(batch)]
    items = [ItemBeams() for _ in range(batch)]
    active = np.ones(batch, dtype=bool)
    for t in range(cfg.max_tokens):
        logp, past_k, past_v = step(tokens, t, ck, cv, past_k, past_v)
        logp = logp.reshape(batch, k, -1)
        vocab = logp.shape[-1]
        allowed = unbanned(vocab, cfg.banned)
        if rules is not None:  # room: tokens that may follow this one before <eos>
            masks = rules.masks([s for row in states for s in row], cfg.max_tokens - t - 2)
            allowed = masks.reshape(batch, k, vocab) & allowed
        total = np.where(allowed, scores[:, :, None] + logp, -np.inf).reshape(batch, k * vocab)
        top = best_first(total, 2 * k)
        order = np.zeros((batch, k), dtype=np.int64)
        new_tokens = np.full((batch, k), cfg.eos, dtype=np.int64)
        new_scores = np.full((batch, k), -np.inf)
        new_hist = [[() for _ in range(k)] for _ in range(batch)]
        new_logps: list[list[tuple[float, ...]]] = [[() for _ in range(k)] for _ in range(batch)]
        new_states: list[list[State]] = [[START] * k for _ in range(batch)]
        for b in range(batch):
            order[b] = b * k  # dead rows just follow beam 0
            if not active[b]:
                continue
            live = 0
            for flat in top[b]:
                if not np.isfinite(total[b, flat]) or live == k:
                    break
                beam, token = divmod(int(flat), vocab)
                path_logps = (*logps[b][beam], float(logp[b, beam, token]))
                if token == cfg.eos:
                    ids = history[b][beam]
                    norm = total[b, flat] / length_norm(len(ids) + 1, cfg.length_penalty)
                    items[b].finished.append(RawHypothesis(ids, path_logps, float(norm)))
                    continue
                order[b, live] = b * k + beam
                new_tokens[b, live] = token
                new_scores[b, live] = total[b, flat]
                new_hist[b][live] = (*history[b][beam], token)
                new_logps[b][live] = path_logps
                if rules is not None:
                    new_states[b][live] = rules.advance(states[b][beam], token)
                live += 1
            if done(items[b], new_scores[b], t + 1, cfg, k):
                active[b] = False
        if not active.any():
            break
        flat_order = order.reshape(-1)
        past_k, past_v = past_k[:, flat_order], past_v[:, flat_order]
        tokens = new_tokens.reshape(rows, 1)
        scores, history, logps, states = new_scores, new_hist, new_logps, new_states
    for b in range(batch):  # out of length: keep the live beams as (truncated) hypotheses
        if len(items[b].finished) < cfg.n_best:
            for j in range(k):
                if np.isfinite(scores[b, j]):
                    norm = scores[b, j] / length_norm(len(history[b][j]), cfg.length_penalty)
                    items[b].finished.append(RawHypothesis(history[b][j], logps[b][j], norm))
    return [sorted(it.finished, key=lambda h: -h.score)[: cfg.n_best] for it in items]


@cache
def unbanned(vocab: int, banned: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """The tokens never banned (read-only)."""
    keep = np.ones(vocab, dtype=bool)
    keep[[i for i in banned if i < vocab]] = False
    keep.setflags(write=False)
    return keep


def best_first(total: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.int64]:
    """Per row, the indices of the ``count`` highest values, highest first (a partition, then
    a sort of those few: the row holds beams x vocabulary values)."""
    if count >= total.shape[1]:
        return np.argsort(-total, axis=1)
    part = np.argpartition(-total, count - 1, axis=1)[:, :count]
    order = np.argsort(-np.take_along_axis(total, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def done(
    item: ItemBeams, live_scores: npt.NDArray[np.float64], length: int, cfg: BeamConfig, k: int
) -> bool:
    """An item is done when no live beam is left, or (``cfg.early_stop``) its ``n_best`` best
    finished hypotheses outscore every live beam normalized at ``length + 1`` tokens, or (exact)
    it has k finished hypotheses and no live beam can beat the best at any length."""
    if not np.isfinite(live_scores).any():
        return True
    best_live = float(np.max(live_scores))
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
