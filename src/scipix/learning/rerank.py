"""Learned n-best re-ranking: the strategy ``tta_rerank`` (see ``strategies.py``).

An unsure formula's candidates are a beam of :data:`NBEST` on the recognizer's input, the
reading's own hypotheses and a beam of :data:`VIEW_BEAM` on each extra view, the crop prepared at
:data:`VIEW_SCALES` times the recognizer's own scale (:func:`views`). Per view and candidate the
decoder gives the candidate's summed and weakest token log-probability (teacher-forced, one pass
per view with a row per candidate; on the first view the beam's own values); each extra view's
reading (its beam's choice) votes for the candidate it equals. A linear model over these
measurements (:func:`features`) scores the candidates: a conditional logit fitted by
``benchmarks/rerank.py fit`` on the tune half of held-out hard pictures (1,600: 1,060 read
unsure; also refitted from the corrections kept here, ``learning/refit.py``) and shipped as
``weights/rerank.json`` for one model version and these views; the reading changes only when the
best candidate outscores the reading's choice by the fitted margin.

Measured (``benchmarks/rerank.py check --seeds 201 202 203 204``, 1,600 hard pictures of the
check half, model formula-20261207-s14000): 32.7 % -> 36.6 % exact, +3.9 points (paired
bootstrap over formulas 95 % [+2.2, +5.6]; screenshot +5.8, photo +4.2, scan +3.5, handwriting
+2.0); 92 readings fixed, 30 broken; 51 ms p50 (117 p90) on the 66 % read unsure; cross-validated
on tune +7.3. With the greedy reading of the 1.25x view instead of its 3-best: +3.0 on check,
+5.8 in CV. What did not pay more: TeX renders compared with the picture (``strategies.py``), a
4-gram LaTeX language model, one hand-set sum of log-probabilities over 6 views (+3.3 / -1.3 on
two tune sets), views scaled 0.8x or with thickened/thinned ink (no gain over 1.25x), a beam of
5 on the 1.25x view (CV +7.4, ~10 ms more), a third view at 1.5x with its 3-best (CV +7.6 for
about twice the time; chosen by the rule "cheaper unless CV gains >= 1 point", though its check
on 800 pictures read +5.1 against +3.6: worth a fresh check set), per-kind weights. The
candidates hold the right reading for 30-45 % of unsure readings against 12-15 % chosen right:
the pool bounds what re-ranking gains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scipix.recognition.preprocess import prepare_image, scale_factor, to_dark_on_light
from scipix.recognition.reading import Hypothesis, Reading

if TYPE_CHECKING:
    from scipix.recognition import FormulaRecognizer

Gray = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float64]
#: The candidates' beam (and n-best).
NBEST = 5
#: Scales of the extra views, relative to the recognizer's own scale for the crop.
VIEW_SCALES = (1.25,)
#: The beam (and n-best) on each extra view.
VIEW_BEAM = 3
#: Views: the recognizer's input, then one per scale.
VIEW_NAMES = ("base", *(f"x{s:g}" for s in VIEW_SCALES))
KINDS = ("render", "screenshot", "paper", "handwriting")
WEIGHTS_FILE = "rerank.json"


@dataclass
class Measured:
    """Candidates of one crop and what the views say of each (``logp``/``weakest``: view x
    candidate summed / weakest token log-probability, end token included; ``votes``: views
    whose reading is the candidate)."""

    candidates: list[Hypothesis]
    chosen: int
    beam_rank: list[int]
    logp: Floats
    weakest: Floats
    votes: Floats
    kind: str | None = None


def views(rec: FormulaRecognizer, picture: Gray) -> list[npt.NDArray[np.float32]]:
    """The prepared views of a crop (see the module docstring); raises ImageNoContentError."""
    spec = rec.spec
    base = prepare_image(picture, spec)
    gray = to_dark_on_light(np.asarray(picture, dtype=np.uint8))
    own = scale_factor(gray, spec)
    return [base, *(prepare_image(picture, spec, scale=own * s) for s in VIEW_SCALES)]


def token_ids(rec: FormulaRecognizer, hyp: Hypothesis) -> list[int] | None:
    """The hypothesis as model token ids, the end token included; None when a token is not in
    the vocabulary."""
    index = rec.grammar.ids
    ids = [index.get(t) for t in hyp.tokens]
    if any(i is None for i in ids):
        return None
    return [int(i) for i in ids if i is not None] + [rec.beam.eos]


def forced(
    rec: FormulaRecognizer,
    cross_k: npt.NDArray[np.float32],
    cross_v: npt.NDArray[np.float32],
    cands: list[list[int]],
) -> tuple[Floats, Floats]:
    """Summed and weakest token log-probability of each candidate (ids, end token included)
    given one image's cross keys/values: one decoder pass with a row per candidate."""
    n, longest = len(cands), max(len(c) for c in cands)
    ck, cv = np.repeat(cross_k, n, axis=1), np.repeat(cross_v, n, axis=1)
    layers, _, heads, _, dh = ck.shape
    past_k = np.zeros((layers, n, heads, 0, dh), np.float32)
    past_v = np.zeros_like(past_k)
    tokens = np.full((n, 1), rec.beam.bos, np.int64)
    total, weakest = np.zeros(n), np.zeros(n)
    rows = np.arange(n)
    for t in range(longest):
        logp, past_k, past_v = rec.step(tokens, t, ck, cv, past_k, past_v)
        logp = logp.reshape(n, -1)
        nxt = np.array([c[t] if t < len(c) else rec.beam.eos for c in cands], np.int64)
        live = np.array([t < len(c) for c in cands])
        got = np.where(live, logp[rows, nxt].astype(np.float64), 0.0)
        total += got
        weakest = np.minimum(weakest, got)
        tokens = nxt.reshape(n, 1)
    return total, weakest


