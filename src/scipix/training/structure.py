"""Structure-heavy formulas for mixture v2: the layouts users photograph and the corpora lack.

Each *family* draws one formula (plain LaTeX; normalize before use as a label) from the seeded
generator passed in, using :class:`~scipix.training.generator.FormulaGenerator` for the small
expressions inside:

- ``multiline``: ``aligned``, ``gathered`` and ``cases`` (conditions in words via ``\\text``);
- ``matrix``: every delimiter kind (``pmatrix bmatrix Bmatrix vmatrix Vmatrix matrix``) and
  ``\\left( array \\right)``, 1–4 rows and columns, sometimes with dots, beside an operator;
- ``array``: ``array`` with column rules and ``\\hline``;
- ``long``: a long chain of terms or equalities;
- ``text``: words inside math (``\\text{ if }``, ``\\text{for all}``, units);
- ``chemistry``: formulas and reactions in ``\\mathrm`` (``2\\mathrm{H}_{2}+\\mathrm{O}_{2}
  \\rightarrow 2\\mathrm{H}_{2}\\mathrm{O}``), ions, arrows with conditions;
- ``logic``: quantifiers, connectives, turnstiles, set-builder notation.

matplotlib's mathtext draws no environments, so the first three families render with TeX and
MathJax only; the others render everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scipix.errors import LatexError
from scipix.training.corpus import Formula, normalized
from scipix.training.generator import LOWER, RELATIONS, UPPER, FormulaGenerator

MATRIX_KINDS = ("pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix")
WORDS = (
    "if", "otherwise", "for all", "for", "and", "or", "where", "else", "for some", "with",
    "if and only if", "such that", "is even", "is odd", "is prime", "elsewhere", "when",
)  # fmt: skip
UNITS = ("m", "s", "kg", "cm", "km", "mol", "J", "K", "N", "Hz", "eV")
ELEMENTS = (
    "H", "O", "C", "N", "Na", "Cl", "Fe", "Cu", "Ca", "S", "K", "Mg", "Al", "Zn", "Ag", "P", "Si",
)  # fmt: skip
ARROWS = ("\\rightarrow", "\\longrightarrow", "\\leftrightarrow", "\\rightarrow")
CONNECTIVES = ("\\wedge", "\\vee", "\\Rightarrow", "\\Leftrightarrow", "\\rightarrow", "\\iff")
QUANTIFIERS = ("\\forall", "\\exists")
#: The share of each family in :func:`structure_set`.
FAMILIES: dict[str, float] = {
    "multiline": 0.22,
    "matrix": 0.25,
    "array": 0.08,
    "long": 0.1,
    "text": 0.13,
    "chemistry": 0.11,
    "logic": 0.11,
}
#: Families with environments (no mathtext).
ENVIRONMENT_FAMILIES = frozenset({"multiline", "matrix", "array"})

_GEN = FormulaGenerator(max_depth=2)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _expr(rng: np.random.Generator) -> str:
    return _GEN.expression(rng, 1)


def multiline(rng: np.random.Generator) -> str:
    kind = _pick(rng, ("aligned", "gathered", "cases", "aligned"))
    rows = int(rng.integers(2, 5))
    if kind == "aligned":
        lines = [f"{_expr(rng) if i == 0 else ''} & = {_expr(rng)}" for i in range(rows)]
    elif kind == "gathered":
        lines = [f"{_expr(rng)} {_pick(rng, RELATIONS[:6])} {_expr(rng)}" for _ in range(rows)]
    else:
        lines = []
        for i in range(rows):
            if i == rows - 1 and rng.random() < 0.5:
                condition = f"\\text{{{_pick(rng, ('otherwise', 'else', 'elsewhere'))}}}"
            elif rng.random() < 0.4:
                condition = f"\\text{{if }} {_pick(rng, LOWER)} {_pick(rng, RELATIONS[3:7])} 0"
            else:
                condition = f"{_pick(rng, LOWER)} {_pick(rng, RELATIONS[:9])} {_GEN.number(rng)}"
            lines.append(f"{_expr(rng)} & {condition}")
    body = " \\\\ ".join(lines)
    env = f"\\begin{{{kind}}} {body} \\end{{{kind}}}"
    if kind == "cases":
        return f"{_pick(rng, LOWER + UPPER)} ( {_pick(rng, LOWER)} ) = {env}"
    return env


def _cell(rng: np.random.Generator) -> str:
    roll = rng.random()
    if roll < 0.45:
        return _GEN.number(rng) if rng.random() < 0.5 else _GEN.atom(rng)
    if roll < 0.7:
        return _GEN.script(rng, 2)
    if roll < 0.8:
        return f"\\frac{{{_GEN.small(rng)}}}{{{_GEN.small(rng)}}}"
    return f"{_GEN.atom(rng)} {_pick(rng, ('+', '-'))} {_GEN.small(rng)}"


def _grid(rng: np.random.Generator, rows: int, cols: int) -> list[list[str]]:
    grid = [[_cell(rng) for _ in range(cols)] for _ in range(rows)]
    if rows >= 3 and cols >= 3 and rng.random() < 0.25:  # a matrix with dots
        grid[rows - 2] = ["\\vdots"] * (cols - 2) + ["\\ddots", "\\vdots"]
        grid[0][cols - 2] = grid[rows - 1][cols - 2] = "\\cdots"
    return grid


def matrix(rng: np.random.Generator) -> str:
    rows, cols = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    rows = max(rows, 2) if cols == 1 else rows
    body = " \\\\ ".join(" & ".join(r) for r in _grid(rng, rows, cols))
    kind = _pick(rng, (*MATRIX_KINDS, "array"))
    if kind == "array":
        spec = "c" * cols
        left, right = _pick(rng, ("( )", "[ ]", "| |")).split()
        one = f"\\left{left} \\begin{{array}}{{{spec}}} {body} \\end{{array}} \\right{right}"
    else:
        one = f"\\begin{{{kind}}} {body} \\end{{{kind}}}"
    roll = rng.random()
    if roll < 0.35:
        return one
    if roll < 0.7:
        return f"{_pick(rng, UPPER)} = {one}"
    joiner = _pick(rng, ("", "\\cdot", "="))
    return f"{one} {joiner} {matrix_vector(rng, rows)}"


def matrix_vector(rng: np.random.Generator, rows: int) -> str:
    kind = _pick(rng, ("pmatrix", "bmatrix"))
    cells = " \\\\ ".join(_GEN.atom(rng) for _ in range(max(rows, 2)))
    return f"\\begin{{{kind}}} {cells} \\end{{{kind}}}"


def array(rng: np.random.Generator) -> str:
    rows, cols = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    spec = "".join(_pick(rng, ("c", "l", "r")) for _ in range(cols))
    if rng.random() < 0.5:
        split = int(rng.integers(1, cols))
        spec = spec[:split] + "|" + spec[split:]
    lines = [" & ".join(r) for r in _grid(rng, rows, cols)]
    body = " \\\\ ".join(lines)
    if rng.random() < 0.4:
        body = lines[0] + " \\\\ \\hline " + " \\\\ ".join(lines[1:])
    return f"\\begin{{array}}{{{spec}}} {body} \\end{{array}}"


def long(rng: np.random.Generator) -> str:
    parts = [_expr(rng)]
    for _ in range(int(rng.integers(3, 7))):
        parts += [_pick(rng, ("=", "=", "+", "\\leq", ",")), _expr(rng)]
    return " ".join(parts)


def text(rng: np.random.Generator) -> str:
    left = f"{_expr(rng)} {_pick(rng, RELATIONS[:9])} {_expr(rng)}"
    roll = rng.random()
    if roll < 0.5:
        word = _pick(rng, WORDS)
        right = f"{_pick(rng, LOWER)} {_pick(rng, RELATIONS[:9])} {_expr(rng)}"
        return f"{left} \\text{{ {word} }} {right}"
    if roll < 0.75:
        unit = _pick(rng, UNITS)
        return f"{_pick(rng, LOWER + UPPER)} = {_GEN.number(rng)} \\, \\text{{{unit}}}"
    return f"\\text{{{_pick(rng, WORDS)}}} {left}"


def _molecule(rng: np.random.Generator) -> str:
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        count = int(rng.integers(1, 5))
        parts.append(f"\\mathrm{{{_pick(rng, ELEMENTS)}}}" + (f"_{{{count}}}" if count > 1 else ""))
    return "".join(parts)


def chemistry(rng: np.random.Generator) -> str:
    if rng.random() < 0.25:
        charge = _pick(rng, ("+", "-", "2+", "3+", "2-"))
        return f"{_molecule(rng)}^{{{charge}}}"

    def side() -> str:
        terms = []
        for _ in range(int(rng.integers(1, 4))):
            coeff = int(rng.integers(1, 5))
            terms.append((str(coeff) if coeff > 1 else "") + _molecule(rng))
        return " + ".join(terms)

    arrow = _pick(rng, ARROWS)
    if rng.random() < 0.2:
        condition = _pick(rng, ("\\Delta", "h \\nu", "T", "\\mathrm{Pt}"))
        arrow = f"\\xrightarrow{{{condition}}}"
    return f"{side()} {arrow} {side()}"


def logic(rng: np.random.Generator) -> str:
    x, y = _pick(rng, ("x", "y", "n", "a")), _pick(rng, ("y", "z", "m", "b"))
    p, q = _pick(rng, ("P", "Q", "R", "\\varphi")), _pick(rng, ("Q", "R", "S", "\\psi"))
    roll = rng.random()
    if roll < 0.4:
        quantified = f"{_pick(rng, QUANTIFIERS)} {x} \\in {_pick(rng, UPPER)}"
        body = f"{p} ( {x} ) {_pick(rng, CONNECTIVES)} {q} ( {x} , {y} )"
        return f"{quantified} \\, {_pick(rng, QUANTIFIERS)} {y} : {body}"
    if roll < 0.65:
        return f"\\neg ( {p} \\wedge {q} ) \\Leftrightarrow \\neg {p} \\vee \\neg {q}"
    if roll < 0.8:
        return f"\\Gamma \\vdash {p} {_pick(rng, CONNECTIVES)} {q}"
    cond = f"{x} {_pick(rng, RELATIONS[3:7])} {_GEN.number(rng)}"
    return f"\\{{ {x} \\in \\mathbb{{{_pick(rng, ('R', 'N', 'Z', 'Q'))}}} \\mid {cond} \\}}"


FAMILY_MAKERS: dict[str, Callable[[np.random.Generator], str]] = {
    "multiline": multiline,
    "matrix": matrix,
    "array": array,
    "long": long,
    "text": text,
    "chemistry": chemistry,
    "logic": logic,
}


def structure_set(n: int, seed: int, max_tokens: int = 160) -> list[Formula]:
    """``n`` normalized formulas, families drawn by :data:`FAMILIES`; ``Formula.source`` is
    ``structure/<family>``."""
    rng = np.random.default_rng(seed)
    names = list(FAMILIES)
    weights = np.array([FAMILIES[k] for k in names])
    found: list[Formula] = []
    for _ in range(4 * n + 10):
        if len(found) >= n:
            break
        family = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        try:
            latex, tokens = normalized(FAMILY_MAKERS[family](rng))
        except LatexError:
            continue
        if len(tokens) <= max_tokens:
            found.append(Formula(latex, tokens, f"structure/{family}"))
    return found
