"""The typed tree the parser builds and every converter reads.

::

    Group        a math list; ``braced`` when written ``{...}`` in the source
    Atom         one symbol: a letter, digit, character or argument-less command (``\\alpha``)
    Scripts      base with sub-/superscripts, primes and ``\\limits``
    Command      a command with arguments (``\\frac``, ``\\sqrt``, ``\\mathbf``, ``\\hspace``)
    Text         text-mode content (``\\text{...}`` argument): Atoms (spaces included), Commands,
                 braced Groups and Math
    Math         ``$...$`` inside text
    Raw          a verbatim argument kept as tokens (a dimension, a column spec, a label)
    Delimited    ``\\left( ... \\middle| ... \\right)``
    Infix        ``{a \\over b}``, ``\\atop``, ``\\choose`` …
    Environment  ``\\begin{pmatrix} ... \\end{pmatrix}`` (and ``\\substack{..}``): rows of cells

Every node has ``start``: the character offset where it begins in the source.
"""

from __future__ import annotations

from typing import Any


class Node:
    __slots__ = ("start",)
    start: int

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        """Structural equality (positions ignored)."""
        return (
            isinstance(other, Node)
            and type(self) is type(other)
            and self._fields() == other._fields()
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self._fields())))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({inner})"


class Atom(Node):
    __slots__ = ("text",)

    def __init__(self, text: str, start: int = 0) -> None:
        self.text = text
        self.start = start


class Group(Node):
    __slots__ = ("braced", "items")

    def __init__(self, items: list[Node], braced: bool = False, start: int = 0) -> None:
        self.items = items
        self.braced = braced
        self.start = start


class Scripts(Node):
    __slots__ = ("base", "limits", "primes", "sub", "sup")

    def __init__(
        self,
        base: Node | None,
        sub: Group | None = None,
        sup: Group | None = None,
        primes: int = 0,
        limits: str | None = None,
        start: int = 0,
    ) -> None:
        self.base = base
        self.sub = sub
        self.sup = sup
        self.primes = primes
        self.limits = limits
        self.start = start


class Raw(Node):
    __slots__ = ("tokens",)

    def __init__(self, tokens: list[str], start: int = 0) -> None:
        self.tokens = tokens
        self.start = start


class Text(Node):
    __slots__ = ("items",)

    def __init__(self, items: list[Node], start: int = 0) -> None:
        self.items = items
        self.start = start


class Math(Node):
    __slots__ = ("body",)

    def __init__(self, body: Group, start: int = 0) -> None:
        self.body = body
        self.start = start


#: An argument: a math Group, a Text, a Raw, an Atom (a delimiter) or None (optional, absent).
Arg = Group | Text | Raw | Atom | None


class Command(Node):
    __slots__ = ("args", "name", "star")

    def __init__(self, name: str, args: list[Arg], star: bool = False, start: int = 0) -> None:
        self.name = name
        self.args = args
        self.star = star
        self.start = start


class Delimited(Node):
    __slots__ = ("body", "left", "right")

    def __init__(self, left: str, body: Group, right: str, start: int = 0) -> None:
        self.left = left
        self.body = body
        self.right = right
        self.start = start


class Infix(Node):
    __slots__ = ("den", "dimen", "num", "op")

    def __init__(
        self, op: str, num: Group, den: Group, dimen: Raw | None = None, start: int = 0
    ) -> None:
        self.op = op
        self.num = num
        self.den = den
        self.dimen = dimen
        self.start = start


class Row(Node):
    """One row of an environment: its cells, the rules before it (``\\hline``) and the optional
    spacing of the ``\\\\`` that ends it (``\\\\[2pt]``)."""

    __slots__ = ("cells", "rules", "skip")

    def __init__(
        self, cells: list[Group], rules: list[Node], skip: Raw | None = None, start: int = 0
    ) -> None:
        self.cells = cells
        self.rules = rules
        self.skip = skip
        self.start = start


class Environment(Node):
    """``\\begin{name}args ... \\end{name}``; ``command`` is set for ``\\substack{...}``."""

    __slots__ = ("args", "command", "name", "rows")

    def __init__(
        self,
        name: str,
        args: list[Arg],
        rows: list[Row],
        command: str | None = None,
        start: int = 0,
    ) -> None:
        self.name = name
        self.args = args
        self.rows = rows
        self.command = command
        self.start = start
