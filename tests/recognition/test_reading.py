"""A reading stands for its chosen hypothesis; its confidences come from the token probabilities."""

from __future__ import annotations

import pytest

from scipix.recognition import Hypothesis, Reading

INVALID = Hypothesis("a+{", ("a", "+", "{"), -0.1, (0.9, 0.92, 0.7), False)
VALID = Hypothesis("a+b", ("a", "+", "b"), -0.3, (0.5, 0.9, 0.7), True)
OTHER = Hypothesis("a", ("a",), -0.9, (0.2,), True)


def test_a_reading_is_its_chosen_hypothesis_listed_first() -> None:
    reading = Reading((INVALID, VALID, OTHER), chosen=1, handwritten=0.1)
    assert reading.latex == "a+b" and reading.valid and reading.tokens == VALID.tokens
    assert reading.confidence == 0.5 and reading.confidence_rate == pytest.approx(0.7)
    assert reading.candidates == (VALID, INVALID, OTHER)  # the rest keep their beam order


def test_confidence_is_the_weakest_token_and_rate_the_mean() -> None:
    assert INVALID.confidence == 0.7 and INVALID.confidence_rate == pytest.approx(0.84)
    empty = Hypothesis("", (), 0.0, (), False)
    assert empty.confidence == 0.0 and empty.confidence_rate == 0.0


def test_the_chosen_hypothesis_must_be_one_of_them() -> None:
    with pytest.raises(ValueError, match="chosen=2"):
        Reading((VALID, OTHER), chosen=2)
