"""The writer behind :func:`scipix.latex.normalize`: a tree as canonical model tokens.

Rules it follows (each checked against pdflatex, see ``tests/latex/test_render_equivalence.py``):
braces TeX drops itself go (``{x}^2``, ``{\\bar{K}}_a``, a group that is all of an argument),
except around nested accents, stretchable glue and amsmath dots; synonyms become one spelling;
``\\over`` becomes ``\\frac``; primes are written ``'``; scripts sub-then-sup.
"""

from __future__ import annotations

import re

from scipix.latex.braces import has_accent, takes_group, unwrappable
from scipix.latex.commands import (
    ACCENT_NOADS,
    ARG_SPECS,
    BRACED_RESULTS,
    DELIMITER_SYNONYMS,
    ENVIRONMENTS,
    FONT_SWITCHES,
    LABELS,
    OPERATOR_NAMES,
    OPERATOR_NAMES_LIMITS,
    ORD_ATOMS,
    SIZE_SWITCHES,
    SPACING,
    STYLE_SWITCHES,
    SYNONYMS,
    TEXT_SPECS,
)
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
from scipix.latex.options import NormalizeOptions

#: Model token for a space inside text (``\text{a b}``) and for the control space ``\ ``.
TEXT_SPACE = "\\space"
CONTROL_SPACE = "\\nobreakspace"


_LOSSY_COMMANDS = {
    "\\bm": "\\boldsymbol",
    "\\pmb": "\\boldsymbol",
    "\\mbox": "\\text",
    "\\textrm": "\\text",
    "\\textnormal": "\\text",
    "\\textup": "\\text",
    "\\hbox": "\\text",
}
CACHE_LIMIT = 20_000
WORD_END = re.compile(r"\\[A-Za-z]+$")
_ATOM_TOKENS: dict[str, str] = {**SYNONYMS, "\\ ": CONTROL_SPACE, "\\nobreakspace": CONTROL_SPACE}
_NO_OP_IN_MATH = frozenset({"\\space"})


def _canonical_delimiter(delim: str) -> str:
    return DELIMITER_SYNONYMS.get(delim, delim)


def _atom_token(text: str) -> str:
    token = _ATOM_TOKENS.get(text)
    if token is None:
        token = text
        for prefix in ("\\middle", "\\left", "\\right"):
            if text.startswith(prefix):
                token = prefix + _canonical_delimiter(text[len(prefix) :])
        if len(_ATOM_TOKENS) < CACHE_LIMIT:
            _ATOM_TOKENS[text] = token
    return token


