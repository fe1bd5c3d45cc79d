"""The validator: each kind of problem, with its exact message and position."""

from __future__ import annotations

import pytest

from scipix.errors import InputError, LatexError
from scipix.latex import LatexIssue, check, validate

CASES = [
    ("{x", "unbalanced_brace", "'{' is never closed: expected '}' (at position 0)", 0),
    ("x}", "unbalanced_brace", "unexpected '}': no '{' opened it (at position 1)", 1),
    ("\\left( x", "unbalanced_delimiter", "'\\left(' has no matching \\right (at position 0)", 0),
    (
        "x \\right)",
        "unbalanced_delimiter",
        "'\\right)' without a matching \\left (at position 2)",
        2,
    ),
    (
        "\\begin{matrix} a \\end{pmatrix}",
        "environment_mismatch",
        "'\\end{pmatrix}' does not match '\\begin{matrix}' (opened at position 0) (at position 17)",
        17,
    ),
    (
        "\\begin{matrix} a",
        "environment_mismatch",
        "'\\begin{matrix}' is never closed: expected \\end{matrix} (at position 0)",
        0,
    ),
    (
        "a \\end{matrix}",
        "environment_mismatch",
        "'\\end{matrix}' without a matching \\begin{matrix} (at position 2)",
        2,
    ),
    (
        "\\frac{a}",
        "missing_argument",
        "\\frac is missing argument 2: the formula ends where {...} was expected (at position 8)",
        8,
    ),
    (
        "\\frac{a}}",
        "missing_argument",
        "\\frac is missing argument 2: expected {...} but found '}' (at position 8)",
        8,
    ),
    (
        "x^",
        "missing_argument",
        "missing superscript after '^': the formula ends (at position 2)",
        2,
    ),
    (
        "x_&",
        "missing_argument",
        "missing subscript: expected {...} but found '&' (at position 2)",
        2,
    ),
    ("\\foo + 1", "unknown_command", "unknown command '\\foo' (at position 0)", 0),
    (
        "\\alpah",
        "unknown_command",
        "unknown command '\\alpah' (at position 0); did you mean '\\alpha'?",
        0,
    ),
    (
        "\\begin{foo}x\\end{foo}",
        "unknown_environment",
        "unknown environment 'foo' (at position 0)",
        0,
    ),
    (
        "a & b",
        "misplaced_alignment",
        "misplaced '&': it is allowed only directly in an environment's cells "
        "(matrix, array, aligned, cases ...) (at position 2)",
        2,
    ),
    (
        "a \\\\ b",
        "misplaced_alignment",
        "misplaced '\\\\': it is allowed only directly in an environment's cells "
        "(matrix, array, aligned, cases ...) (at position 2)",
        2,
    ),
    (
        "x^a^b",
        "double_script",
        "double superscript: use braces, e.g. x^{a b} or {x^a}^b (at position 3)",
        3,
    ),
    (
        "x_a_b",
        "double_script",
        "double subscript: use braces, e.g. x_{a b} or {x_a}_b (at position 3)",
        3,
    ),
    ("x^a'", "double_script", "double superscript: a prime after a superscript (at position 3)", 3),
    (
        "\\left{ x \\right}",
        "bad_delimiter",
        "\\left must be followed by a delimiter such as ( [ \\{ | . or \\langle; found '{' "
        "(at position 0)",
        0,
    ),
    (
        "\\kern x",
        "bad_dimension",
        "\\kern must be followed by a dimension such as 2pt or -0.5em (at position 6)",
        6,
    ),
    (
        "\\sqrt[3",
        "unbalanced_bracket",
        "'[' of an optional argument is never closed: expected ']' (at position 5)",
        5,
    ),
    (
        "$x$",
        "syntax",
        "'$' inside math: remove it (the formula is already math) (at position 0)",
        0,
    ),
    (
        "a\\over b\\over c",
        "syntax",
        "ambiguous: a second \\over in the same group (the first at position 1); add braces "
        "around one of the fractions (at position 8)",
        8,
    ),
]


@pytest.mark.parametrize(("src", "issue", "message", "position"), CASES)
def test_each_problem_has_its_kind_message_and_position(
    src: str, issue: str, message: str, position: int
) -> None:
    assert validate(src) == [LatexIssue(issue, message, position)]
    with pytest.raises(LatexError) as info:
        check(src)
    assert info.value.message == message
    assert info.value.position == position
    assert info.value.detail["issue"] == issue
    assert isinstance(info.value, InputError)
    assert info.value.error_id == "math_syntax"


def test_nesting_deeper_than_the_limit_is_one_problem() -> None:
    [issue] = validate("{" * 300 + "x" + "}" * 300)
    assert issue.id == "too_deep"
    assert issue.position == 200


def test_all_unknown_commands_are_reported_with_the_structural_problem() -> None:
    issues = validate("\\foo + \\bar{x} + \\baz^a^b")
    assert [(i.id, i.position) for i in issues] == [
        ("unknown_command", 0),
        ("unknown_command", 17),
        ("double_script", 23),
    ]


@pytest.mark.parametrize(
    "src",
    [
        "",
        "x^{2}",
        "\\frac{a}{b}",
        "\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}",
        "\\left( \\middle| \\right.",
        "\\text{if } x > 0",
        "\\operatorname*{arg\\,max}_{x} f",
    ],
)
def test_valid_formulas_have_no_problem(src: str) -> None:
    assert validate(src) == []
    check(src)
