"""The parser: tokens -> typed tree (:mod:`scipix.latex.nodes`), in one pass.

Recursion follows the nesting of the formula and is bounded by :data:`MAX_DEPTH`; deeper input
is refused with a :class:`LatexError`, so hostile input cannot exhaust the Python stack. Unknown
commands parse as argument-less atoms (the validator reports them); structural problems raise
:class:`LatexError` with the position of the problem and what was expected.
"""

from __future__ import annotations

from scipix.errors import LatexError
from scipix.latex.arguments import (
    BRACE,
    CELL,
    DELIM,
    DOLLAR,
    NOT_AN_ARGUMENT,
    OPT,
    TOP,
    describe,
)
from scipix.latex.commands import ARG_SPECS, INFIX
from scipix.latex.environments import EnvironmentReader
from scipix.latex.nodes import (
    Arg,
    Atom,
    Command,
    Delimited,
    Group,
    Infix,
    Node,
    Raw,
    Scripts,
)
from scipix.latex.symbols import UNICODE_TO_COMMAND

_SCRIPT_TOKENS = {"^": "sup", "_": "sub", "\\sp": "sup", "\\sb": "sub"}
_LIMITS = frozenset({"\\limits", "\\nolimits", "\\displaylimits"})
_SKIPPED = frozenset({"\\protect", "\\relax"})
_SPECIAL_CHARS = frozenset("{}^_'&#$]\\")


def parse(src: str) -> Group:
    """Parse LaTeX math into a tree (the root is an unbraced :class:`Group`).

    Raises :class:`LatexError` (with ``position``) for malformed input.
    """
    return Parser(src).parse_root()


