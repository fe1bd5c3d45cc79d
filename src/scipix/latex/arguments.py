"""Argument and text-mode reading for the parser (:mod:`scipix.latex.parser`).

:class:`Reader` holds the token stream and the position; it reads what follows a command:
braced or single-token math arguments, optional ``[...]`` arguments, verbatim arguments (column
specs, labels, dimensions), delimiters, and text-mode content with its spaces and ``$...$``.
"""

from __future__ import annotations

from scipix.errors import LatexError
from scipix.latex.commands import DELIMITERS, INFIX, TEXT_SPECS, words
from scipix.latex.nodes import Arg, Atom, Command, Group, Math, Node, Raw, Text
from scipix.latex.tokenizer import Lexed

#: Deepest nesting of groups, arguments and environments accepted.
MAX_DEPTH = 200

# Contexts of a math list: which tokens end it.
TOP, BRACE, CELL, DELIM, OPT, DOLLAR = 0, 1, 2, 4, 8, 16

UNITS = words("pt pc in bp cm mm dd cc sp em ex mu px")
_GLUE = frozenset({"\\hskip", "\\mskip", "\\vskip"})
NOT_AN_ARGUMENT = frozenset({"}", "^", "_", "&", "'", "#", "$", "\\\\", "\\sp", "\\sb"}) | INFIX


def describe(token: str) -> str:
    return f"'{token}'"