def measure(rec: FormulaRecognizer, picture: Gray, reading: Reading, kind: str | None) -> Measured:
    """The candidates of ``picture`` (a beam of :data:`NBEST` on the recognizer's input, the
    reading's own hypotheses and each extra view's n-best) and the views' measurements
    of each (``beam_rank``: the rank in that beam, :data:`NBEST` for the reading's, one more
    for a view's). The beam's own log-probabilities serve for its candidates on the first view;
    the others are teacher-forced."""
    encoded = [rec.encode([p]) for p in views(rec, picture)]
    _, k0, v0 = encoded[0]
    cfg = replace(rec.beam, beam_width=NBEST, n_best=NBEST)
    others = replace(rec.beam, beam_width=VIEW_BEAM, n_best=VIEW_BEAM)
    pool: dict[str, tuple[Hypothesis, int, tuple[float, ...] | None]] = {}
    for rank, raw in enumerate(rec.search(k0, v0, cfg)[0]):
        h = rec.hypothesis(raw)
        pool.setdefault(h.latex, (h, rank, raw.logps))
    for h in reading.hypotheses:
        pool.setdefault(h.latex, (h, NBEST, None))
    seen = []
    for _, k, v in encoded[1:]:
        found = rec.decide(rec.search(k, v, others)[0])
        seen.append(found.best)
        for h in found.hypotheses:
            pool.setdefault(h.latex, (h, NBEST + 1, None))
    valid = [item for item in pool.values() if item[0].valid] or list(pool.values())
    known = [(item, token_ids(rec, item[0])) for item in valid]
    kept = [(item, found) for item, found in known if found is not None] or known[:1]
    items = [item for item, _ in kept]
    cands = [h for h, _, _ in items]
    ids = [found or [rec.beam.eos] for _, found in kept]
    total = np.array([sum(lp) if lp is not None else 0.0 for _, _, lp in items])
    low = np.array([min(lp) if lp else 0.0 for _, _, lp in items])
    missing = [i for i, (_, _, lp) in enumerate(items) if lp is None]
    if missing:
        total[missing], low[missing] = forced(rec, k0, v0, [ids[i] for i in missing])
    logp, weakest = [total], [low]
    for _, k, v in encoded[1:]:
        forced_total, forced_low = forced(rec, k, v, ids)
        logp.append(forced_total)
        weakest.append(forced_low)
    votes = np.array([[h.latex == s.latex for h in cands] for s in seen], np.float64)
    chosen = next((i for i, h in enumerate(cands) if h.latex == reading.latex), 0)
    ranks = [r for _, r, _ in items]
    return Measured(cands, chosen, ranks, np.array(logp), np.array(weakest), votes, kind)


def features(m: Measured) -> Floats:
    """One row per candidate: per view its summed log-probability less the best candidate's
    and its weakest token's; the mean of the former over the views; the views' votes; its beam
    rank (/ :data:`NBEST`); whether it is the reading's choice, and that choice's weakest token
    probability (log) and the picture's kind (one-hot); its length (log tokens); whether only a
    view's beam found it."""
    n = len(m.candidates)
    rel = m.logp - m.logp.max(axis=1, keepdims=True)
    rank = np.asarray(m.beam_rank, np.float64)
    chosen = (np.arange(n) == m.chosen).astype(np.float64)
    confidence = np.log(max(m.candidates[m.chosen].confidence, 1e-6))
    kinds = [chosen * float(m.kind == k) for k in KINDS]
    length = np.log([len(h.tokens) + 1.0 for h in m.candidates])
    cols = [*rel, *m.weakest, rel.mean(axis=0), m.votes.sum(axis=0), rank / NBEST, chosen]
    cols += [chosen * confidence, *kinds, length, (rank > NBEST).astype(np.float64)]
    return np.stack(cols, axis=1)


