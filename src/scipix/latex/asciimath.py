"""AsciiMath from the tree: :func:`to_asciimath` (``\\frac{1}{2}`` -> ``1/2``).

Symbols come from the symbol table's AsciiMath column; fractions are ``(a)/(b)``, scripts
``x_(i)^(2)`` (parentheses only around more than one token), matrices ``[(a,b),(c,d)]``,
text ``"..."``.
"""

from __future__ import annotations

import re

from scipix.latex.commands import words
from scipix.latex.nodes import (
    Arg,
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
from scipix.latex.parser import parse
from scipix.latex.symbols import SYMBOLS

_SIMPLE = re.compile(r"^(?:[A-Za-z]+|\d+(?:\.\d+)?|[^\sA-Za-z0-9()\[\]{}\"]{1,3})$")
_CHARS = {"*": "**", "/": "//", "\\": "\\\\", "~": "\\ ", "'": "'"}
_DELIMITERS = {
    "(": "(",
    ")": ")",
    "[": "[",
    "]": "]",
    "\\{": "{",
    "\\}": "}",
    "\\lbrace": "{",
    "\\rbrace": "}",
    "|": "|",
    "\\vert": "|",
    "\\lvert": "|",
    "\\rvert": "|",
    "\\|": "||",
    "\\Vert": "||",
    "\\langle": "(:",
    "\\rangle": ":)",
    "<": "(:",
    ">": ":)",
    "\\lfloor": "|__",
    "\\rfloor": "__|",
    "\\lceil": "|~",
    "\\rceil": "~|",
    "/": "//",
}
_FONTS = {
    "\\mathbb": "bbb",
    "\\mathbf": "bb",
    "\\boldsymbol": "bb",
    "\\bm": "bb",
    "\\pmb": "bb",
    "\\mathcal": "cc",
    "\\mathscr": "cc",
    "\\mathfrak": "fr",
    "\\mathsf": "sf",
    "\\mathtt": "tt",
}
_DOUBLE_STRUCK = frozenset("CNQRZ")
_ACCENTS = {
    "\\hat": "hat",
    "\\widehat": "hat",
    "\\bar": "bar",
    "\\overline": "bar",
    "\\vec": "vec",
    "\\overrightarrow": "vec",
    "\\dot": "dot",
    "\\ddot": "ddot",
    "\\tilde": "tilde",
    "\\widetilde": "tilde",
    "\\underline": "ul",
    "\\overbrace": "obrace",
    "\\underbrace": "ubrace",
}
_FENCES = {
    "pmatrix": ("(", ")"),
    "bmatrix": ("[", "]"),
    "Bmatrix": ("{", "}"),
    "vmatrix": ("|", "|"),
    "Vmatrix": ("||", "||"),
    "cases": ("{", ":}"),
    "dcases": ("{", ":}"),
    "rcases": ("{:", "}"),
}
_FUNCTIONS = words(
    "sin cos tan sec csc cot arcsin arccos arctan sinh cosh tanh sech csch coth exp log ln"
    " det dim mod gcd lcm lub glb min max f g lim"
)
_ARROWS = {"\\xrightarrow": "->", "\\xleftarrow": "larr", "\\xRightarrow": "=>"}


def to_asciimath(src: str) -> str:
    """``src`` in AsciiMath; raises :class:`LatexError` for malformed input."""
    return AsciiMathWriter().row(parse(src).items)


_OPERATOR_CHARS = frozenset("+-*/<>=!:|.~^_@&%'\\`")


def _wordlike(char: str) -> bool:
    return char.isalnum() or char == '"'


def _join(parts: list[str]) -> str:
    """Parts with a space only where they would otherwise merge (``x in``, ``- >``)."""
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        if out:
            prev, first = out[-1][-1], part[0]
            if (_wordlike(prev) and _wordlike(first)) or (
                prev in _OPERATOR_CHARS and first in _OPERATOR_CHARS
            ):
                out.append(" ")
        out.append(part)
    return "".join(out)


class AsciiMathWriter:
    __slots__ = ()

    def row(self, items: list[Node]) -> str:
        return _join(self.parts(items))

    def group(self, items: list[Node]) -> str:
        parts = [part for part in self.parts(items) if part]
        if len(parts) == 1 and _SIMPLE.match(parts[0]):
            return parts[0]
        return "(" + _join(parts) + ")"

    def arg(self, arg: Arg) -> str:
        if isinstance(arg, Group):
            return self.group(arg.items)
        if isinstance(arg, Text):
            return self.text(arg)
        if isinstance(arg, Atom):
            return self.atom(arg.text)
        return ""

    def parts(self, items: list[Node]) -> list[str]:
        out: list[str] = []
        k = 0
        while k < len(items):
            node = items[k]
            if isinstance(node, Atom) and node.text.isdigit():
                digits = []
                while k < len(items):
                    item = items[k]
                    if isinstance(item, Atom) and (item.text.isdigit() or item.text == "."):
                        digits.append(item.text)
                        k += 1
                    else:
                        break
                number = "".join(digits)
                following = items[k] if k < len(items) else None
                if (
                    isinstance(following, Scripts)
                    and isinstance(following.base, Atom)
                    and following.base.text.isdigit()
                ):
                    out.append(self.scripts(following, number + following.base.text))
                    k += 1
                else:
                    out.append(number)
                continue
            out.append(self.node(node))
            k += 1
        return out

    def node(self, node: Node | None) -> str:
        if isinstance(node, Atom):
            return self.atom(node.text)
        if isinstance(node, Group):
            return self.row(node.items) if not node.braced else self.group(node.items)
        if isinstance(node, Scripts):
            return self.scripts(node)
        if isinstance(node, Command):
            return self.command(node)
        if isinstance(node, Delimited):
            left = _DELIMITERS.get(node.left, "{:" if node.left == "." else node.left)
            right = _DELIMITERS.get(node.right, ":}" if node.right == "." else node.right)
            return left + self.row(node.body.items) + right
        if isinstance(node, Environment):
            return self.environment(node)
        if isinstance(node, Infix):
            return self.infix(node)
        if isinstance(node, Text):
            return self.text(node)
        if isinstance(node, Math):
            return self.row(node.body.items)
        if isinstance(node, Raw):
            return ""
        return ""

    def atom(self, text: str) -> str:
        if len(text) == 1:
            return _CHARS.get(text, text)
        symbol = SYMBOLS.get(text)
        if symbol is not None:
            if symbol.kind == "space":
                return symbol.asciimath if symbol.asciimath in ("quad", "qquad") else ""
            return symbol.asciimath
        if text.startswith("\\middle"):
            return _DELIMITERS.get(text[7:], text[7:])
        if text.startswith("\\") and text[1:].isalpha():
            return ""
        return text

    def scripts(self, node: Scripts, base_text: str | None = None) -> str:
        base = self.node(node.base) if node.base is not None else '""'
        if base_text is not None:
            base = base_text
        out = base + "'" * node.primes
        if node.sub is not None:
            out += "_" + self.group(node.sub.items)
        if node.sup is not None:
            out += "^" + self.group(node.sup.items)
        return out

    def command(self, node: Command) -> str:
        name, args = node.name, node.args
        if name in ("\\frac", "\\dfrac", "\\tfrac", "\\cfrac"):
            return f"{self.arg(args[-2])}/{self.arg(args[-1])}"
        if name in ("\\binom", "\\dbinom", "\\tbinom"):
            return f"({self.paren(args[0])},{self.paren(args[1])})"
        if name == "\\sqrt":
            if args[0] is not None:
                return f"root{self.paren(args[0])}{self.paren(args[1])}"
            return f"sqrt{self.paren(args[1])}"
        if name in _ACCENTS:
            return f"{_ACCENTS[name]}{self.paren(args[0])}"
        if name in _FONTS:
            inner = self.arg(args[0])
            if name == "\\mathbb" and len(inner) == 1 and inner in _DOUBLE_STRUCK:
                return inner * 2
            return f"{_FONTS[name]}{self.paren(args[0])}"
        if name in ("\\mathrm", "\\operatorname", "\\mathup"):
            parts = self.parts(args[0].items) if isinstance(args[0], Group) else []
            word = "".join(parts)
            if not word.isalpha():
                return _join(parts)
            return word if word in _FUNCTIONS else f'"{word}"'
        if name in ("\\overset", "\\underset", "\\stackrel"):
            return f"{name[1:]}{self.paren(args[0])}{self.paren(args[1])}"
        if name in _ARROWS:
            return f"stackrel{self.paren(args[1])}({_ARROWS[name]})"
        if name in ("\\pmod", "\\pod"):
            return f"(mod {self.arg(args[0])})"
        if name == "\\mod":
            return f"mod {self.arg(args[0])}"
        if name.lstrip("\\").rstrip("lrm") in ("big", "Big", "bigg", "Bigg"):
            delim = args[0].text if isinstance(args[0], Atom) else ""
            return _DELIMITERS.get(delim, delim)
        if name in ("\\phantom", "\\vphantom", "\\hphantom", "\\label", "\\tag"):
            return ""
        if name in ("\\hspace", "\\kern", "\\mkern", "\\hskip", "\\mskip"):
            return ""
        return _join([self.arg(arg) for arg in args if isinstance(arg, Group | Text)])

    def paren(self, arg: Arg) -> str:
        inner = self.row(arg.items) if isinstance(arg, Group) else self.arg(arg)
        return f"({inner})"

    def infix(self, node: Infix) -> str:
        num, den = self.group(node.num.items), self.group(node.den.items)
        if node.op == "\\over":
            return f"{num}/{den}"
        if node.op == "\\choose":
            return f"(({self.row(node.num.items)}),({self.row(node.den.items)}))"
        return f"{{:({self.row(node.num.items)}),({self.row(node.den.items)}):}}"

    def environment(self, node: Environment) -> str:
        rows = node.rows
        if len(rows) > 1 and len(rows[-1].cells) == 1 and not rows[-1].cells[0].items:
            rows = rows[:-1]
        body = ",".join(
            "(" + ",".join(self.row(cell.items) for cell in row.cells) + ")" for row in rows
        )
        left, right = _FENCES.get(node.name, ("{:", ":}"))
        return f"{left}{body}{right}"

    def text(self, node: Text) -> str:
        chars: list[str] = []
        stack: list[list[Node]] = [list(reversed(node.items))]
        while stack:
            if not stack[-1]:
                stack.pop()
                continue
            item = stack[-1].pop()
            if isinstance(item, Atom):
                symbol = SYMBOLS.get(item.text)
                if item.text in (" ", "~", "\\ ", "\\space"):
                    chars.append(" ")
                elif len(item.text) == 1:
                    chars.append(item.text)
                elif symbol is not None and symbol.kind != "space":
                    chars.append(symbol.unicode)
            elif isinstance(item, Group | Text):
                stack.append(list(reversed(item.items)))
            elif isinstance(item, Command):
                stack.append([arg for arg in reversed(item.args) if isinstance(arg, Text)])
            elif isinstance(item, Math):
                chars.append(self.row(item.body.items))
        content = "".join(chars)
        return f"text({content})" if '"' in content else f'"{content}"'
