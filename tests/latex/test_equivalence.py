"""equivalent(): which level decides, and the time limit on SymPy."""

from __future__ import annotations

import time

import pytest

from scipix.latex import Equivalence, equivalent
from scipix.latex import equivalence as module


@pytest.mark.parametrize(
    ("a", "b"),
    [("x^2", "x^{2}"), ("\\frac12", "\\frac{1}{2}"), ("a \\le b", "a\\leq b"), ("x\\,y", "xy")],
)
def test_same_canonical_form_is_exact(a: str, b: str) -> None:
    assert equivalent(a, b) == Equivalence(True, "exact", "same canonical form")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("a+b", "b+a"),
        ("(x+1)^2", "x^2+2x+1"),
        ("\\frac{1}{2}", "0.5"),
        ("\\sin^2 x + \\cos^2 x", "1"),
        ("x = 1", "1 = x"),
        ("x < 1", "1 > x"),
        ("\\sqrt{4}", "2"),
        ("a \\cdot b", "b a"),
        ("\\frac{x^2-1}{x-1}", "x+1"),
    ],
)
def test_symbolic_equality(a: str, b: str) -> None:
    result = equivalent(a, b)
    assert (result.equal, result.level) == (True, "symbolic"), result


@pytest.mark.parametrize(
    ("a", "b"), [("x+1", "x+2"), ("x^2", "x^3"), ("x = 1", "x = 2"), ("x < 1", "x > 1")]
)
def test_symbolic_difference(a: str, b: str) -> None:
    result = equivalent(a, b)
    assert (result.equal, result.level) == (False, "symbolic"), result


def test_nothing_decides_for_unsupported_or_malformed_input() -> None:
    result = equivalent("\\int x\\,dx", "\\int y\\,dy")
    assert (result.equal, result.level) == (False, "none")
    assert "not comparable" in result.reason
    result = equivalent("x^", "x")
    assert (result.equal, result.level) == (False, "none")
    assert result.reason.startswith("does not parse")


def test_a_slow_comparison_is_stopped_at_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(a: object, b: object) -> tuple[bool, str]:
        time.sleep(30)
        return True, "never"

    monkeypatch.setattr(module, "compare", slow)
    # the conversion to SymPy runs in the child too, under the same limit
    start = time.perf_counter()
    result = equivalent("a+b", "b+a", timeout_s=0.5)
    assert time.perf_counter() - start < 5
    assert result == Equivalence(False, "none", "symbolic comparison timed out after 0.5 s")


def test_a_huge_sum_is_stopped_at_the_time_limit() -> None:
    start = time.perf_counter()
    result = equivalent("+".join(["x"] * 20000), "+".join(["y"] * 20000), timeout_s=1.0)
    assert time.perf_counter() - start < 8
    assert not result.equal
