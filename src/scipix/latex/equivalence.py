"""Same mathematics, different spelling: :func:`equivalent`.

Three levels, the first that decides wins:

``exact``     the canonical forms are equal (spacing, styles and old font switches ignored);
``symbolic``  both sides are expressions (or relations) SymPy can compare: the difference
              simplifies to zero, or is non-zero at random points; run in a child process
              killed after ``timeout_s``;
``none``      nothing could decide (a side does not parse, or uses what SymPy is not given):
              ``equal`` is False.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from scipix.errors import LatexError
from scipix.latex.nodes import Group
from scipix.latex.normalize import NormalizeOptions, normalize
from scipix.latex.parser import parse

Level = Literal["exact", "symbolic", "none"]
_COMPARE_OPTIONS = NormalizeOptions.for_labels()


@dataclass(frozen=True)
class Equivalence:
    """The verdict: ``equal``, the ``level`` that decided it and why."""

    equal: bool
    level: Level
    reason: str


def equivalent(a: str, b: str, timeout_s: float = 2.0) -> Equivalence:
    """Are ``a`` and ``b`` the same formula? Never raises for malformed input."""
    try:
        canonical_a = normalize(a, _COMPARE_OPTIONS)
        canonical_b = normalize(b, _COMPARE_OPTIONS)
    except LatexError as exc:
        return Equivalence(False, "none", f"does not parse: {exc.message}")
    if canonical_a == canonical_b:
        return Equivalence(True, "exact", "same canonical form")
    outcome = _run_with_timeout(parse(a), parse(b), timeout_s)
    if outcome is None:
        return Equivalence(False, "none", f"symbolic comparison timed out after {timeout_s} s")
    return outcome


def symbolic(tree_a: Group, tree_b: Group) -> Equivalence:
    """Convert both trees to SymPy and compare them (no time limit: run it in a child)."""
    from scipix.latex.sympy_tree import UnsupportedError, to_sympy

    try:
        expr_a = to_sympy(tree_a)
        expr_b = to_sympy(tree_b)
    except (UnsupportedError, TypeError, ValueError, ZeroDivisionError) as exc:
        return Equivalence(False, "none", f"not comparable symbolically ({exc})")
    equal, reason = compare(expr_a, expr_b)
    return Equivalence(equal, "symbolic", reason)


def _run_with_timeout(a: Group, b: Group, timeout_s: float) -> Equivalence | None:
    """``symbolic(a, b)`` in a forked child, or None when it does not finish in time."""
    import multiprocessing  # only when comparing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: compare in-process, unguarded
        return symbolic(a, b)
    # Import SymPy here, once, so that forked children inherit it: the time limit is for the
    # comparison, not for a first import that takes seconds on a loaded machine.
    import sympy  # noqa: F401

    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(a, b, sender), daemon=True)
    child.start()
    sender.close()
    try:
        if receiver.poll(timeout_s):
            result: Equivalence = receiver.recv()
            return result
        return None
    except EOFError:
        return None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(1.0)


def _child(a: Group, b: Group, sender: Any) -> None:
    try:
        sender.send(symbolic(a, b))
    except Exception as exc:  # report, never hang the parent
        sender.send(Equivalence(False, "none", f"comparison failed: {type(exc).__name__}"))
    finally:
        sender.close()


def compare(a: Any, b: Any) -> tuple[bool, str]:
    """Symbolic comparison of two SymPy expressions or relations (no time limit)."""
    import sympy

    relation = sympy.core.relational.Relational
    relational = (isinstance(a, relation), isinstance(b, relation))
    if relational[0] != relational[1]:
        return False, "one side is a relation, the other an expression"
    if not relational[0]:
        return _same_value(a - b, "difference")
    flipped = {sympy.Lt: sympy.Gt, sympy.Gt: sympy.Lt, sympy.Le: sympy.Ge, sympy.Ge: sympy.Le}
    da, db = a.lhs - a.rhs, b.lhs - b.rhs
    if type(a) is type(b):
        equal, reason = _same_value(da - db, "difference of the sides")
        if equal or type(a) not in (sympy.Eq, sympy.Ne):
            return equal, reason
        return _same_value(da + db, "difference of the swapped sides")
    if flipped.get(type(a)) is type(b):
        return _same_value(da + db, "difference of the swapped sides")
    return False, f"different relations ({type(a).__name__} and {type(b).__name__})"


def _same_value(difference: Any, what: str) -> tuple[bool, str]:
    import sympy

    simplified = sympy.simplify(difference)
    if simplified == 0:
        return True, f"the {what} simplifies to 0"
    symbols = sorted(simplified.free_symbols, key=str)
    if not symbols:
        return False, f"the {what} is {simplified}, not 0"
    rng = random.Random(0)
    for _ in range(6):
        point = {s: rng.uniform(0.1, 2.0) for s in symbols}
        value = complex(simplified.evalf(subs=point))
        if abs(value) > 1e-8:
            return False, f"the {what} is non-zero (e.g. {value.real:.4g} at a random point)"
    return True, f"the {what} vanishes at 6 random points"
