"""Metrics: 1.0 on identical input, and the values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scipix.training.metrics import (
    bleu4,
    constructs_of,
    edit_similarity,
    exact_match,
    images_match,
    length_bucket,
    levenshtein,
)


def test_identical_input_scores_one() -> None:
    refs = [["x", "^", "{", "2", "}", "+", "y"], ["\\frac", "{", "a", "}", "{", "b", "}"]]
    assert bleu4(refs, refs) == pytest.approx(1.0)
    assert all(edit_similarity(r, r) == 1.0 for r in refs)
    assert all(exact_match(r, r) for r in refs)
    assert edit_similarity([], []) == 1.0


def test_bleu_hand_computed() -> None:
    # reference a b c d e f (6 tokens); hypothesis a b c d e x (6 tokens)
    # clipped matches: 1-grams 5/6, 2-grams 4/5, 3-grams 3/4, 4-grams 2/3; no brevity penalty
    ref, hyp = list("abcdef"), list("abcdex")
    expected = math.exp((math.log(5 / 6) + math.log(4 / 5) + math.log(3 / 4) + math.log(2 / 3)) / 4)
    assert bleu4([ref], [hyp]) == pytest.approx(expected)


def test_bleu_brevity_penalty_and_clipping() -> None:
    # hypothesis a b c d (4) against reference a b c d e f g h (8): precisions all 1, BP = e^(1-2)
    assert bleu4([list("abcdefgh")], [list("abcd")]) == pytest.approx(math.exp(-1.0))
    # "a a a a a" against "a b c d e": the 1-gram count of "a" is clipped to 1 -> no 2-gram match
    assert bleu4([list("abcde")], [list("aaaaa")]) == 0.0


def test_bleu_is_corpus_level_not_a_mean_of_sentences() -> None:
    refs = [list("abcdef"), list("ghij")]
    hyps = [list("abcdef"), list("ghix")]
    # 1-grams 9/10, 2-grams 7/8, 3-grams 5/6, 4-grams 3/4 over the corpus
    expected = math.exp(sum(math.log(p) for p in (9 / 10, 7 / 8, 5 / 6, 3 / 4)) / 4)
    assert bleu4(refs, hyps) == pytest.approx(expected)
    with pytest.raises(ValueError):
        bleu4(refs, hyps[:1])


def test_edit_similarity_hand_computed() -> None:
    assert edit_similarity(list("kitten"), list("sitting")) == pytest.approx(1 - 3 / 7)
    assert edit_similarity(["a"], []) == 0.0
    assert edit_similarity(list("abc"), list("abd")) == pytest.approx(2 / 3)
    assert not exact_match(list("abc"), list("abd"))


def reference_levenshtein(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


@given(
    st.lists(st.sampled_from("abcd"), max_size=12), st.lists(st.sampled_from("abcd"), max_size=12)
)
def test_levenshtein_agrees_with_the_textbook_recurrence(a: list[str], b: list[str]) -> None:
    assert levenshtein(a, b) == reference_levenshtein(a, b)


def test_constructs_and_length_buckets() -> None:
    tokens = ["\\frac", "{", "1", "}", "{", "x", "}", "\\\\", "\\begin{pmatrix}", "\\left("]
    assert constructs_of(tokens) == ("fraction", "matrix", "multi_line", "delimiter")
    assert constructs_of(["x", "\\leftarrow", "y"]) == ("plain",)
    assert [length_bucket(n) for n in (1, 20, 21, 150, 151)] == [
        "1-20",
        "1-20",
        "21-50",
        "101-150",
        "151+",
    ]


def test_images_match_ignores_blank_columns_only() -> None:
    a = np.full((10, 30), 255, np.uint8)
    a[2:8, 2:5] = 0
    a[2:8, 10:13] = 0
    b = np.full((10, 30), 255, np.uint8)
    b[2:8, 2:5] = 0
    b[2:8, 7:10] = 0  # the same two strokes, closer together
    assert images_match(a, b)
    c = b.copy()
    c[2:8, 14:17] = 0  # a third stroke
    assert not images_match(a, c)
