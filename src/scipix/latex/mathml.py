"""Presentation MathML (MathML Core) from the tree: :func:`to_mathml`.

Output is one well-formed ``<math>`` element: the formula in ``<semantics>`` with its canonical
LaTeX as an ``application/x-tex`` annotation. Only MathML Core elements and attributes are used
(styled letters are Unicode math alphanumerics, alignment and boxes are CSS ``style``), so
browsers render it natively.
"""

from __future__ import annotations

from html import escape

from scipix.latex.alphabets import styled, styled_text
from scipix.latex.commands import FONT_SWITCHES, KNOWN_COMMANDS, SIZE_SWITCHES
from scipix.latex.mathml_layout import LayoutMixin, delimiter_char, mo
from scipix.latex.nodes import (
    Atom,
    Command,
    Delimited,
    Environment,
    Group,
    Infix,
    Math,
    Node,
    Raw,
    Scripts,
    Text,
)
from scipix.latex.normalize import detokenize
from scipix.latex.parser import parse
from scipix.latex.symbols import SYMBOLS
from scipix.latex.writer import Writer

NAMESPACE = "http://www.w3.org/1998/Math/MathML"
APPLY = '<mo lspace="0" rspace="0.1667em">\u2061</mo>'
APPLY_TIGHT = '<mo lspace="0" rspace="0">\u2061</mo>'
_OPENING = frozenset("([") | {"\\{", "\\langle", "\\lbrace", "\\lbrack", "\\lfloor", "\\lceil"}

_CHAR_OPERATORS = {"-": "−", "*": "∗", "'": "′", ":": ":", "~": "\u00a0"}
_FENCE_CHARS = frozenset("()[]")
_STYLES = {
    "\\displaystyle": ' displaystyle="true" scriptlevel="0"',
    "\\textstyle": ' displaystyle="false" scriptlevel="0"',
    "\\scriptstyle": ' displaystyle="false" scriptlevel="1"',
    "\\scriptscriptstyle": ' displaystyle="false" scriptlevel="2"',
}
_SWITCH_VARIANTS = {
    "\\mathbf": "bold",
    "\\mathrm": "normal",
    "\\mathit": "italic",
    "\\mathsf": "sans-serif",
    "\\mathtt": "monospace",
    "\\mathcal": "script",
}
_NEGATED = {
    "=": "≠",
    "\\in": "∉",
    "<": "≮",
    ">": "≯",
    "\\leq": "≰",
    "\\geq": "≱",
    "\\subset": "⊄",
    "\\supset": "⊅",
    "\\subseteq": "⊈",
    "\\supseteq": "⊉",
    "\\equiv": "≢",
    "\\sim": "≁",
    "\\approx": "≉",
    "\\cong": "≇",
    "\\exists": "∄",
    "\\mid": "∤",
    "\\parallel": "∦",
}
_TEXT_SYMBOLS = {
    " ": "\u00a0",
    "\\ ": "\u00a0",
    "~": "\u00a0",
    "\\space": "\u00a0",
    "\\,": "\u2009",
    "\\quad": "\u2003",
    "\\qquad": "\u2003\u2003",
    "\\textbackslash": "\\",
    "\\ldots": "…",
    "\\dots": "…",
    "\\textendash": "–",
    "\\textemdash": "—",
}
_TEXT_FONTS = {
    "\\textbf": "bold",
    "\\textit": "italic",
    "\\emph": "italic",
    "\\textsl": "italic",
    "\\textsf": "sans-serif",
    "\\texttt": "monospace",
}


def to_mathml(src: str, display: bool = False) -> str:
    """``src`` as a MathML ``<math>`` element (``display="block"`` when ``display``)."""
    tree = parse(src)
    body = MathMLWriter().row(tree.items)
    writer = Writer()
    writer.write_list(tree.items)
    tex = escape(detokenize(writer.out), quote=False)
    mode = ' display="block"' if display else ""
    return (
        f'<math xmlns="{NAMESPACE}"{mode}><semantics>{body}'
        f'<annotation encoding="application/x-tex">{tex}</annotation></semantics></math>'
    )


