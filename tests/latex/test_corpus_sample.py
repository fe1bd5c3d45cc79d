"""Properties that must hold on every formula of the corpora (here: the committed sample).

benchmarks/latex_core.py checks the same properties on the full training corpora.
"""

from __future__ import annotations

from scipix.latex import NormalizeOptions, detokenize, model_tokens, normalize, validate


def test_every_sample_formula_parses_and_validates(corpus_sample: list[str]) -> None:
    assert len(corpus_sample) >= 500
    problems = {s: validate(s) for s in corpus_sample}
    assert {s: p for s, p in problems.items() if p} == {}


def test_normalize_is_idempotent(corpus_sample: list[str]) -> None:
    failures = []
    for formula in corpus_sample:
        once = normalize(formula)
        if normalize(once) != once:
            failures.append((formula, once, normalize(once)))
    assert failures == []


def test_lossy_label_normalization_is_idempotent(corpus_sample: list[str]) -> None:
    options = NormalizeOptions.for_labels(drop_text_spaces=True)
    failures = []
    for formula in corpus_sample:
        once = normalize(formula, options)
        if normalize(once, options) != once:
            failures.append((formula, once))
    assert failures == []


def test_model_tokens_round_trip_and_hold_no_whitespace(corpus_sample: list[str]) -> None:
    for formula in corpus_sample:
        tokens = model_tokens(formula)
        assert not [t for t in tokens if any(c.isspace() for c in t)], formula
        assert normalize(detokenize(tokens)) == normalize(formula), formula
        assert detokenize(tokens) == normalize(formula), formula


def test_the_vocabulary_stays_small(corpus_sample: list[str]) -> None:
    options = NormalizeOptions.for_labels(drop_text_spaces=True)
    vocabulary = {t for formula in corpus_sample for t in model_tokens(formula, options)}
    assert len(vocabulary) < 400
    assert all(len(t) == 1 or t.startswith("\\") for t in vocabulary)
