"""The parser: tree shapes, argument handling, and hostile input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scipix.errors import LatexError
from scipix.latex import (
    normalize,
    parse,
    to_asciimath,
    to_mathml,
    validate,
)
from scipix.latex.nodes import (
    Atom,
    Command,
    Delimited,
    Environment,
    Group,
    Infix,
    Raw,
    Scripts,
    Text,
)


def test_scripts_attach_to_the_previous_item() -> None:
    [node] = parse("x_1^2").items
    assert node == Scripts(Atom("x"), sub=Group([Atom("1")]), sup=Group([Atom("2")]))
    [node] = parse("f''").items
    assert isinstance(node, Scripts) and node.primes == 2 and node.sup is None


def test_commands_know_their_arguments() -> None:
    [frac] = parse("\\frac12").items
    assert frac == Command("\\frac", [Group([Atom("1")]), Group([Atom("2")])])
    [sqrt] = parse("\\sqrt[3]{x}").items
    assert isinstance(sqrt, Command)
    assert sqrt.args[0] == Group([Atom("3")]) and sqrt.args[1] == Group([Atom("x")], True)
    [plain] = parse("\\sqrt x").items
    assert isinstance(plain, Command) and plain.args[0] is None
    [op] = parse("\\operatorname*{lim}").items
    assert isinstance(op, Command) and op.star


def test_verbatim_arguments_and_dimensions() -> None:
    [space] = parse("\\hspace { 1 0 m m }").items
    assert isinstance(space, Command) and space.args == [Raw(list("10mm"))]
    [kern] = parse("\\kern-\\nulldelimiterspace").items
    assert isinstance(kern, Command) and kern.args == [Raw(["-", "\\nulldelimiterspace"])]


def test_text_keeps_spaces_and_math() -> None:
    [text] = parse("\\text{a  b $x$}").items
    assert isinstance(text, Command)
    [content] = text.args
    assert isinstance(content, Text)
    assert [type(n).__name__ for n in content.items] == ["Atom", "Atom", "Atom", "Atom", "Math"]
    assert [n.text for n in content.items[:4] if isinstance(n, Atom)] == ["a", " ", "b", " "]


def test_delimiters_and_environments() -> None:
    [fence] = parse("\\left( x \\middle| y \\right.").items
    assert isinstance(fence, Delimited) and (fence.left, fence.right) == ("(", ".")
    assert Atom("\\middle|") in fence.body.items
    [env] = parse("\\begin{array}{cc} a & b \\\\ \\hline c & d \\end{array}").items
    assert isinstance(env, Environment) and env.name == "array"
    assert env.args == [None, Raw(["c", "c"])]
    assert [len(row.cells) for row in env.rows] == [2, 2]
    assert env.rows[1].rules == [Atom("\\hline")]


def test_infix_fractions_take_the_whole_group() -> None:
    [group] = parse("{a + b \\over c}").items
    assert isinstance(group, Group)
    [infix] = group.items
    assert isinstance(infix, Infix) and infix.op == "\\over"
    assert len(infix.num.items) == 3 and len(infix.den.items) == 1


def test_unknown_commands_parse_as_atoms() -> None:
    assert parse("\\foo x").items == [Atom("\\foo"), Atom("x")]


def test_positions_point_into_the_source() -> None:
    src = "a + \\frac{b}{c}"
    frac = parse(src).items[2]
    assert src[frac.start :].startswith("\\frac")


HOSTILE = [
    "{" * 100_000,
    "{" * 50_000 + "}" * 50_000,
    "\\sqrt" * 50_000 + "x",
    "\\frac" * 30_000,
    "\\left(" * 30_000,
    "x^" * 40_000,
    "\\begin{matrix}" * 20_000,
    "x" * 1_000_000,
    "\\alpha" * 20_000,
    "}" * 100_000,
    "\\text{" * 30_000,
    "x_{" * 30_000,
]


@pytest.mark.parametrize("src", HOSTILE, ids=lambda s: f"{s[:12]}..x{len(s)}")
def test_hostile_input_fails_fast_with_latex_error(src: str) -> None:
    start = time.perf_counter()
    for function in (parse, normalize, to_mathml):
        with pytest.raises(LatexError):
            function(src)
    assert validate(src)
    # A generous bound (it takes about a second): it catches a quadratic blow-up, which would
    # take minutes on these sizes, without failing on a loaded machine.
    assert time.perf_counter() - start < 30.0


def test_a_long_valid_formula_is_fine() -> None:
    src = "+".join(f"x_{{{i}}}^{{2}}" for i in range(5000))
    assert normalize(src).count("^{2}") == 5000


ALPHABET = [
    *"{}[]()^_'&$#%~\\ \nabx12+-=.,",
    "\\frac",
    "\\left(",
    "\\right)",
    "\\begin{matrix}",
    "\\end{matrix}",
    "\\\\",
    "\\text{",
    "\\sqrt",
    "\\over",
    "\\kern",
    "\\big",
    "\\hat",
    "\\operatorname*",
    "\\mathop",
    "\\substack{",
    "\\mathbf",
    "α",
    "\\not",
    "\\hline",
    "\\cdots",
    "\\hfill",
    "\\mbox{",
    "\\bf",
    "\\displaystyle",
    "\\,",
    "\\limits",
    "\\sum",
    "\\prime",
    "*",
    ":",
    "\\ensuremath",
    "\\choose",
    "\\sp",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join))
def test_malformed_input_never_raises_anything_but_latex_error(src: str) -> None:
    for function in (normalize, to_mathml, to_asciimath):
        try:
            function(src)
        except LatexError as exc:
            assert exc.position is not None
    validate(src)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join))
def test_normalize_is_idempotent_on_whatever_parses(src: str) -> None:
    try:
        once = normalize(src)
    except LatexError:
        return
    assert normalize(once) == once