class MathMLWriter(LayoutMixin):
    """Converts nodes to MathML strings; ``variant`` is the font in effect (``\\mathbf`` …)."""

    __slots__ = ("variant",)

    def __init__(self) -> None:
        self.variant: str | None = None

    # ------------------------------------------------------------- lists
    def row(self, items: list[Node]) -> str:
        parts = self.elements(items)
        if len(parts) == 1:
            return parts[0]
        return "<mrow>" + "".join(parts) + "</mrow>"

    def elements(self, items: list[Node]) -> list[str]:
        out: list[str] = []
        k, n = 0, len(items)
        while k < n:
            node = items[k]
            if isinstance(node, Atom):
                text = node.text
                if text.isdigit():
                    k = self.number(items, k, out)
                    continue
                if text in _STYLES:
                    out.append(f"<mstyle{_STYLES[text]}>{self.row(items[k + 1 :])}</mstyle>")
                    break
                if text in FONT_SWITCHES:
                    out.extend(self.switched(text, items[k + 1 :]))
                    break
                following = items[k + 1] if k + 1 < n else None
                if text == "\\not" and isinstance(following, Atom):
                    out.append(self.negated(following))
                    k += 2
                    continue
                if self.variant == "normal" and len(text) == 1 and text.isalpha():
                    k = self.word(items, k, out)
                    continue
            element = self.node(node)
            if element:
                out.append(element)
                if k + 1 < n and _is_function(node):
                    out.append(APPLY_TIGHT if _opens(items[k + 1]) else APPLY)
            k += 1
        return out

    def number(self, items: list[Node], k: int, out: list[str]) -> int:
        digits: list[str] = []
        n = len(items)
        while k < n:
            node = items[k]
            if not isinstance(node, Atom):
                break
            if node.text.isdigit():
                digits.append(node.text)
            elif (
                node.text == "."
                and k + 1 < n
                and isinstance(items[k + 1], Atom)
                and items[k + 1].text.isdigit()  # type: ignore[attr-defined]
            ):
                digits.append(".")
            else:
                break
            k += 1
        number = "".join(digits)
        following = items[k] if k < n else None
        if (
            isinstance(following, Scripts)
            and isinstance(following.base, Atom)
            and following.base.text.isdigit()
        ):  # 10^{-3}: the script belongs to the whole number
            whole = Scripts(Atom(number + following.base.text), following.sub, following.sup)
            whole.primes = following.primes
            out.append(self.scripts(whole))
            return k + 1
        out.append(f"<mn>{styled_text(number, self.variant)}</mn>")
        return k

    def word(self, items: list[Node], k: int, out: list[str]) -> int:
        """Upright letters in a row (``\\mathrm{CH}``) make one ``<mi>``."""
        letters: list[str] = []
        while k < len(items):
            node = items[k]
            if not (isinstance(node, Atom) and len(node.text) == 1 and node.text.isalpha()):
                break
            letters.append(node.text)
            k += 1
        word = escape("".join(letters))
        out.append(
            f'<mi mathvariant="normal">{word}</mi>' if len(letters) == 1 else f"<mi>{word}</mi>"
        )
        return k

    def switched(self, switch: str, rest: list[Node]) -> list[str]:
        saved = self.variant
        self.variant = _SWITCH_VARIANTS.get(FONT_SWITCHES[switch], saved)
        try:
            return self.elements(rest)
        finally:
            self.variant = saved

    def with_variant(self, variant: str | None, items: list[Node]) -> str:
        saved = self.variant
        self.variant = variant
        try:
            return self.row(items)
        finally:
            self.variant = saved

    def negated(self, node: Atom) -> str:
        negated = _NEGATED.get(node.text)
        if negated is not None:
            return f"<mo>{negated}</mo>"
        symbol = SYMBOLS.get(node.text)
        char = symbol.unicode if symbol else node.text
        return f"<mo>{escape(char)}\u0338</mo>"

    # ------------------------------------------------------------- nodes
    def node(self, node: Node | None) -> str:
        if node is None:
            return "<mrow></mrow>"
        if isinstance(node, Atom):
            return self.atom(node.text)
        if isinstance(node, Group):
            return self.row(node.items) if not node.braced else self.braced(node.items)
        if isinstance(node, Scripts):
            return self.scripts(node)
        if isinstance(node, Command):
            return self.command(node)
        if isinstance(node, Delimited):
            return self.delimited(node)
        if isinstance(node, Environment):
            return self.environment(node)
        if isinstance(node, Infix):
            return self.infix(node)
        if isinstance(node, Text):
            return self.text(node.items, None)
        if isinstance(node, Math):
            return self.row(node.body.items)
        if isinstance(node, Raw):
            return ""
        return ""

    def braced(self, items: list[Node]) -> str:
        parts = self.elements(items)
        return "<mrow>" + "".join(parts) + "</mrow>"

    def atom(self, text: str) -> str:
        if len(text) == 1:
            return self.char(text)
        if text.isdigit():
            return f"<mn>{styled_text(text, self.variant)}</mn>"
        symbol = SYMBOLS.get(text)
        if symbol is not None:
            if symbol.kind == "ord" and symbol.unicode.isalpha() and self.variant:
                variant = self.variant if self.variant != "normal" else None
                char = styled(symbol.unicode, variant) if variant else symbol.unicode
                if variant is None:
                    return f'<mi mathvariant="normal">{escape(char)}</mi>'
                return f"<mi>{escape(char)}</mi>"
            return symbol.mathml
        if text.startswith("\\middle"):
            return mo(delimiter_char(text[7:]), ' stretchy="true" symmetric="true"')
        if text in KNOWN_COMMANDS or text in SIZE_SWITCHES:
            return ""
        return f"<merror><mtext>{escape(text)}</mtext></merror>"

    def char(self, c: str) -> str:
        if c.isalpha():
            if self.variant == "normal":
                return f'<mi mathvariant="normal">{escape(c)}</mi>'
            if self.variant:
                return f"<mi>{styled(c, self.variant)}</mi>"
            return f"<mi>{escape(c)}</mi>"
        if c.isdigit():
            return f"<mn>{styled_text(c, self.variant)}</mn>"
        if c == "~":
            return '<mspace width="0.333em"></mspace>'
        if c in _FENCE_CHARS or c == "|":
            return mo(c, ' stretchy="false" lspace="0" rspace="0"')
        if c in "/.@":
            return mo(c, ' lspace="0" rspace="0"')
        return mo(_CHAR_OPERATORS.get(c, c))

    # -------------------------------------------------------------- text
    def text(self, items: list[Node], variant: str | None) -> str:
        parts: list[str] = []
        buffer: list[str] = []

        def flush() -> None:
            if buffer:
                parts.append(f"<mtext>{escape(styled_text(''.join(buffer), variant))}</mtext>")
                buffer.clear()

        stack: list[list[Node]] = [list(reversed(items))]
        while stack:
            if not stack[-1]:
                stack.pop()
                continue
            node = stack[-1].pop()
            if isinstance(node, Atom):
                buffer.append(self.text_symbol(node.text))
            elif isinstance(node, Group):
                stack.append(list(reversed(node.items)))
            elif isinstance(node, Command):
                inner = self.text_command(node, variant)
                if inner:
                    flush()
                    parts.append(inner)
            elif isinstance(node, Math):
                flush()
                parts.append(self.row(node.body.items))
        flush()
        if not parts:
            return "<mtext></mtext>"
        return parts[0] if len(parts) == 1 else "<mrow>" + "".join(parts) + "</mrow>"

    def text_symbol(self, text: str) -> str:
        if text in _TEXT_SYMBOLS:
            return _TEXT_SYMBOLS[text]
        if text.startswith("\\"):
            symbol = SYMBOLS.get(text)
            return symbol.unicode if symbol and symbol.kind != "space" else ""
        return text

    def text_command(self, node: Command, variant: str | None) -> str:
        arguments = [arg for arg in node.args if isinstance(arg, Text)]
        font = _TEXT_FONTS.get(node.name, variant)
        if node.name == "\\fbox":
            return (
                f'<mrow style="border:1px solid;padding:0.1em">{self.texts(arguments, font)}</mrow>'
            )
        return self.texts(arguments, font)

    def texts(self, arguments: list[Text], variant: str | None) -> str:
        parts = [self.text(arg.items, variant) for arg in arguments]
        return "".join(parts) if len(parts) <= 1 else "<mrow>" + "".join(parts) + "</mrow>"


def _opens(node: Node) -> bool:
    """Does ``node`` start with an opening delimiter (no space after a function name then)?"""
    if isinstance(node, Atom):
        return node.text in _OPENING
    if isinstance(node, Scripts):
        return node.base is not None and _opens(node.base)
    if isinstance(node, Command):
        return node.name.startswith(("\\big", "\\Big"))
    return isinstance(node, Delimited)


def _is_function(node: Node) -> bool:
    """Is ``node`` a named function (``\\sin``, ``\\log_2``, ``\\operatorname{rank}``)?"""
    if isinstance(node, Scripts):
        node = node.base  # type: ignore[assignment]
    if isinstance(node, Atom):
        symbol = SYMBOLS.get(node.text)
        return symbol is not None and symbol.kind == "fn"
    return isinstance(node, Command) and node.name == "\\operatorname"