class Parser(EnvironmentReader):
    """One parse of one source string (not reusable, not thread-shared)."""

    __slots__ = ()

    def parse_root(self) -> Group:
        items = self.parse_list(TOP)
        if self.i < self.n:  # parse_list stops at TOP only on errors it reports itself
            raise self.error(f"unexpected {describe(self.toks[self.i])}")
        return Group(items, False, 0)

    # ---------------------------------------------------------------- math lists
    def parse_list(self, ctx: int) -> list[Node]:
        self.enter()
        toks = self.toks
        n = self.n
        items: list[Node] = []
        infix: tuple[str, list[Node], int, Raw | None] | None = None
        while self.i < n:
            t = toks[self.i]
            if len(t) == 1:
                if t not in _SPECIAL_CHARS:
                    if t.isascii():
                        items.append(Atom(t, self.pos[self.i]))
                        self.i += 1
                    else:
                        self.unicode_char(t, items)
                    continue
                if t == "{":
                    items.append(self.parse_group())
                    continue
                if t == "}":
                    if ctx & BRACE:
                        break
                    raise self.unexpected(ctx)
                if t == "^" or t == "_":
                    self.attach_script(items, _SCRIPT_TOKENS[t])
                    continue
                if t == "'":
                    self.attach_primes(items)
                    continue
                if t == "]":
                    if ctx & OPT:
                        break
                    items.append(Atom(t, self.pos[self.i]))
                    self.i += 1
                    continue
                if t == "&":
                    if ctx & CELL:
                        break
                    raise self.unexpected(ctx)
                if t == "$":
                    if ctx & DOLLAR:
                        break
                    raise self.error("'$' inside math: remove it (the formula is already math)")
                if t == "\\":  # TeX reads a backslash at the end of a line as "\ "
                    items.append(Atom("\\ ", self.pos[self.i]))
                    self.i += 1
                    continue
                raise self.error(
                    "'#' (a macro parameter) cannot appear in a formula; write \\# for the sign"
                )
            # a control sequence (or a lone backslash)
            if t in _SCRIPT_TOKENS:
                self.attach_script(items, _SCRIPT_TOKENS[t])
            elif t in INFIX:
                if infix is not None:
                    raise self.error(
                        f"ambiguous: a second {t} in the same group (the first at position "
                        f"{infix[2]}); add braces around one of the fractions"
                    )
                start = self.pos[self.i]
                self.i += 1
                dimen = self.parse_dimen(t) if t == "\\above" else None
                infix = (t, items, start, dimen)
                items = []
            elif t in _LIMITS:
                self.attach_limits(items, t)
            elif t in _SKIPPED:
                self.i += 1
            elif t == "\\\\":
                if ctx & CELL:
                    break
                raise self.unexpected(ctx)
            elif t == "\\ensuremath":
                start = self.i
                self.i += 1
                self.splice(items, self.parse_math_arg(t, 1, start).items, start)
            else:
                c1 = t[1:2]
                if c1 in "belrm" and t.startswith(
                    ("\\begin{", "\\end{", "\\left", "\\right", "\\middle")
                ):
                    if t.startswith("\\begin{"):
                        items.append(self.parse_environment())
                    elif t.startswith("\\end{"):
                        if ctx & CELL:
                            break
                        raise self.unexpected(ctx)
                    elif t.startswith("\\left") and (len(t) == 5 or not t[5].isalpha()):
                        items.append(self.parse_delimited())
                    elif t.startswith("\\right") and (len(t) == 6 or not t[6].isalpha()):
                        if ctx & DELIM:
                            break
                        raise self.unexpected(ctx)
                    elif t.startswith("\\middle") and (len(t) == 7 or not t[7].isalpha()):
                        if not ctx & DELIM:
                            raise self.error(
                                f"'{t}' outside \\left ... \\right", issue="unbalanced_delimiter"
                            )
                        self.check_delimiter(t, 7)
                        items.append(Atom(t, self.pos[self.i]))
                        self.i += 1
                    else:
                        items.append(self.parse_command(t))
                elif t == "\\substack":
                    items.append(self.parse_substack())
                else:
                    items.append(self.parse_command(t))
        self.depth -= 1
        if infix is not None:
            op, num, start, dimen = infix
            return [Infix(op, Group(num), Group(items), dimen, start)]
        return items

    def splice(self, items: list[Node], spliced: list[Node], index: int) -> None:
        """Append ``\\ensuremath``'s content as TeX does: scripts and limits at its start attach
        to what precedes it."""
        for node in spliced:
            if isinstance(node, Atom) and node.text in _LIMITS and items:
                holder = self.script_holder(items)
                holder.limits = node.text
            elif isinstance(node, Scripts) and node.base is None and items:
                holder = self.script_holder(items)
                if (node.sub is not None and holder.sub is not None) or (
                    (node.sup is not None or node.primes)
                    and (holder.sup is not None or holder.primes)
                ):
                    raise self.error("double script: use braces", index, issue="double_script")
                holder.sub = holder.sub or node.sub
                holder.sup = holder.sup or node.sup
                holder.primes = holder.primes or node.primes
                holder.limits = node.limits or holder.limits
            else:
                items.append(node)

    def unicode_char(self, t: str, items: list[Node]) -> None:
        command = UNICODE_TO_COMMAND.get(t)
        if command == "'":
            self.attach_primes(items)
            return
        items.append(Atom(command or t, self.pos[self.i]))
        self.i += 1

    def unexpected(self, ctx: int) -> LatexError:
        t = self.toks[self.i]
        if t == "}":
            if ctx & DELIM:
                return self.error(
                    "'}' closes a group before the \\right of an open \\left",
                    issue="unbalanced_brace",
                )
            if ctx & (CELL | OPT):
                return self.error(
                    "'}' closes a group that is still open inside [ ] or a cell",
                    issue="unbalanced_brace",
                )
            return self.error("unexpected '}': no '{' opened it", issue="unbalanced_brace")
        if t in ("&", "\\\\"):
            return self.error(
                f"misplaced {describe(t)}: it is allowed only directly in an environment's "
                "cells (matrix, array, aligned, cases ...)",
                issue="misplaced_alignment",
            )
        if t.startswith("\\end{"):
            return self.error(
                f"{describe(t)} without a matching \\begin{{{t[5:-1]}}}",
                issue="environment_mismatch",
            )
        if t.startswith("\\right"):
            return self.error(
                f"{describe(t)} without a matching \\left", issue="unbalanced_delimiter"
            )
        return self.error(f"unexpected {describe(t)}")

    def parse_group(self) -> Group:
        open_index = self.i
        self.i += 1
        items = self.parse_list(BRACE)
        if self.i >= self.n:
            raise self.error(
                "'{' is never closed: expected '}'", open_index, issue="unbalanced_brace"
            )
        self.i += 1
        return Group(items, True, self.pos[open_index])

    # ----------------------------------------------------------------- scripts
    def script_holder(self, items: list[Node]) -> Scripts:
        if items:
            last = items[-1]
            if type(last) is Scripts:
                return last
            holder = Scripts(last, start=last.start)
            items[-1] = holder
            return holder
        holder = Scripts(None, start=self.pos[self.i])
        items.append(holder)
        return holder

    def attach_script(self, items: list[Node], kind: str) -> None:
        index = self.i
        holder = self.script_holder(items)
        self.i += 1
        if kind == "sup":
            if holder.sup is not None or holder.primes:
                raise self.error(
                    "double superscript: use braces, e.g. x^{a b} or {x^a}^b",
                    index,
                    issue="double_script",
                )
            holder.sup = self.parse_script_arg(index)
        else:
            if holder.sub is not None:
                raise self.error(
                    "double subscript: use braces, e.g. x_{a b} or {x_a}_b",
                    index,
                    issue="double_script",
                )
            holder.sub = self.parse_script_arg(index)

    def attach_primes(self, items: list[Node]) -> None:
        index = self.i
        holder = self.script_holder(items)
        if holder.sup is not None or holder.primes:
            raise self.error(
                "double superscript: a prime after a superscript", index, issue="double_script"
            )
        toks = self.toks
        count = 0
        while self.i < self.n and (toks[self.i] == "'" or toks[self.i] == "′"):
            count += 1
            self.i += 1
        holder.primes = count
        if self.i < self.n and toks[self.i] in ("^", "\\sp"):
            self.i += 1
            holder.sup = self.parse_script_arg(self.i - 1)

    def attach_limits(self, items: list[Node], t: str) -> None:
        if items:
            last = items[-1]
            if type(last) is Scripts:
                last.limits = t
            else:
                items[-1] = Scripts(last, limits=t, start=last.start)
        else:
            items.append(Atom(t, self.pos[self.i]))
        self.i += 1

    def parse_script_arg(self, index: int) -> Group:
        what = "superscript" if self.toks[index] in ("^", "\\sp", "'") else "subscript"
        if self.i >= self.n:
            raise self.error(
                f"missing {what} after {describe(self.toks[index])}: the formula ends",
                self.n,
                issue="missing_argument",
            )
        t = self.toks[self.i]
        if t == "{":
            group = self.parse_group()
            return Group(group.items, False, group.start)
        if t in NOT_AN_ARGUMENT:
            raise self.error(
                f"missing {what}: expected {{...}} but found {describe(t)}",
                issue="missing_argument",
            )
        return Group([self.parse_single()], False, self.pos[self.i - 1])

    # --------------------------------------------------------------- arguments
    def parse_single(self) -> Node:
        """One token as an unbraced argument (``\\frac12``, ``x^\\alpha``)."""
        t = self.toks[self.i]
        if t.startswith("\\") and len(t) > 1:
            if _structural(t):
                raise self.error(f"{describe(t)} cannot be an unbraced argument; add braces")
            if t == "\\substack":
                return self.parse_substack()
            if t == "\\ensuremath":
                start = self.i
                self.i += 1
                return Group(self.parse_math_arg(t, 1, start).items, True, self.pos[start])
            return self.parse_command(t)
        if t == "{":
            return self.parse_group()
        self.i += 1
        if t == "\\":  # a backslash at the very end: TeX reads "\ "
            return Atom("\\ ", self.pos[self.i - 1])
        if not t.isascii():
            return Atom(UNICODE_TO_COMMAND.get(t, t), self.pos[self.i - 1])
        return Atom(t, self.pos[self.i - 1])

    def parse_command(self, name: str) -> Node:
        start = self.i
        spec = ARG_SPECS.get(name)
        self.i += 1
        if spec is None:
            return Atom(name, self.pos[start])
        self.enter()
        args: list[Arg] = []
        star = False
        number = 0
        for letter in spec:
            if letter == "s":
                if self.i < self.n and self.toks[self.i] == "*":
                    star = True
                    self.i += 1
                continue
            number += 1
            args.append(self.parse_argument(letter, name, number, start))
        self.depth -= 1
        return Command(name, args, star, self.pos[start])

    # ---------------------------------------------------------- \left ... \right
    def parse_delimited(self) -> Delimited:
        open_index = self.i
        left = self.check_delimiter(self.toks[self.i], 5)
        self.i += 1
        items = self.parse_list(DELIM)
        if self.i >= self.n:
            raise self.error(
                f"{describe(self.toks[open_index])} has no matching \\right",
                open_index,
                issue="unbalanced_delimiter",
            )
        right = self.check_delimiter(self.toks[self.i], 6)
        self.i += 1
        return Delimited(left, Group(items), right, self.pos[open_index])


def _structural(t: str) -> bool:
    """``\\begin{..}``, ``\\end{..}``, ``\\left(``, ``\\right)``, ``\\middle|`` tokens."""
    if t.startswith(("\\begin{", "\\end{")):
        return True
    for prefix in ("\\left", "\\right", "\\middle"):
        if t.startswith(prefix) and (len(t) == len(prefix) or not t[len(prefix)].isalpha()):
            return True
    return False
