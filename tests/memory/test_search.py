"""Finding readings again: LaTeX embeddings, formula search (similar, exact, symbolic),
frequent sub-expressions, and `scipix memory` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scipix.cli.app import app
from scipix.errors import LatexError
from scipix.memory import MemoryStore, latex_embedding
from scipix.memory.cache import CacheKey, ResultCache
from scipix.memory.embedding import ink_thumbnail
from scipix.memory.patterns import mine
from scipix.memory.search import search_formula
from scipix.schema import Result
from scipix.settings.model import MemorySettings

READINGS = [
    r"\int_{0}^{1}x^{2}dx",
    r"x^{2}+2x+1",
    r"\frac{a}{b}+\frac{c}{d}",
    r"\sum_{i=1}^{n}i^{2}",
    r"e^{i\pi}+1=0",
    r"\int_{0}^{1}f(x)dx",
]


def remember_all(store: MemoryStore, scope: str = "local") -> None:
    cache = ResultCache(store, MemorySettings())
    rng = np.random.default_rng(0)
    blank = ink_thumbnail(np.full((20, 60), 255, np.uint8))
    for i, latex in enumerate(READINGS):
        result = Result(latex_styled=latex, text=f"\\({latex}\\)")
        vec = rng.normal(size=256).astype(np.float32)
        cache.remember(CacheKey(scope, "ctx", f"pixels{i}"), vec, blank, result)


def test_latex_embedding_ignores_spelling_and_sees_structure() -> None:
    a = latex_embedding(r"\int_0^1 x^2\,dx")
    assert float(a @ latex_embedding(r"\int_{0}^{1} x^{2} dx")) == pytest.approx(1.0, abs=1e-6)
    near = float(a @ latex_embedding(r"\int_0^1 x^3\,dx"))
    far = float(a @ latex_embedding(r"\sum_{i=1}^n i^2"))
    assert near > 0.7 > far
    assert np.linalg.norm(latex_embedding("x", 64)) == pytest.approx(1.0)


def test_formula_search_puts_equivalent_readings_first(store: MemoryStore) -> None:
    remember_all(store)
    found = search_formula(store, r"\int_0^1 x^2\,dx", 3, scope="local", dim=256)
    assert found[0].latex == READINGS[0] and found[0].match == "exact"
    assert found[1].latex == READINGS[5] and found[1].match == "similar"
    (first, *_) = search_formula(store, "(x+1)^2", 3, scope="local", dim=256)
    assert first.latex == READINGS[1] and first.match == "symbolic"
    assert search_formula(store, "x^2", 3, scope="nobody", dim=256) == []
    with pytest.raises(LatexError):
        search_formula(store, r"\frac{a", 3, scope="local", dim=256)


def test_patterns_are_the_recurring_sub_expressions() -> None:
    found = {p.latex: p.support for p in mine(READINGS, min_support=2)}
    assert found[r"\int_{0}^{1}"] == 2
    assert "{1}" not in found and "^{2}" not in found  # no bare arguments or scripts


def test_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "memory"
    with MemoryStore.open(directory) as store:
        remember_all(store)
    monkeypatch.setenv("SCIPIX_MEMORY__DIR", str(directory))
    runner = CliRunner()
    run = runner.invoke(app, ["memory", "search", r"\int_0^1 x^2\,dx", "--k", "2", "--json"])
    assert run.exit_code == 0, run.output
    hits = json.loads(run.stdout)
    assert [h["latex"] for h in hits] == [READINGS[0], READINGS[5]]
    assert hits[0]["match"] == "exact"
    run = runner.invoke(app, ["memory", "stats", "--json"])
    assert run.exit_code == 0, run.output
    stats = json.loads(run.stdout)
    assert stats["kinds"]["reading"]["entries"] == len(READINGS)
    assert stats["kinds"]["result"]["scopes"] == {"local": len(READINGS)}
    run = runner.invoke(app, ["memory", "patterns", "--json"])
    assert run.exit_code == 0, run.output
    assert {"latex": r"\int_{0}^{1}", "support": 2, "tokens": 9} in json.loads(run.stdout)[
        "patterns"
    ]
    run = runner.invoke(app, ["memory", "search", r"\frac{a"])
    assert isinstance(run.exception, LatexError)  # `scipix` prints it: error: math_syntax: ...