@dataclass(frozen=True)
class Reranker:
    """The fitted linear scorer of :func:`features` (standardized by ``mean``/``scale``) and
    the margin by which a candidate must outscore the reading's choice to replace it."""

    model_version: str
    weights: Floats
    mean: Floats
    scale: Floats
    margin: float
    fitted: dict[str, Any] = field(default_factory=dict)

    def pick(self, x: Floats, chosen: int) -> int:
        """Of candidates with features ``x``, the one to keep: the best-scoring one if it
        clears the margin over the reading's choice ``chosen``, else that one."""
        s = ((x - self.mean) / self.scale) @ self.weights
        best = int(np.argmax(s))
        return best if s[best] - s[chosen] > self.margin else chosen

    def choose(self, m: Measured) -> int:
        return self.pick(features(m), m.chosen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "views": list(VIEW_NAMES),
            "view_beam": VIEW_BEAM,
            "weights": [round(float(x), 6) for x in self.weights],
            "mean": [round(float(x), 6) for x in self.mean],
            "scale": [round(float(x), 6) for x in self.scale],
            "margin": self.margin,
            "fitted": self.fitted,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | None, model_version: str) -> Reranker | None:
        """The reranker fitted for this model and these views, else None (no re-ranking)."""
        found = path or packaged_weights()
        try:
            data = json.loads(found.read_text(encoding="utf-8"))
            made = cls(
                str(data["model_version"]),
                np.asarray(data["weights"], np.float64),
                np.asarray(data["mean"], np.float64),
                np.asarray(data["scale"], np.float64),
                float(data["margin"]),
                dict(data.get("fitted", {})),
            )
            views_match = tuple(data["views"]) == VIEW_NAMES and data["view_beam"] == VIEW_BEAM
        except (OSError, ValueError, KeyError, TypeError):
            return None
        same = made.model_version == model_version and views_match
        return made if same and made.weights.shape == made.mean.shape == made.scale.shape else None


Item = tuple[Floats, Floats, int]  # features, right (1/0) per candidate, the reading's choice


def fit(
    items: list[Item], l2: float, prior: Reranker | None = None
) -> tuple[Floats, Floats, Floats]:
    """(weights, mean, scale) of a conditional logit over each item's candidates (target: its
    right ones, equally; items with none are left out) on standardized features, with a ridge
    ``l2`` towards ``prior``'s weights (in its standardization) or towards 0; Newton steps."""
    used = [it for it in items if it[1].any()]
    x = np.concatenate([it[0] for it in used])
    if prior is not None:
        mean, scale, w0 = prior.mean, prior.scale, prior.weights
    else:
        mean, scale, w0 = x.mean(axis=0), x.std(axis=0) + 1e-6, np.zeros(x.shape[1])
    z = (x - mean) / scale
    target = np.concatenate([it[1] / it[1].sum() for it in used])
    sizes = np.array([len(it[1]) for it in used])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group = np.repeat(np.arange(len(used)), sizes)

    def loss_and_p(w: Floats) -> tuple[float, Floats]:
        s = z @ w
        top = np.maximum.reduceat(s, starts)
        e = np.exp(s - top[group])
        total = np.add.reduceat(e, starts)
        log_p = s - top[group] - np.log(total)[group]
        ridge = 0.5 * l2 * float((w - w0) @ (w - w0))
        return float(-(target * log_p).sum()) + ridge, np.exp(log_p)

    w = w0.copy()
    loss, p = loss_and_p(w)
    for _ in range(50):
        grad = z.T @ (p - target) + l2 * (w - w0)
        mass = np.add.reduceat(p[:, None] * z, starts)
        hess = z.T @ (p[:, None] * z) - mass.T @ mass + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        for _ in range(30):  # halve the Newton step until the loss falls
            new_loss, new_p = loss_and_p(w - step)
            if new_loss <= loss:
                break
            step = step / 2
        w, loss, p = w - step, new_loss, new_p
        if np.abs(step).max() < 1e-7:
            break
    return w, mean, scale


def packaged_weights() -> Path:
    return Path(str(resources.files("scipix") / "weights" / WEIGHTS_FILE))
