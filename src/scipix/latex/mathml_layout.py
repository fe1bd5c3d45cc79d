"""MathML for the two-dimensional constructs: scripts and limits, fractions, roots, accents,
fonts, delimiters and environments (the layout half of :mod:`scipix.latex.mathml`)."""

from __future__ import annotations

import re
from html import escape

from scipix.latex.commands import words
from scipix.latex.nodes import (
    Arg,
    Atom,
    Command,
    Delimited,
    Environment,
    Group,
    Infix,
    Node,
    Raw,
    Scripts,
    Text,
)
from scipix.latex.symbols import SYMBOLS

_PRIMES = {1: "′", 2: "″", 3: "‴", 4: "⁗"}
_LIMIT_FUNCTIONS = words(r"\lim \liminf \limsup \max \min \sup \inf \det \gcd \Pr")
_INTEGRALS = words(r"\int \iint \iiint \iiiint \oint \oiint \smallint")
_DELIMITER_CHARS = {
    ".": "",
    "\\{": "{",
    "\\}": "}",
    "\\lbrace": "{",
    "\\rbrace": "}",
    "\\|": "‖",
    "<": "⟨",
    ">": "⟩",
}
_BIG_SIZES = {"big": "1.2em", "Big": "1.623em", "bigg": "2.047em", "Bigg": "2.470em"}
_ARROWS = {
    "\\xrightarrow": "→",
    "\\xleftarrow": "←",
    "\\xleftrightarrow": "↔",
    "\\xRightarrow": "⇒",
    "\\xLeftarrow": "⇐",
    "\\xLeftrightarrow": "⇔",
    "\\xmapsto": "↦",
    "\\xhookrightarrow": "↪",
    "\\xhookleftarrow": "↩",
    "\\xlongequal": "=",
}
_FONTS = {name: symbol.unicode for name, symbol in SYMBOLS.items() if symbol.kind == "font"}
_FENCES = {
    "pmatrix": ("(", ")"),
    "bmatrix": ("[", "]"),
    "Bmatrix": ("{", "}"),
    "vmatrix": ("|", "|"),
    "Vmatrix": ("‖", "‖"),
    "cases": ("{", ""),
    "dcases": ("{", ""),
    "cases*": ("{", ""),
    "rcases": ("", "}"),
}
_ALIGN = {"l": "left", "r": "right", "c": "center"}
_UNITS_EM = {"mu": 1 / 18}
_SAFE_COLOR = re.compile(r"^#?[A-Za-z0-9]{1,20}$")


def mo(char: str, attributes: str = "") -> str:
    return f"<mo{attributes}>{escape(char, quote=False)}</mo>"


def delimiter_char(delim: str) -> str:
    if delim in _DELIMITER_CHARS:
        return _DELIMITER_CHARS[delim]
    symbol = SYMBOLS.get(delim)
    return symbol.unicode if symbol is not None else delim


def _length(tokens: list[str]) -> str:
    """A TeX dimension as a CSS length (``1cm``, ``-0.5em``; ``mu`` become ``em``)."""
    text = "".join(tokens)
    match = re.fullmatch(r"([+-]?)(\d*\.?\d+)(pt|em|ex|mm|cm|in|pc|bp|mu|px)", text)
    if not match:
        return "0.2778em"
    sign, number, unit = match.groups()
    if unit in _UNITS_EM:
        return f"{sign}{float(number) * _UNITS_EM[unit]:.4g}em"
    if unit == "bp":
        unit = "pt"
    return f"{sign}{number}{unit}"


