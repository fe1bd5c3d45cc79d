"""The tokenizer: kinds, canonical token texts and source positions."""

from __future__ import annotations

import pytest

from scipix.errors import LatexError
from scipix.latex import Token, tokenize
from scipix.latex.tokenizer import MAX_CHARS


def kinds(src: str) -> list[tuple[str, str]]:
    return [(t.text, t.kind) for t in tokenize(src) if t.kind != "space"]


def test_every_kind() -> None:
    src = "\\begin{pmatrix} a_1^2 & x' \\\\ \\end{pmatrix} \\left( \\frac{1}{2} \\right. \\, % c"
    assert kinds(src) == [
        ("\\begin{pmatrix}", "begin"),
        ("a", "letter"),
        ("_", "sub"),
        ("1", "digit"),
        ("^", "sup"),
        ("2", "digit"),
        ("&", "align"),
        ("x", "letter"),
        ("'", "prime"),
        ("\\\\", "newline"),
        ("\\end{pmatrix}", "end"),
        ("\\left(", "left"),
        ("\\frac", "command"),
        ("{", "lbrace"),
        ("1", "digit"),
        ("}", "rbrace"),
        ("{", "lbrace"),
        ("2", "digit"),
        ("}", "rbrace"),
        ("\\right.", "right"),
        ("\\,", "symbol"),
        ("% c", "comment"),
    ]


def test_positions_cover_the_source() -> None:
    src = "\\left \\langle x \\right\\rangle + α"
    tokens = tokenize(src)
    assert "".join(src[t.start : t.end] for t in tokens) == src
    assert tokens[0] == Token("\\left\\langle", "left", 0, 13)
    assert tokens[-1] == Token("α", "letter", len(src) - 1, len(src))


def test_whitespace_inside_structural_tokens_is_removed() -> None:
    assert kinds("\\begin { array } \\left [ \\middle | \\right ]")[0] == (
        "\\begin{array}",
        "begin",
    )
    assert [t for t, _ in kinds("\\left [ x \\middle | \\right ]")] == [
        "\\left[",
        "x",
        "\\middle|",
        "\\right]",
    ]


def test_leftarrow_is_a_command_not_a_left() -> None:
    assert kinds("\\leftarrow \\rightarrow \\lefteqn") == [
        ("\\leftarrow", "command"),
        ("\\rightarrow", "command"),
        ("\\lefteqn", "command"),
    ]


def test_numbers_are_one_token_per_digit() -> None:
    assert [t for t, _ in kinds("123.5")] == ["1", "2", "3", ".", "5"]


def test_too_long_input_is_refused_at_once() -> None:
    with pytest.raises(LatexError) as info:
        tokenize("x" * (MAX_CHARS + 1))
    assert info.value.position == MAX_CHARS
