"""What strategies pay is learned from trajectories; merged hypotheses keep the beam's rule."""

from __future__ import annotations

from scipix.learning.strategies import MIN_TRIES, StrategyStats, merge
from scipix.recognition.reading import Hypothesis, Reading


def test_a_strategy_that_never_pays_on_a_kind_is_dropped_for_that_kind() -> None:
    useless = [("handwriting", [{"name": "rerank", "changed": False, "ms": 300.0}])] * MIN_TRIES
    paying = [("paper", [{"name": "rerank", "changed": True, "ms": 200.0}])] * 10
    wide = [("paper", [{"name": "wide_beam", "changed": False, "ms": 500.0}])] * 10
    stats = StrategyStats.learn(useless + paying + wide)
    assert "rerank" not in stats.order("handwriting")
    assert stats.order("paper") == ["rerank", "tta_rerank", "wide_beam"]  # what paid first
    assert stats.order("render") == ["wide_beam", "rerank", "tta_rerank"]  # nothing learned
    assert stats.cost("paper", "rerank") == 200.0
    table = {(r["kind"], r["strategy"]): r for r in stats.table()}
    assert table[("handwriting", "rerank")]["tries"] == MIN_TRIES


def hyp(latex: str, score: float, valid: bool = True) -> Hypothesis:
    return Hypothesis(latex, tuple(latex), score, (0.9,) * len(latex), valid)


def test_merge_keeps_each_latex_once_and_chooses_the_best_valid() -> None:
    narrow = Reading((hyp("a", -0.5, valid=False), hyp("b", -0.7)), chosen=1)
    wide = Reading((hyp("c", -0.4), hyp("b", -0.6), hyp("a", -0.9, valid=False)), chosen=0)
    merged = merge(narrow, wide)
    assert [h.latex for h in merged.hypotheses] == ["c", "a", "b"]
    assert merged.latex == "c" and merged.hypotheses[2].score == -0.6