class LayoutMixin:
    __slots__ = ()
    variant: str | None

    # provided by MathMLWriter
    def row(self, items: list[Node]) -> str:
        raise NotImplementedError

    def node(self, node: Node | None) -> str:
        raise NotImplementedError

    def with_variant(self, variant: str | None, items: list[Node]) -> str:
        raise NotImplementedError

    def texts(self, arguments: list[Text], variant: str | None) -> str:
        raise NotImplementedError

    def arg(self, arg: Arg) -> str:
        if isinstance(arg, Group):
            return self.row(arg.items)
        if isinstance(arg, Text):
            return self.texts([arg], None)
        if isinstance(arg, Atom):
            return self.node(arg)
        return "<mrow></mrow>"

    # ------------------------------------------------------------ scripts
    def scripts(self, node: Scripts) -> str:
        base = node.base
        under = self.limits_below(base, node.limits)
        base_element = self.script_base(base, node.limits, under)
        sub = self.row(node.sub.items) if node.sub is not None else None
        sup_parts: list[str] = []
        if node.primes:
            sup_parts.append(mo(_PRIMES.get(node.primes, "′" * node.primes)))
        if node.sup is not None:
            sup_parts.append(self.row(node.sup.items))
        sup = None
        if sup_parts:
            sup = sup_parts[0] if len(sup_parts) == 1 else "<mrow>" + "".join(sup_parts) + "</mrow>"
        if sub is None and sup is None:
            return base_element
        if under:
            if sub is not None and sup is not None:
                return f"<munderover>{base_element}{sub}{sup}</munderover>"
            if sub is not None:
                return f"<munder>{base_element}{sub}</munder>"
            return f"<mover>{base_element}{sup}</mover>"
        if sub is not None and sup is not None:
            return f"<msubsup>{base_element}{sub}{sup}</msubsup>"
        if sub is not None:
            return f"<msub>{base_element}{sub}</msub>"
        return f"<msup>{base_element}{sup}</msup>"

    def limits_below(self, base: Node | None, limits: str | None) -> bool:
        if limits == "\\nolimits" or base is None:
            return False
        if limits == "\\limits":
            return True
        if isinstance(base, Atom):
            symbol = SYMBOLS.get(base.text)
            if symbol is None:
                return False
            if symbol.kind == "op":
                return base.text not in _INTEGRALS
            return base.text in _LIMIT_FUNCTIONS
        if isinstance(base, Command):
            return base.name in ("\\underbrace", "\\overbrace") or (
                base.name == "\\operatorname" and base.star
            )
        return False

    def script_base(self, base: Node | None, limits: str | None, under: bool) -> str:
        if not under or not isinstance(base, Atom):
            return self.node(base)
        symbol = SYMBOLS.get(base.text)
        movable = ' movablelimits="false"' if limits == "\\limits" else ' movablelimits="true"'
        if symbol is None:
            return self.node(base)
        if symbol.kind == "fn":
            return mo(symbol.unicode, movable + ' form="prefix"')
        return mo(symbol.unicode, movable)

    # ----------------------------------------------------------- commands
    def command(self, node: Command) -> str:
        name, args = node.name, node.args
        symbol = SYMBOLS.get(name)
        if name in ("\\frac", "\\dfrac", "\\tfrac", "\\cfrac"):
            fraction = f"<mfrac>{self.arg(args[-2])}{self.arg(args[-1])}</mfrac>"
            if name == "\\tfrac":
                return f'<mstyle displaystyle="false">{fraction}</mstyle>'
            if name in ("\\dfrac", "\\cfrac"):
                return f'<mstyle displaystyle="true">{fraction}</mstyle>'
            return fraction
        if name in ("\\binom", "\\dbinom", "\\tbinom"):
            return self.fenced(
                "(", f'<mfrac linethickness="0">{self.arg(args[0])}{self.arg(args[1])}</mfrac>', ")"
            )
        if name == "\\genfrac":
            return self.genfrac(args)
        if name == "\\sqrt":
            if args[0] is not None:
                return f"<mroot>{self.arg(args[1])}{self.arg(args[0])}</mroot>"
            return f"<msqrt>{self.arg(args[1])}</msqrt>"
        if symbol is not None and symbol.kind in ("accent", "under"):
            return self.accent(name, symbol.unicode, symbol.kind, args[0])
        if name in _FONTS:
            return self.with_variant(
                _FONTS[name], args[0].items if isinstance(args[0], Group) else []
            )
        if name == "\\operatorname":
            word = self.with_variant("normal", args[0].items if isinstance(args[0], Group) else [])
            return word
        if name in ("\\overset", "\\stackrel"):
            return f"<mover>{self.arg(args[1])}{self.arg(args[0])}</mover>"
        if name == "\\underset":
            return f"<munder>{self.arg(args[1])}{self.arg(args[0])}</munder>"
        if name in _ARROWS:
            arrow = mo(_ARROWS[name], ' stretchy="true"')
            if args[0] is not None:
                return f"<munderover>{arrow}{self.arg(args[0])}{self.arg(args[1])}</munderover>"
            return f"<mover>{arrow}{self.arg(args[1])}</mover>"
        return self.other_command(node)

    def other_command(self, node: Command) -> str:
        name, args = node.name, node.args
        if name[1:] in _BIG_SIZES or name[1:-1] in _BIG_SIZES or name[1:-1] == "bigg":
            size = _BIG_SIZES.get(
                name[1:].rstrip("lrm") if name[-1] in "lrm" else name[1:], "1.2em"
            )
            delim = args[0].text if isinstance(args[0], Atom) else "."
            attributes = f' minsize="{size}" maxsize="{size}" stretchy="true" symmetric="true"'
            return mo(delimiter_char(delim), attributes)
        if name == "\\phantom":
            return f"<mphantom>{self.arg(args[0])}</mphantom>"
        if name == "\\vphantom":
            return f'<mpadded width="0"><mphantom>{self.arg(args[0])}</mphantom></mpadded>'
        if name == "\\hphantom":
            return (
                f'<mpadded height="0" depth="0"><mphantom>{self.arg(args[0])}</mphantom></mpadded>'
            )
        if name in ("\\boxed", "\\fbox"):
            return f'<mrow style="border:1px solid;padding:0.2em">{self.arg(args[0])}</mrow>'
        if name in ("\\hspace", "\\kern", "\\mkern", "\\hskip", "\\mskip"):
            raw = args[-1]
            width = _length(raw.tokens) if isinstance(raw, Raw) else "0em"
            return f'<mspace width="{width}"></mspace>'
        if name in ("\\pmod", "\\pod", "\\mod"):
            return self.modulo(name, args[0])
        if name == "\\textcolor" and isinstance(args[0], Raw):
            color = "".join(args[0].tokens)
            style = f' style="color:{color}"' if _SAFE_COLOR.match(color) else ""
            return f"<mrow{style}>{self.arg(args[1])}</mrow>"
        if name in ("\\label", "\\tag", "\\ref", "\\eqref", "\\color", "\\setlength", "\\rule"):
            return ""
        if name in ("\\cancel", "\\bcancel", "\\xcancel", "\\sout"):
            return f'<mrow style="text-decoration:line-through">{self.arg(args[0])}</mrow>'
        parts = [self.arg(arg) for arg in args if isinstance(arg, Group | Text)]
        return parts[0] if len(parts) == 1 else "<mrow>" + "".join(parts) + "</mrow>"

    def accent(self, name: str, mark: str, kind: str, arg: Arg) -> str:
        wide = name.startswith(("\\wide", "\\over", "\\under"))
        stretchy = ' stretchy="true"' if wide else ' stretchy="false"'
        if kind == "under":
            return f'<munder accentunder="true">{self.arg(arg)}{mo(mark, stretchy)}</munder>'
        return f'<mover accent="true">{self.arg(arg)}{mo(mark, stretchy)}</mover>'

    def modulo(self, name: str, arg: Arg) -> str:
        space = '<mspace width="1em"></mspace>'
        inner = f'<mi>mod</mi><mspace width="0.333em"></mspace>{self.arg(arg)}'
        tight = ' stretchy="false" lspace="0" rspace="0"'
        opening, closing = mo("(", tight), mo(")", tight)
        if name == "\\mod":
            return f"<mrow>{space}{inner}</mrow>"
        if name == "\\pod":
            return f"<mrow>{space}{opening}{self.arg(arg)}{closing}</mrow>"
        return f"<mrow>{space}{opening}{inner}{closing}</mrow>"

    def genfrac(self, args: list[Arg]) -> str:
        left = delimiter_char("".join(args[0].tokens)) if isinstance(args[0], Raw) else ""
        right = delimiter_char("".join(args[1].tokens)) if isinstance(args[1], Raw) else ""
        thickness = _length(args[2].tokens) if isinstance(args[2], Raw) and args[2].tokens else ""
        attribute = f' linethickness="{thickness}"' if thickness else ""
        fraction = f"<mfrac{attribute}>{self.arg(args[4])}{self.arg(args[5])}</mfrac>"
        return self.fenced(left, fraction, right) if left or right else fraction

    def fenced(self, left: str, body: str, right: str) -> str:
        attributes = ' fence="true" stretchy="true" symmetric="true" lspace="0" rspace="0"'
        opening = mo(left, attributes + ' form="prefix"') if left else ""
        closing = mo(right, attributes + ' form="postfix"') if right else ""
        return f"<mrow>{opening}{body}{closing}</mrow>"

    def delimited(self, node: Delimited) -> str:
        body = self.row(node.body.items)
        return self.fenced(delimiter_char(node.left), body, delimiter_char(node.right))

    def infix(self, node: Infix) -> str:
        num, den = self.row(node.num.items), self.row(node.den.items)
        if node.op == "\\over":
            return f"<mfrac>{num}{den}</mfrac>"
        thickness = ' linethickness="0"'
        if node.op == "\\above" and node.dimen is not None:
            thickness = f' linethickness="{_length(node.dimen.tokens)}"'
        fraction = f"<mfrac{thickness}>{num}{den}</mfrac>"
        fences = {"\\choose": ("(", ")"), "\\brace": ("{", "}"), "\\brack": ("[", "]")}
        if node.op in fences:
            left, right = fences[node.op]
            return self.fenced(left, fraction, right)
        return fraction

    # ------------------------------------------------------- environments
    def environment(self, node: Environment) -> str:
        aligns = self.column_aligns(node)
        rows = node.rows
        if len(rows) > 1 and len(rows[-1].cells) == 1 and not rows[-1].cells[0].items:
            rows = rows[:-1]
        body: list[str] = []
        for row in rows:
            cells = []
            for c, cell in enumerate(row.cells):
                align = aligns[c % len(aligns)] if aligns else "center"
                style = self.cell_style(node.name, c, align)
                cells.append(f"<mtd{style}>{self.row(cell.items)}</mtd>")
            body.append("<mtr>" + "".join(cells) + "</mtr>")
        display = node.name.rstrip("*") in ("aligned", "align", "gathered", "gather", "split")
        display = display or node.name in ("dcases", "eqnarray", "eqnarray*", "alignedat")
        attributes = ' displaystyle="true"' if display else ""
        if node.name == "smallmatrix" or node.command == "\\substack":
            attributes += ' scriptlevel="1"' if node.name == "smallmatrix" else ""
        table = f"<mtable{attributes}>{''.join(body)}</mtable>"
        fences = _FENCES.get(node.name)
        if fences is not None:
            return self.fenced(fences[0], table, fences[1])
        return table

    def column_aligns(self, node: Environment) -> list[str]:
        name = node.name.rstrip("*")
        if name in ("array", "subarray", "tabular"):
            spec = next((arg for arg in node.args if isinstance(arg, Raw)), None)
            letters = [_ALIGN[t] for t in (spec.tokens if spec else []) if t in _ALIGN]
            return letters or ["center"]
        if name in ("aligned", "align", "split", "alignedat", "alignat", "flalign", "eqnarray"):
            return ["right", "left"]
        if name in ("cases", "dcases", "rcases"):
            return ["left", "left"]
        return ["center"]

    def cell_style(self, name: str, column: int, align: str) -> str:
        styles = []
        if align != "center":
            styles.append(f"text-align:{align}")
        if name.rstrip("*") in ("aligned", "align", "split", "alignedat", "alignat"):
            styles.append("padding-right:0" if column % 2 == 0 else "padding-left:0")
        return f' style="{";".join(styles)}"' if styles else ""
