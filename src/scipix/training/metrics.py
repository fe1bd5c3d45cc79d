"""Scores of recognized LaTeX against labels, over model tokens.

The three numbers the im2latex papers report: exact match after normalization, corpus BLEU-4
over tokens (uniform weights, brevity penalty, no smoothing: the ``multi-bleu``/NLTK
``corpus_bleu`` definition), and token edit similarity ``1 - Levenshtein / max(len)``; plus
what the evaluation breaks them down by (label length, constructs) and the image comparison of
the rendered match.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

BLEU_ORDER = 4


def exact_match(reference: Sequence[str], hypothesis: Sequence[str]) -> bool:
    """True when the two (normalized) token sequences are identical."""
    return list(reference) == list(hypothesis)


def ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    """The multiset of n-grams of ``tokens``."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu4(references: list[list[str]], hypotheses: list[list[str]]) -> float:
    """Corpus BLEU-4 in 0..1: clipped n-gram precisions summed over the corpus, geometric
    mean with uniform weights, times the brevity penalty ``exp(1 - r/c)`` when ``c < r``.

    Zero when any n-gram order has no match (no smoothing), as in the published tables.
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    matched = [0] * BLEU_ORDER
    total = [0] * BLEU_ORDER
    ref_length = hyp_length = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        ref_length += len(ref)
        hyp_length += len(hyp)
        for n in range(1, BLEU_ORDER + 1):
            hyp_counts = ngrams(hyp, n)
            ref_counts = ngrams(ref, n)
            matched[n - 1] += sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
            total[n - 1] += max(len(hyp) - n + 1, 0)
    if hyp_length == 0 or any(m == 0 for m in matched):
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matched, total, strict=True))
    brevity = 1.0 if hyp_length >= ref_length else math.exp(1.0 - ref_length / hyp_length)
    return brevity * math.exp(log_precision / BLEU_ORDER)


def levenshtein(a: Sequence[str], b: Sequence[str]) -> int:
    """Token edit distance (insert, delete, substitute; each costs 1).

    One numpy pass per token of ``a``: substitutions and deletions are vectorized, and the
    insertion chain along the row is a running minimum of ``row[j] - j``.
    """
    if not a or not b:
        return max(len(a), len(b))
    vocabulary: dict[str, int] = {}
    a_ids = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in a])
    b_ids = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in b])
    columns = np.arange(len(b) + 1)
    row = columns.copy()
    for i, token in enumerate(a_ids, start=1):
        candidate = np.empty_like(row)
        candidate[0] = i
        candidate[1:] = np.minimum(row[1:] + 1, row[:-1] + (b_ids != token))
        row = np.minimum.accumulate(candidate - columns) + columns
    return int(row[-1])


def edit_similarity(a_tokens: Sequence[str], b_tokens: Sequence[str]) -> float:
    """``1 - levenshtein / max(len)``: 1.0 for identical sequences (two empty ones included)."""
    longest = max(len(a_tokens), len(b_tokens))
    if longest == 0:
        return 1.0
    return 1.0 - levenshtein(a_tokens, b_tokens) / longest


#: Upper bounds of the label-length buckets (in tokens) of the evaluation breakdown.
LENGTH_BUCKETS: tuple[int, ...] = (20, 50, 100, 150)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ENVIRONMENTS = "matrix pmatrix bmatrix vmatrix Bmatrix Vmatrix smallmatrix array"
#: construct -> the tokens that mark it (``\\begin{name`` and ``\\left`` match as prefixes).
CONSTRUCTS: dict[str, tuple[str, ...]] = {
    "fraction": _words(r"\frac \dfrac \tfrac \cfrac \over \binom"),
    "root": ("\\sqrt",),
    "script": ("^", "_"),
    "big_operator": _words(r"\sum \prod \int \iint \oint \lim \bigcup \bigcap"),
    "matrix": tuple("\\begin{" + name for name in _words(_ENVIRONMENTS)),
    "cases": ("\\begin{cases",),
    "multi_line": ("\\\\",),
    "accent": _words(r"\hat \bar \vec \tilde \dot \ddot \overline \underline \widehat \widetilde"),
    "font": _words(
        r"\mathbf \mathrm \mathcal \mathbb \mathit \mathsf \mathfrak \mathscr \mathtt"
        r" \boldsymbol"
    ),
    "delimiter": ("\\left",),
    "text": _words(r"\text \mbox \textrm \textbf \textit \operatorname"),
}


def _prefix(marker: str) -> bool:
    """Markers that start a longer token: ``\\left(``, ``\\begin{array}``."""
    return marker == "\\left" or marker.startswith("\\begin{")


def constructs_of(tokens: Sequence[str]) -> tuple[str, ...]:
    """The constructs a token sequence uses (``plain`` when none)."""
    found = [
        name
        for name, markers in CONSTRUCTS.items()
        if any(
            t == m or (_prefix(m) and t.startswith(m) and not t[len(m) : len(m) + 1].isalpha())
            for t in tokens
            for m in markers
        )
    ]
    return tuple(found) or ("plain",)


def length_bucket(n: int) -> str:
    low = 1
    for high in LENGTH_BUCKETS:
        if n <= high:
            return f"{low}-{high}"
        low = high + 1
    return f"{low}+"


def images_match(a: np.ndarray, b: np.ndarray) -> bool:
    """Same rendering up to blank columns: binarize, drop all-white columns, compare with a
    one-pixel tolerance in size and 1 % of the ink."""
    a, b = _squash(a), _squash(b)
    if abs(a.shape[0] - b.shape[0]) > 1 or abs(a.shape[1] - b.shape[1]) > 1:
        return False
    h, w = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])
    canvas_a, canvas_b = np.zeros((h, w), bool), np.zeros((h, w), bool)
    canvas_a[: a.shape[0], : a.shape[1]] = a
    canvas_b[: b.shape[0], : b.shape[1]] = b
    differing = int(np.count_nonzero(canvas_a ^ canvas_b))
    return differing <= max(2, 0.01 * int(np.count_nonzero(canvas_a | canvas_b)))


def _squash(image: np.ndarray) -> np.ndarray:
    ink = image < 128
    return ink[:, ink.any(axis=0)]