class Reader:
    """The token stream of one source string and the reading position (not thread-shared)."""

    __slots__ = ("depth", "i", "n", "pos", "spaced", "src", "toks")

    def __init__(self, src: str) -> None:
        lexed = Lexed(src)
        self.src = src
        self.toks = lexed.texts
        self.pos = lexed.starts
        self.spaced = lexed.spaced
        self.n = len(self.toks)
        self.i = 0
        self.depth = 0

    # implemented by the parser
    def parse_list(self, ctx: int) -> list[Node]:
        raise NotImplementedError

    def parse_group(self) -> Group:
        raise NotImplementedError

    def parse_single(self) -> Node:
        raise NotImplementedError

    def error(self, message: str, index: int | None = None, issue: str = "syntax") -> LatexError:
        """A :class:`LatexError` at token ``index`` (default: the current one); ``issue`` names
        the kind of problem (``unbalanced_brace``, ``double_script`` ...)."""
        where = self.i if index is None else index
        position = self.pos[where] if where < len(self.pos) else len(self.src)
        return LatexError(f"{message} (at position {position})", position=position, issue=issue)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"formula is nested deeper than {MAX_DEPTH} levels", issue="too_deep")

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < self.n else None

    def missing(self, name: str, number: int, start: int) -> LatexError:
        """The error for a missing argument, at the place where it was expected."""
        if self.i >= self.n:
            return self.error(
                f"{name} is missing argument {number}: the formula ends where {{...}} was expected",
                self.n,
                issue="missing_argument",
            )
        return self.error(
            f"{name} is missing argument {number}: expected {{...}} but found "
            f"{describe(self.toks[self.i])}",
            issue="missing_argument",
        )

    def parse_argument(self, letter: str, name: str, number: int, start: int) -> Arg:
        if letter == "m":
            return self.parse_math_arg(name, number, start)
        if letter == "o":
            return self.parse_optional() if self.peek() == "[" else None
        if letter == "t":
            return self.parse_text_arg(name, number, start)
        if letter == "r":
            return self.parse_raw(name, number, start)
        if letter == "O":
            return self.parse_raw_optional() if self.peek() == "[" else None
        if letter == "d":
            return self.parse_dimen(name)
        return self.parse_delimiter_arg(name)

    def parse_math_arg(self, name: str, number: int, start: int) -> Group:
        t = self.peek()
        if t is None or t in NOT_AN_ARGUMENT:
            raise self.missing(name, number, start)
        if t == "{":
            return self.parse_group()
        # unbraced (braced=False) is kept apart: \mathop : is not \mathop{:} in TeX
        start = self.pos[self.i]
        return Group([self.parse_single()], False, start)

    def parse_optional(self) -> Group:
        open_index = self.i
        self.i += 1
        items = self.parse_list(OPT)
        if self.i >= self.n:
            raise self.error(
                "'[' of an optional argument is never closed: expected ']'",
                open_index,
                issue="unbalanced_bracket",
            )
        self.i += 1
        return Group(items, False, self.pos[open_index])

    def parse_raw(self, name: str, number: int, start: int) -> Raw:
        t = self.peek()
        if t is None or t in NOT_AN_ARGUMENT:
            raise self.missing(name, number, start)
        if t != "{":
            self.i += 1
            return Raw([t], self.pos[self.i - 1])
        return self.collect_raw("{", "}")

    def parse_raw_optional(self) -> Raw:
        return self.collect_raw("[", "]")

    def collect_raw(self, opening: str, closing: str) -> Raw:
        open_index = self.i
        self.i += 1
        toks = self.toks
        level = 0
        out: list[str] = []
        while self.i < self.n:
            t = toks[self.i]
            if t == closing and level == 0:
                self.i += 1
                return Raw(out, self.pos[open_index])
            if t == "{":
                level += 1
            elif t == "}":
                level -= 1
                if level < 0:
                    break
            out.append(t)
            self.i += 1
        raise self.error(
            f"'{opening}' is never closed: expected '{closing}'",
            open_index,
            issue="unbalanced_brace",
        )

    def parse_dimen(self, name: str) -> Raw:
        """An unbraced TeX dimension: ``2pt``, ``-.5em``, ``-\\nulldelimiterspace``."""
        toks = self.toks
        start = self.i
        out: list[str] = []
        while self.i < self.n and toks[self.i] in ("-", "+"):
            out.append(toks[self.i])
            self.i += 1
        number = False
        while self.i < self.n and (toks[self.i].isdigit() or toks[self.i] in (".", ",")):
            out.append(toks[self.i])
            self.i += 1
            number = True
        t = self.peek()
        if t is not None and t.startswith("\\") and t[1:].isalpha():
            out.append(t)
            self.i += 1
            return Raw(out, self.pos[start])
        if number:
            unit = self.read_unit()
            if unit:
                out.extend(unit)
                if name in _GLUE:
                    self.read_glue_keyword(out, "plus")
                    self.read_glue_keyword(out, "minus")
                return Raw(out, self.pos[start])
            raise self.error(
                f"{name}: expected a unit (pt, em, ex, mu, mm, cm ...) after the number",
                issue="bad_dimension",
            )
        raise self.error(
            f"{name} must be followed by a dimension such as 2pt or -0.5em", issue="bad_dimension"
        )

    def read_unit(self) -> list[str]:
        toks = self.toks
        i = self.i
        letters: list[str] = []
        if "".join(toks[i : i + 4]) == "true":
            letters = toks[i : i + 4]
            i += 4
        pair = "".join(toks[i : i + 2])
        if pair in UNITS:
            self.i = i + 2
            return [*letters, *toks[i : i + 2]]
        if pair == "fi" and i + 2 < self.n and toks[i + 2] == "l":
            end = i + 3
            while end < self.n and end < i + 5 and toks[end] == "l":
                end += 1
            self.i = end
            return list(toks[i:end])
        return []

    def read_glue_keyword(self, out: list[str], keyword: str) -> None:
        i = self.i
        if "".join(self.toks[i : i + len(keyword)]) != keyword:
            return
        self.i = i + len(keyword)
        out.extend(keyword)
        out.extend(self.parse_dimen(keyword).tokens)

    def check_delimiter(self, token: str, prefix: int) -> str:
        delim = token[prefix:]
        if delim not in DELIMITERS:
            following = self.toks[self.i + 1] if self.i + 1 < self.n else None
            if delim:
                found = f"found {describe(delim)}"
            else:
                found = f"found {describe(following)}" if following else "the formula ends"
            raise self.error(
                f"{token[:prefix]} must be followed by a delimiter such as ( [ \\{{ | . or "
                f"\\langle; {found}",
                issue="bad_delimiter",
            )
        return delim

    def parse_delimiter_arg(self, name: str) -> Atom:
        t = self.peek()
        if t is None or t not in DELIMITERS:
            found = f"found {describe(t)}" if t else "the formula ends"
            raise self.error(
                f"{name} must be followed by a delimiter such as ( or \\{{; {found}",
                issue="bad_delimiter",
            )
        self.i += 1
        return Atom(t, self.pos[self.i - 1])

    def parse_text_arg(self, name: str, number: int, start: int) -> Text:
        t = self.peek()
        if t is None or t in NOT_AN_ARGUMENT:
            raise self.missing(name, number, start)
        if t != "{":
            self.i += 1
            atom = Atom("\\ " if t == "\\" else t, self.pos[self.i - 1])
            return Text([atom], self.pos[self.i - 1])
        open_index = self.i
        self.i += 1
        self.enter()
        items = self.parse_text_items(open_index)
        self.depth -= 1
        return Text(items, self.pos[open_index])

    def parse_text_items(self, open_index: int) -> list[Node]:
        """Text-mode content up to the matching ``}`` (consumed)."""
        toks = self.toks
        items: list[Node] = []
        after_word = False
        while self.i < self.n:
            t = toks[self.i]
            if self.spaced[self.i] and not after_word and not (items and is_space(items[-1])):
                items.append(Atom(" ", self.pos[self.i] - 1))
            after_word = False
            if t == "}":
                self.i += 1
                return items
            if t == "{":
                self.enter()
                start = self.i
                self.i += 1
                items.append(Group(self.parse_text_items(start), True, self.pos[start]))
                self.depth -= 1
            elif t == "$":
                items.append(self.parse_text_math())
            elif t in ("&", "#"):
                raise self.error(
                    f"misplaced {describe(t)} inside text; write \\{t} for the sign",
                    issue="misplaced_alignment",
                )
            elif t.startswith("\\") and len(t) > 1 and t[1].isalpha():
                if t.startswith(("\\begin{", "\\end{")) or t in ("\\left", "\\right"):
                    raise self.error(f"{describe(t)} is not allowed inside text")
                node = self.parse_text_command(t)
                items.append(node)
                after_word = type(node) is Atom  # TeX skips spaces after a control word
            else:
                items.append(Atom("\\ " if t == "\\" else t, self.pos[self.i]))
                self.i += 1
        raise self.error(
            "'{' of a text argument is never closed: expected '}'",
            open_index,
            issue="unbalanced_brace",
        )

    def parse_text_command(self, name: str) -> Node:
        spec = TEXT_SPECS.get(name)
        if spec is None:
            self.i += 1
            return Atom(name, self.pos[self.i - 1])
        if name == "\\ensuremath":
            start = self.i
            self.i += 1
            body = self.parse_math_arg(name, 1, start)
            return Math(body, self.pos[start])
        return self.parse_command_with(name, spec)

    def parse_command_with(self, name: str, spec: str) -> Command:
        start = self.i
        self.i += 1
        self.enter()
        args: list[Arg] = []
        star = False
        number = 0
        for letter in spec:
            if letter == "s":
                if self.peek() == "*":
                    star = True
                    self.i += 1
                continue
            number += 1
            args.append(self.parse_argument(letter, name, number, start))
        self.depth -= 1
        return Command(name, args, star, self.pos[start])

    def parse_text_math(self) -> Math:
        open_index = self.i
        self.i += 1
        items = self.parse_list(DOLLAR)
        if self.i >= self.n:
            raise self.error("'$' inside text is never closed: expected '$'", open_index)
        self.i += 1
        return Math(Group(items), self.pos[open_index])


def is_space(node: Node) -> bool:
    return type(node) is Atom and node.text == " "
