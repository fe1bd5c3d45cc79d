"""Benchmark of the LaTeX core over the training corpora (one core, one process).

Measures, per corpus of ``../shared/data/train`` (the ``*.txt`` files and the ``labels.tsv`` of
the paired sets):

- the share of formulas that parse (normalize without error) and that validate (no issue at
  all, unknown commands included);
- that normalize is idempotent and ``detokenize(model_tokens(s))`` normalizes back to
  ``normalize(s)`` on every formula that parses, and that no model token holds whitespace;
- formulas/second for tokenize+parse+normalize and for MathML conversion.

Usage: ``python benchmarks/latex_core.py [--data DIR] [--json] [--check]``; ``--check`` exits
with 1 when a target is missed (>= 99.5 % parse on every corpus, >= 5,000 formulas/s for
parse+normalize, no idempotence or round-trip failure).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scipix.errors import LatexError
from scipix.latex import detokenize, model_tokens, normalize, to_mathml, validate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "train"
PARSE_TARGET = 0.995
SPEED_TARGET = 5000.0


@dataclass
class CorpusResult:
    name: str
    formulas: int
    parsed: int = 0
    valid: int = 0
    not_idempotent: list[str] = field(default_factory=list)
    not_round_trip: list[str] = field(default_factory=list)
    whitespace_tokens: list[str] = field(default_factory=list)
    normalize_per_s: float = 0.0
    mathml_per_s: float = 0.0

    @property
    def parse_share(self) -> float:
        return self.parsed / self.formulas if self.formulas else 1.0

    @property
    def valid_share(self) -> float:
        return self.valid / self.formulas if self.formulas else 1.0


def load_corpora(data: Path) -> dict[str, list[str]]:
    corpora: dict[str, list[str]] = {}
    for path in sorted(data.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        corpora[path.name] = [line for line in lines if line.strip()]
    for path in sorted(data.glob("*/labels.tsv")):
        rows = path.read_text(encoding="utf-8").splitlines()
        corpora[f"{path.parent.name}/labels.tsv"] = [
            row.split("\t", 1)[1] for row in rows if "\t" in row
        ]
    return corpora


def timed(formulas: list[str], convert: Callable[[str], object]) -> float:
    """Formulas per second of ``convert`` over ``formulas`` (errors included in the time)."""
    start = time.perf_counter()
    for formula in formulas:
        with contextlib.suppress(LatexError):
            convert(formula)
    elapsed = time.perf_counter() - start
    return len(formulas) / elapsed if elapsed > 0 else float("inf")


def measure(name: str, formulas: list[str]) -> CorpusResult:
    result = CorpusResult(name, len(formulas))
    result.normalize_per_s = timed(formulas, normalize)
    result.mathml_per_s = timed(formulas, to_mathml)
    for formula in formulas:
        try:
            canonical = normalize(formula)
        except LatexError:
            continue
        result.parsed += 1
        if not validate(formula):
            result.valid += 1
        if normalize(canonical) != canonical:
            result.not_idempotent.append(formula)
        tokens = model_tokens(formula)
        if any(any(char.isspace() for char in token) for token in tokens):
            result.whitespace_tokens.append(formula)
        if normalize(detokenize(tokens)) != canonical:
            result.not_round_trip.append(formula)
    return result


def report(results: list[CorpusResult]) -> None:
    header = (
        f"{'corpus':26} {'formulas':>8} {'parse':>8} {'valid':>8} {'norm/s':>8} {'mathml/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:26} {r.formulas:8d} {100 * r.parse_share:7.2f}% {100 * r.valid_share:7.2f}%"
            f" {r.normalize_per_s:8.0f} {r.mathml_per_s:9.0f}"
        )
    total = sum(r.formulas for r in results)
    norm_rate = total / sum(r.formulas / r.normalize_per_s for r in results)
    mathml_rate = total / sum(r.formulas / r.mathml_per_s for r in results)
    parsed = sum(r.parsed for r in results)
    print("-" * len(header))
    print(
        f"{'all':26} {total:8d} {100 * parsed / total:7.2f}%"
        f" {100 * sum(r.valid for r in results) / total:7.2f}% {norm_rate:8.0f} {mathml_rate:9.0f}"
    )
    for label, attribute in (
        ("not idempotent", "not_idempotent"),
        ("round trip fails", "not_round_trip"),
        ("whitespace in a token", "whitespace_tokens"),
    ):
        failures = [f for r in results for f in getattr(r, attribute)]
        print(f"{label}: {len(failures)}" + (f" (e.g. {failures[0]!r})" if failures else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="corpora directory")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    corpora = load_corpora(args.data)
    if not corpora:
        print(f"no corpora under {args.data}", file=sys.stderr)
        return 2
    results = [measure(name, formulas) for name, formulas in corpora.items()]
    if args.json:
        rows = []
        for r in results:
            row = asdict(r)
            row.update(parse_share=r.parse_share, valid_share=r.valid_share)
            for key in ("not_idempotent", "not_round_trip", "whitespace_tokens"):
                row[key] = len(row[key])
            rows.append(row)
        print(json.dumps(rows, indent=2))
    else:
        report(results)
    total = sum(r.formulas for r in results)
    norm_rate = total / sum(r.formulas / r.normalize_per_s for r in results)
    missed = [r.name for r in results if r.parse_share < PARSE_TARGET]
    broken = sum(
        len(r.not_idempotent) + len(r.not_round_trip) + len(r.whitespace_tokens) for r in results
    )
    ok = not missed and norm_rate >= SPEED_TARGET and broken == 0
    if args.check and not ok:
        print(
            f"targets missed: parse<{PARSE_TARGET:.1%} in {missed}, "
            f"{norm_rate:.0f} formulas/s (target {SPEED_TARGET:.0f}), {broken} failures",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
