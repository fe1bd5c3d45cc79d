"""The canonical spelling: what normalize writes, what it keeps, and its lossy options."""

from __future__ import annotations

import pytest

from scipix.errors import LatexError
from scipix.latex import NormalizeOptions, detokenize, model_tokens, normalize

CANONICAL = [
    # scripts and arguments are always braced; sub before sup
    ("x^2", "x^{2}"),
    ("x^2_1", "x_{1}^{2}"),
    ("\\frac12", "\\frac{1}{2}"),
    ("\\frac 1 2", "\\frac{1}{2}"),
    ("\\sqrt[3]x", "\\sqrt[3]{x}"),
    ("x^\\alpha", "x^{\\alpha}"),
    # whitespace that means nothing in math
    ("a _ { m 1 1 2 } = 0 .", "a_{m112}=0."),
    ("\\alpha x", "\\alpha x"),
    ("\\alpha  \\beta", "\\alpha\\beta"),
    # braces TeX ignores
    ("{x}^{2}", "x^{2}"),
    ("{ \\bar { K } } _ { a }", "\\bar{K}_{a}"),
    ("{ \\pi } ^ { 2 }", "\\pi^{2}"),
    ("{ \\frac { 3 } { 4 } } t", "\\frac{3}{4}t"),
    ("x^{{a+b}}", "x^{a+b}"),
    ("{{a+b}}^2", "{a+b}^{2}"),
    ("\\overline { { \\operatorname { I m } \\mu } }", "\\overline{\\operatorname{Im}\\mu}"),
    # braces TeX does not ignore stay
    ("a{+}b", "a{+}b"),
    ("{x+y}^2", "{x+y}^{2}"),
    ("{\\bf x}", "\\bf x"),
    ("a{\\bf x}b", "a{\\bf x}b"),
    ("{}^{14}C", "{}^{14}C"),
    ("{\\sqrt{x}}^2", "{\\sqrt{x}}^{2}"),
    ("{\\text{a}}^2", "{\\text{a}}^{2}"),
    # synonyms
    ("a\\le b\\ge c\\ne d", "a\\leq b\\geq c\\neq d"),
    ("x\\to y\\gets z", "x\\rightarrow y\\leftarrow z"),
    ("a \\lt b \\gt c", "a<b>c"),
    ("\\lbrace x \\rbrace", "\\{x\\}"),
    ("\\left\\lbrace x \\right\\rbrace", "\\left\\{x\\right\\}"),
    ("\\left< x \\right>", "\\left\\langle x\\right\\rangle"),
    ("\\left\\vert x \\right\\Vert", "\\left|x\\right\\|"),
    ("p\\land q\\lor r", "p\\wedge q\\vee r"),
    ("x \\sp 2 \\sb 1", "x_{1}^{2}"),
    ("α ≤ β", "\\alpha\\leq\\beta"),
    # fractions written between their operands
    ("a \\over b", "\\frac{a}{b}"),
    ("{ n \\choose k }", "\\binom{n}{k}"),
    ("x^{1 \\over 2}", "x^{\\frac{1}{2}}"),
    ("\\left( a \\over b \\right)", "\\left(\\frac{a}{b}\\right)"),
    ("x{a \\atop b}", "x{a\\atop b}"),
    ("{a \\atop b}", "a\\atop b"),
    # primes
    ("f^{\\prime}(x)", "f'(x)"),
    ("f^{\\prime\\prime}", "f''"),
    ("x^{\\prime 2}", "x'^{2}"),
    ("x_1'", "x_{1}'"),
    ("x'_1", "x_{1}'"),
    # named operators
    ("\\operatorname { l o g } _ { 2 } x", "\\log_{2}x"),
    ("\\operatorname* { l i m } _ { n }", "\\lim_{n}"),
    ("\\operatorname { l i m } _ { n }", "\\operatorname{lim}_{n}"),
    ("\\operatorname{rank} A", "\\operatorname{rank}A"),
    # environments: cells unbraced, trailing \\ dropped
    (
        "\\left[ \\begin{array} { c c } { 1 } & { 0 } \\\\ \\end{array} \\right]",
        "\\left[\\begin{array}{cc}1&0\\end{array}\\right]",
    ),
    (
        "\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}",
        "\\begin{pmatrix}a&b\\\\c&d\\end{pmatrix}",
    ),
    ("\\begin{array}{c} a \\\\ \\hline b \\\\ \\hline \\end{array}", None),
    ("\\sum_{\\substack{i<j \\\\ j<k}} x", "\\sum_{\\substack{i<j\\\\j<k}}x"),
    # text keeps its spaces (one per run) and its braces
    ("\\text { B. } 28", "\\text{ B. }28"),
    ("\\text{a  b}", "\\text{a b}"),
    ("\\mbox{if {\\em x}}", "\\mbox{if {\\em x}}"),
    ("\\text{for $x>0$}", "\\text{for $x>0$}"),
    # verbatim arguments and dimensions
    ("\\hspace { 1 0 m m } x", "\\hspace{10mm}x"),
    ("\\hspace * { - . 2 c m }", "\\hspace*{-.2cm}"),
    ("\\right. \\kern - \\nulldelimiterspace"[8:], "\\kern-\\nulldelimiterspace"),
    ("a \\kern 2 p t b", "a\\kern2ptb"),
    ("\\mathrm { \\ t e x t i t { S p a } }", "\\mathrm{\\ textit{Spa}}"),
    # things that do nothing are dropped
    ("\\protect \\alpha", "\\alpha"),
    ("\\ensuremath { \\kappa } ^ { g }", "\\kappa^{g}"),
    ("a % comment\n + b", "a+b"),
    # spacing and styles are kept by default
    ("a \\, b \\quad c", "a\\,b\\quad c"),
    ("a \\> b", "a\\:b"),
    ("\\displaystyle \\sum", "\\displaystyle\\sum"),
    ("x \\ y", "x\\ y"),
    ("\\int\\limits_0^1", "\\int\\limits_{0}^{1}"),
    ("\\big( x \\Bigr\\rbrace", "\\big(x\\Bigr\\}"),
]


