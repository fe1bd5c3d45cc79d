"""A random grammar of well-formed formulas, to fill the corpora's gaps.

The corpora are thin on some constructs (matrices, cases, aligned multi-line formulas, nested
fractions and roots, big operators with limits, accents, font commands, long sequences). The
generator draws them on purpose: each construct has a weight, a term of an expression picks a
construct by weight, and recursion stops at ``max_depth``. Output is plain LaTeX with braced
arguments; run it through the normalizer before use as a label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

LOWER = tuple("abcdefghijklmnopqrstuvwxyz")
UPPER = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_GREEK_NAMES = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu"
    " nu xi pi rho varrho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta"
    " Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
)
GREEK = tuple("\\" + name for name in _GREEK_NAMES.split())
SYMBOLS = ("\\infty", "\\partial", "\\nabla", "\\hbar", "\\ell", "\\emptyset")
BINARY = ("+", "-", "+", "-", "\\pm", "\\times", "\\cdot", "/", "\\cup", "\\cap", "\\oplus")
RELATIONS = (
    "=", "=", "=", "<", ">", "\\leq", "\\geq", "\\neq", "\\approx", "\\equiv", "\\sim",
    "\\in", "\\subset", "\\subseteq", "\\to", "\\Rightarrow", "\\Leftrightarrow", "\\propto",
)  # fmt: skip
FUNCTIONS = ("\\sin", "\\cos", "\\tan", "\\log", "\\ln", "\\exp", "\\det", "\\arctan", "\\sinh")
BIG_OPERATORS = ("\\sum", "\\sum", "\\prod", "\\int", "\\int", "\\oint", "\\bigcup", "\\bigoplus")
ACCENTS = ("\\hat", "\\bar", "\\vec", "\\tilde", "\\dot", "\\ddot", "\\overline", "\\widehat")
FONTS = ("\\mathbf", "\\mathrm", "\\mathcal", "\\mathbb", "\\mathit", "\\mathsf", "\\mathfrak")
DELIMITERS = (("(", ")"), ("[", "]"), ("\\{", "\\}"), ("|", "|"), ("\\langle", "\\rangle"))
MATRICES = ("pmatrix", "bmatrix", "vmatrix", "matrix", "Bmatrix")

#: Relative weight of each construct as a term of an expression.
DEFAULT_WEIGHTS: dict[str, float] = {
    "atom": 6.0,
    "number": 2.0,
    "script": 3.0,
    "fraction": 1.6,
    "nested_fraction": 0.5,
    "root": 0.9,
    "big_operator": 1.0,
    "limit": 0.3,
    "accent": 0.8,
    "font": 0.8,
    "delimited": 1.2,
    "function": 0.8,
    "binomial": 0.2,
    "matrix": 0.35,
    "cases": 0.2,
    "array": 0.15,
}
#: Relative weight of each formula shape at the top level.
DEFAULT_SHAPES: dict[str, float] = {
    "equation": 6.0,
    "expression": 2.0,
    "long_sequence": 1.0,
    "aligned": 0.8,
    "cases_definition": 0.5,
    "matrix_equation": 0.5,
}


@dataclass
class FormulaGenerator:
    """Draws random well-formed formulas; every choice comes from the generator passed in."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    shapes: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SHAPES))
    max_depth: int = 3
    max_chars: int = 400

    def __post_init__(self) -> None:
        unknown = (set(self.weights) - set(DEFAULT_WEIGHTS)) | (
            set(self.shapes) - set(DEFAULT_SHAPES)
        )
        if unknown:
            raise ValueError(f"unknown constructs: {', '.join(sorted(unknown))}")
        self._terms = _table(self.weights)
        self._light = _table({k: v for k, v in self.weights.items() if k not in HEAVY})
        self._shapes = _table(self.shapes)

    def sample(self, n: int, seed: int = 0) -> list[str]:
        """``n`` formulas, the same for the same seed."""
        rng = np.random.default_rng(seed)
        return [self.formula(rng) for _ in range(n)]

    def formula(self, rng: np.random.Generator) -> str:
        """One formula no longer than ``max_chars`` (drawn again until it fits)."""
        for _ in range(20):
            shape = _pick(self._shapes, rng)
            text = getattr(self, f"_shape_{shape}")(rng)
            if len(text) <= self.max_chars:
                return str(text)
        return self.atom(rng)

    # -- top-level shapes ------------------------------------------------------------------

    def _shape_equation(self, rng: np.random.Generator) -> str:
        parts = [self.expression(rng, 0)]
        for _ in range(int(rng.integers(1, 3))):
            parts += [_choice(rng, RELATIONS), self.expression(rng, 0)]
        return " ".join(parts)

    def _shape_expression(self, rng: np.random.Generator) -> str:
        return self.expression(rng, 0)

    def _shape_long_sequence(self, rng: np.random.Generator) -> str:
        terms = [self.term(rng, self.max_depth - 1) for _ in range(int(rng.integers(8, 20)))]
        joiners = [_choice(rng, (*BINARY, ",", ",", "=")) for _ in terms[1:]]
        return terms[0] + "".join(f" {j} {t}" for j, t in zip(joiners, terms[1:], strict=True))

    def _shape_aligned(self, rng: np.random.Generator) -> str:
        lines = []
        for i in range(int(rng.integers(2, 5))):
            left = self.expression(rng, 1) if i == 0 or rng.random() < 0.4 else ""
            lines.append(f"{left} &{_choice(rng, RELATIONS[:6])} {self.expression(rng, 1)}")
        return "\\begin{aligned} " + " \\\\ ".join(lines) + " \\end{aligned}"

    def _shape_cases_definition(self, rng: np.random.Generator) -> str:
        name = f"{self.atom(rng)} ( {_choice(rng, LOWER)} )"
        return f"{name} = {self.cases(rng, 1)}"

    def _shape_matrix_equation(self, rng: np.random.Generator) -> str:
        return f"{self.matrix(rng, 1)} {_choice(rng, RELATIONS[:3])} {self.matrix(rng, 1)}"

    # -- expressions and terms -------------------------------------------------------------

    def expression(self, rng: np.random.Generator, depth: int) -> str:
        count = int(rng.integers(1, 5 if depth == 0 else 3))
        text = self.term(rng, depth)
        for _ in range(count - 1):
            joiner = _choice(rng, BINARY) if rng.random() < 0.7 else ""
            text += f" {joiner} {self.term(rng, depth)}" if joiner else f" {self.term(rng, depth)}"
        return text

    def term(self, rng: np.random.Generator, depth: int) -> str:
        if depth >= self.max_depth:
            return self.atom(rng) if rng.random() < 0.8 else self.number(rng)
        construct = _pick(self._terms if depth == 0 else self._light, rng)
        method: Callable[[np.random.Generator, int], str] = getattr(self, construct)
        return method(rng, depth + 1) if construct not in ("atom", "number") else method(rng, 0)

    def atom(self, rng: np.random.Generator, depth: int = 0) -> str:
        pool = (LOWER, LOWER, UPPER, GREEK, SYMBOLS)[int(rng.choice(5, p=_ATOM_P))]
        return _choice(rng, pool)

    def number(self, rng: np.random.Generator, depth: int = 0) -> str:
        digits = "".join(str(int(d)) for d in rng.integers(0, 10, size=int(rng.integers(1, 4))))
        digits = digits.lstrip("0") or "0"
        if rng.random() < 0.1:
            digits += "." + "".join(str(int(d)) for d in rng.integers(0, 10, size=2))
        return digits

    def script(self, rng: np.random.Generator, depth: int) -> str:
        base = self.atom(rng)
        kind = rng.random()
        sub = f"_{{{self.small(rng, depth)}}}" if kind < 0.7 else ""
        sup = f"^{{{self.small(rng, depth)}}}" if kind > 0.4 else ""
        return base + sub + sup

    def small(self, rng: np.random.Generator, depth: int = 0) -> str:
        """A short script or limit: an atom, a small number, ``n + 1``, ``2 k``, ``i j``."""
        roll = rng.random()
        if roll < 0.5:
            return self.atom(rng)
        if roll < 0.7:
            return str(int(rng.integers(0, 10)))
        if roll < 0.85:
            return f"{self.atom(rng)} {_choice(rng, ('+', '-'))} {int(rng.integers(1, 4))}"
        return f"{_choice(rng, ('2', self.atom(rng)))} {self.atom(rng)}"

    def fraction(self, rng: np.random.Generator, depth: int) -> str:
        return f"\\frac{{{self.expression(rng, depth)}}}{{{self.expression(rng, depth)}}}"

    def nested_fraction(self, rng: np.random.Generator, depth: int) -> str:
        inner = self.fraction(rng, min(depth + 1, self.max_depth))
        other = self.expression(rng, depth)
        if rng.random() < 0.5:
            return f"\\frac{{{inner}}}{{{other}}}"
        return f"\\frac{{{other}}}{{1 + {inner}}}"

    def root(self, rng: np.random.Generator, depth: int) -> str:
        index = f"[{_choice(rng, ('3', '4', 'n', 'k'))}]" if rng.random() < 0.25 else ""
        return f"\\sqrt{index}{{{self.expression(rng, depth)}}}"

    def big_operator(self, rng: np.random.Generator, depth: int) -> str:
        op = _choice(rng, BIG_OPERATORS)
        var = _choice(rng, ("i", "j", "k", "n", "m"))
        if op in ("\\int", "\\oint"):
            limits = f"_{{{self.small(rng, depth)}}}^{{{self.small(rng, depth)}}}"
            body = f"{self.expression(rng, depth)} \\, d {_choice(rng, ('x', 't', 's', 'u'))}"
            return f"{op}{limits if rng.random() < 0.8 else ''} {body}"
        upper = _choice(rng, ("n", "N", "\\infty", "k"))
        limits = f"_{{{var} = {int(rng.integers(0, 3))}}}^{{{upper}}}"
        if rng.random() < 0.15:
            limits = f"_{{{var}}}"
        return f"{op}{limits} {self.term(rng, depth)}"

    def limit(self, rng: np.random.Generator, depth: int) -> str:
        var = _choice(rng, ("x", "n", "t", "h"))
        target = _choice(rng, ("0", "\\infty", "a", "1", "+ \\infty"))
        return f"\\lim_{{{var} \\to {target}}} {self.term(rng, depth)}"

    def accent(self, rng: np.random.Generator, depth: int) -> str:
        accent = _choice(rng, ACCENTS)
        wide = accent in ("\\overline", "\\widehat")
        body = self.expression(rng, max(depth, self.max_depth - 1)) if wide else self.atom(rng)
        return f"{accent}{{{body}}}"

    def font(self, rng: np.random.Generator, depth: int) -> str:
        font = _choice(rng, FONTS)
        pool = UPPER if font in ("\\mathbb", "\\mathcal") else LOWER + UPPER
        letters = "".join(_choice(rng, pool) for _ in range(int(rng.integers(1, 3))))
        return f"{font}{{{letters}}}"

    def delimited(self, rng: np.random.Generator, depth: int) -> str:
        left, right = DELIMITERS[int(rng.choice(len(DELIMITERS), p=_DELIMITER_P))]
        body = self.expression(rng, depth)
        if rng.random() < 0.5:
            return f"\\left{left} {body} \\right{right}"
        return f"{left} {body} {right}"

    def function(self, rng: np.random.Generator, depth: int) -> str:
        name = _choice(rng, FUNCTIONS)
        power = "^{2}" if rng.random() < 0.15 else ""
        argument = self.atom(rng) if rng.random() < 0.5 else f"( {self.expression(rng, depth)} )"
        return f"{name}{power} {argument}"

    def binomial(self, rng: np.random.Generator, depth: int) -> str:
        return f"\\binom{{{self.small(rng, depth)}}}{{{self.small(rng, depth)}}}"

    def matrix(self, rng: np.random.Generator, depth: int) -> str:
        rows, cols = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        kind = _choice(rng, MATRICES)
        body = " \\\\ ".join(
            " & ".join(self.cell(rng) for _ in range(cols)) for _ in range(max(rows, 2))
        )
        return f"\\begin{{{kind}}} {body} \\end{{{kind}}}"

    def cell(self, rng: np.random.Generator) -> str:
        roll = rng.random()
        if roll < 0.4:
            return self.number(rng) if rng.random() < 0.5 else self.atom(rng)
        if roll < 0.7:
            return self.script(rng, self.max_depth - 1)
        return self.expression(rng, self.max_depth - 1)

    def cases(self, rng: np.random.Generator, depth: int) -> str:
        lines = []
        for _ in range(int(rng.integers(2, 4))):
            value = self.expression(rng, max(depth, self.max_depth - 1))
            condition = f"{_choice(rng, LOWER)} {_choice(rng, RELATIONS[3:7])} {self.number(rng)}"
            lines.append(f"{value} & {condition}")
        return "\\begin{cases} " + " \\\\ ".join(lines) + " \\end{cases}"

    def array(self, rng: np.random.Generator, depth: int) -> str:
        cols = int(rng.integers(2, 4))
        spec = "".join(_choice(rng, ("c", "l", "r")) for _ in range(cols))
        rows = [" & ".join(self.cell(rng) for _ in range(cols)) for _ in range(rng.integers(2, 4))]
        body = " \\\\ ".join(rows)
        return f"\\left( \\begin{{array}}{{{spec}}} {body} \\end{{array}} \\right)"


#: Constructs allowed only as top-level terms (never inside scripts, cells or arguments).
HEAVY = frozenset({"matrix", "cases", "array", "nested_fraction", "big_operator", "limit"})
_ATOM_P = np.array([0.35, 0.15, 0.2, 0.25, 0.05])
_DELIMITER_P = np.array([0.5, 0.2, 0.1, 0.12, 0.08])


def _table(weights: Mapping[str, float]) -> tuple[tuple[str, ...], np.ndarray]:
    names = tuple(name for name, w in weights.items() if w > 0)
    if not names:
        raise ValueError("every weight is zero")
    p = np.array([weights[name] for name in names], dtype=np.float64)
    return names, p / p.sum()


def _pick(table: tuple[tuple[str, ...], np.ndarray], rng: np.random.Generator) -> str:
    names, p = table
    return names[int(rng.choice(len(names), p=p))]


def _choice(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]