class Writer:
    """Writes a tree as canonical model tokens into ``out``."""

    __slots__ = ("commands", "options", "out")

    def __init__(self, options: NormalizeOptions | None = None) -> None:
        self.options = options or NormalizeOptions()
        self.out: list[str] = []
        self.commands = _LOSSY_COMMANDS if self.options.unify_fonts else {}

    # ------------------------------------------------------------ math lists
    def write_list(self, items: list[Node]) -> None:
        items = self.content(items)
        previous: Node | None = None
        for node in items:
            if type(node) is Group:
                self.write_group(node, previous)
            else:
                self.write(node)
            previous = node

    def content(self, items: list[Node]) -> list[Node]:
        """A list's items as written: lossy options applied, sole inner braces dropped
        (``x^{{a}}`` is ``x^{a}`` in TeX)."""
        lossy = self.options.lossy
        if lossy:
            items = self.prepare(items)
        while len(items) == 1 and type(items[0]) is Group and items[0].braced:
            inner = self.prepare(items[0].items) if lossy else items[0].items
            if not unwrappable(inner):
                break
            items = inner
        return items

    def prepare(self, items: list[Node]) -> list[Node]:
        """Apply the lossy options to one math list."""
        options = self.options
        kept: list[Node] = []
        for k, node in enumerate(items):
            kind = type(node)
            if kind is Atom or kind is Command:
                name = node.text if kind is Atom else node.name  # type: ignore[attr-defined]
                if self.dropped_name(name):
                    continue
                if options.unify_fonts and name in FONT_SWITCHES:
                    rest = self.prepare(items[k + 1 :])
                    target = FONT_SWITCHES[name]
                    if target and rest:
                        kept.append(Command(target, [Group(rest)], False, node.start))
                    else:
                        kept.extend(rest)
                    break
            kept.append(node)
        return kept

    def dropped_name(self, name: str) -> bool:
        options = self.options
        return (
            (options.drop_spacing and name in SPACING)
            or (options.drop_styles and (name in STYLE_SWITCHES or name in SIZE_SWITCHES))
            or (options.drop_labels and name in LABELS)
        )

    def is_dropped(self, node: Node) -> bool:
        if not self.options.lossy:
            return False
        if type(node) is Atom:
            return self.dropped_name(node.text)
        if type(node) is Command:
            return self.dropped_name(node.name)
        return False

    def write(self, node: Node) -> None:
        kind = type(node)
        if kind is Atom:
            text = node.text  # type: ignore[attr-defined]
            if text not in _NO_OP_IN_MATH:
                self.out.append(_atom_token(text))
        elif kind is Scripts:
            self.write_scripts(node)  # type: ignore[arg-type]
        elif kind is Command:
            self.write_command(node)  # type: ignore[arg-type]
        elif kind is Group:
            self.write_group(node, None)  # type: ignore[arg-type]
        elif kind is Delimited:
            self.write_delimited(node)  # type: ignore[arg-type]
        elif kind is Environment:
            self.write_environment(node)  # type: ignore[arg-type]
        elif kind is Infix:
            self.write_infix(node)  # type: ignore[arg-type]
        elif kind is Raw:
            self.out.extend(node.tokens)  # type: ignore[attr-defined]
        elif kind is Math:
            self.out.append("$")
            self.write_list(node.body.items)  # type: ignore[attr-defined]
            self.out.append("$")
        elif kind is Text:
            self.write_text(node.items)  # type: ignore[attr-defined]

    def write_group(self, node: Group, previous: Node | None) -> None:
        items = self.content(node.items)
        if len(items) == 1 and self.strippable(items[0]) and not takes_group(previous):
            self.write(items[0])
            return
        self.out.append("{")
        self.write_list(items)
        self.out.append("}")

    def strippable(self, node: Node) -> bool:
        """Would TeX treat ``{node}`` exactly like ``node``?"""
        kind = type(node)
        if kind is Atom:
            return _atom_token(node.text) in ORD_ATOMS  # type: ignore[attr-defined]
        if isinstance(node, Command):
            name = self.commands.get(node.name, node.name)
            if name in ACCENT_NOADS:  # amsmath typesets nested accents differently
                return not any(has_accent(arg) for arg in node.args)
            return name in BRACED_RESULTS and unwrappable(node.args[-1])
        if kind is Infix:
            return node.op in ("\\over", "\\choose")  # type: ignore[attr-defined]
        return False

    def write_arg(self, group: Group) -> None:
        self.out.append("{")
        self.write_list(group.items)
        self.out.append("}")

    def write_scripts(self, node: Scripts) -> None:
        out = self.out
        base = node.base
        if base is not None:
            if self.is_dropped(base):
                out.append("{")
                out.append("}")
            else:
                self.write(base)
        if node.limits is not None:
            out.append(node.limits)
        if node.sub is not None:
            out.append("_")
            self.write_arg(node.sub)
        primes = node.primes
        sup = node.sup
        rest: list[Node] | None = None
        if sup is not None:
            rest = self.content(sup.items)
            k = 0
            while k < len(rest) and type(rest[k]) is Atom and rest[k].text == "\\prime":  # type: ignore[attr-defined]
                k += 1
            if k:
                primes += k
                rest = rest[k:]
                if not rest:
                    rest = None
        out.extend("'" * primes)
        if rest is not None:
            out.append("^")
            out.append("{")
            self.write_list(rest)
            out.append("}")

    # -------------------------------------------------------------- commands
    def write_command(self, node: Command) -> None:
        out = self.out
        name = self.commands.get(node.name, node.name)
        if name == "\\operatorname" and self.write_named_operator(node):
            return
        out.append(name + "*" if node.star else name)
        spec = ARG_SPECS.get(node.name) or TEXT_SPECS.get(node.name, "")
        letters = [letter for letter in spec if letter != "s"]
        if name == "\\mathop" and self.centered_symbol(node.args[0]):
            letters = ["u"]
        for letter, arg in zip(letters, node.args, strict=False):
            self.write_argument(letter, arg)

    def write_argument(self, letter: str, arg: Arg) -> None:
        out = self.out
        if arg is None:
            return
        if type(arg) is Group:
            if letter == "u":
                self.write(arg.items[0])
            elif letter == "o":
                out.append("[")
                self.write_list(arg.items)
                out.append("]")
            else:
                self.write_arg(arg)
        elif type(arg) is Text:
            out.append("{")
            self.write_text(arg.items)
            out.append("}")
        elif type(arg) is Raw:
            if letter == "d":
                out.extend(arg.tokens)
            elif letter == "O":
                out.append("[")
                out.extend(arg.tokens)
                out.append("]")
            else:
                out.append("{")
                out.extend(arg.tokens)
                out.append("}")
        elif type(arg) is Atom:
            out.append(_canonical_delimiter(arg.text))

    def centered_symbol(self, arg: Arg) -> bool:
        """``\\mathop :`` (a lone non-Ord symbol, unbraced) is centered by TeX; ``\\mathop{:}``
        is not: keep such an argument unbraced."""
        if type(arg) is not Group or arg.braced or len(arg.items) != 1:
            return False
        item = arg.items[0]
        return type(item) is Atom and _atom_token(item.text) not in ORD_ATOMS

    def write_named_operator(self, node: Command) -> bool:
        """``\\operatorname{sin}`` -> ``\\sin``, ``\\operatorname*{lim}`` -> ``\\lim``."""
        arg = node.args[0]
        if type(arg) is not Group or not arg.items:
            return False
        letters = []
        for item in arg.items:
            if type(item) is not Atom or len(item.text) != 1 or not item.text.isalpha():
                return False
            letters.append(item.text)
        name = "".join(letters)
        if name in (OPERATOR_NAMES_LIMITS if node.star else OPERATOR_NAMES):
            self.out.append("\\" + name)
            return True
        return False

    def write_delimited(self, node: Delimited) -> None:
        self.out.append("\\left" + _canonical_delimiter(node.left))
        self.write_list(node.body.items)
        self.out.append("\\right" + _canonical_delimiter(node.right))

    def write_infix(self, node: Infix) -> None:
        out = self.out
        if node.op in ("\\over", "\\choose"):
            out.append("\\frac" if node.op == "\\over" else "\\binom")
            self.write_arg(node.num)
            self.write_arg(node.den)
            return
        self.write_list(node.num.items)
        out.append(node.op)
        if node.dimen is not None:
            out.extend(node.dimen.tokens)
        self.write_list(node.den.items)

    def write_environment(self, node: Environment) -> None:
        out = self.out
        if node.command is not None:
            out.append(node.command)
            out.append("{")
        else:
            out.append(f"\\begin{{{node.name}}}")
            for letter, arg in zip(ENVIRONMENTS.get(node.name, ""), node.args, strict=False):
                self.write_argument(letter, arg)
        rows = node.rows
        if len(rows) > 1:
            last = rows[-1]
            if not last.rules and len(last.cells) == 1 and not last.cells[0].items:
                rows = rows[:-1]
        for r, row in enumerate(rows):
            mark = -1
            if r:
                out.append("\\\\")
                skip = rows[r - 1].skip
                if skip is not None:
                    out.append("[")
                    out.extend(skip.tokens)
                    out.append("]")
                else:
                    mark = len(out)
            for rule in row.rules:
                self.write(rule)
            for c, cell in enumerate(row.cells):
                if c:
                    out.append("&")
                self.write_list(cell.items)
            if 0 <= mark < len(out) and out[mark] in ("*", "["):
                out.insert(mark, "\\relax")  # \\* and \\[ would be read as options
        out.append("}" if node.command is not None else f"\\end{{{node.name}}}")

    # ------------------------------------------------------------------ text
    def write_text(self, items: list[Node]) -> None:
        out = self.out
        drop_spaces = self.options.drop_text_spaces
        for node in items:
            kind = type(node)
            if kind is Atom:
                text = node.text  # type: ignore[attr-defined]
                if text == " " or text == "\\space":
                    if drop_spaces or (out and out[-1] == TEXT_SPACE):
                        continue
                    out.append(CONTROL_SPACE if WORD_END.search(out[-1]) else TEXT_SPACE)
                elif text == "\\ " or text == "\\nobreakspace":
                    out.append(CONTROL_SPACE)
                else:
                    out.append(text)
            elif kind is Group:
                out.append("{")
                self.write_text(node.items)  # type: ignore[attr-defined]
                out.append("}")
            elif kind is Command:
                self.write_command(node)  # type: ignore[arg-type]
            else:
                self.write(node)