@pytest.mark.parametrize(("src", "expected"), CANONICAL)
def test_canonical_spelling(src: str, expected: str | None) -> None:
    result = normalize(src)
    if expected is not None:
        assert result == expected
    assert normalize(result) == result


LOSSY = [
    ("a \\, b \\quad c \\hspace{1cm} d \\! e", "abcde"),
    ("\\displaystyle \\frac{a}{b}", "\\frac{a}{b}"),
    ("{\\bf x} + {\\cal L}", "\\mathbf{x}+\\mathcal{L}"),
    ("{\\rm d} x", "\\mathrm{d}x"),
    ("\\bm{x}", "\\boldsymbol{x}"),
    ("x = 1 \\label{eq:1} \\nonumber", "x=1"),
    ("\\mbox{if}", "\\text{if}"),
    ("x_{\\tiny{fin}}", "x_{fin}"),
    ("\\vec{\\epsilon}^{\\,\\,\\prime}", "\\vec{\\epsilon}'"),
]


@pytest.mark.parametrize(("src", "expected"), LOSSY)
def test_label_options(src: str, expected: str) -> None:
    options = NormalizeOptions.for_labels()
    assert normalize(src, options) == expected
    assert normalize(expected, options) == expected


def test_text_spaces_can_be_dropped_for_space_tokenized_corpora() -> None:
    options = NormalizeOptions.for_labels(drop_text_spaces=True)
    assert normalize("\\mbox { d i l a t o n }", options) == "\\text{dilaton}"
    assert normalize("\\mbox { d i l a t o n }") == "\\mbox{ d i l a t o n }"


def test_labels_shorthand_turns_on_all_label_rewrites() -> None:
    options = NormalizeOptions(labels=True)
    assert options.drop_spacing and options.drop_styles and options.drop_labels
    assert options.unify_fonts and not options.drop_text_spaces


def test_model_tokens_are_vocabulary_units() -> None:
    assert model_tokens("\\sin x + 12") == ["\\sin", "x", "+", "1", "2"]
    assert model_tokens("\\operatorname{rank}") == ["\\operatorname", "{", "r", "a", "n", "k", "}"]
    assert model_tokens("\\left( \\begin{pmatrix} a \\end{pmatrix} \\right.") == [
        "\\left(",
        "\\begin{pmatrix}",
        "a",
        "\\end{pmatrix}",
        "\\right.",
    ]
    assert model_tokens("\\text{a b}") == ["\\text", "{", "a", "\\space", "b", "}"]
    assert model_tokens("x\\ y") == ["x", "\\nobreakspace", "y"]


def test_detokenize_spaces_only_where_tex_needs_them() -> None:
    assert detokenize(["\\alpha", "x"]) == "\\alpha x"
    assert detokenize(["\\alpha", "2"]) == "\\alpha2"
    assert detokenize(["s", "i", "n"]) == "sin"
    assert (
        detokenize(["\\left\\langle", "x", "\\right\\rangle"]) == "\\left\\langle x\\right\\rangle"
    )
    assert detokenize(["\\text", "{", "a", "\\space", "b", "}"]) == "\\text{a b}"
    assert detokenize(["x", "\\nobreakspace", "y"]) == "x\\ y"


@pytest.mark.parametrize(
    "src",
    [
        "x^{2}+\\frac{a}{b}",
        "\\text{a b}\\alpha x",
        "\\left(\\begin{array}{cc}1&2\\end{array}\\right)",
    ],
)
def test_detokenize_inverts_model_tokens(src: str) -> None:
    assert normalize(detokenize(model_tokens(src))) == normalize(src)


def test_normalize_refuses_malformed_input_with_latex_error() -> None:
    with pytest.raises(LatexError) as info:
        normalize("x^a^b")
    assert info.value.position == 3
