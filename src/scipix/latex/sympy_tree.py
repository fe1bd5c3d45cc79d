"""The tree as a SymPy expression, for the symbolic level of :mod:`scipix.latex.equivalence`.

Covers school and textbook algebra: numbers, letters and Greek letters, ``+ - \\cdot \\times
\\div``, implicit products, powers and subscripted names, ``\\frac \\sqrt \\binom``, parentheses
and ``\\left|..\\right|``, named functions, ``!`` and one relation (``= < > \\leq \\geq \\neq``).
Anything else raises :class:`UnsupportedError`.
"""

from __future__ import annotations

from typing import Any

import sympy

from scipix.latex.nodes import Atom, Command, Delimited, Group, Node, Scripts
from scipix.latex.normalize import detokenize
from scipix.latex.symbols import SYMBOLS
from scipix.latex.writer import Writer


class UnsupportedError(ValueError):
    """The formula uses something the symbolic comparison does not model."""


_RELATIONS: dict[str, Any] = {
    "=": sympy.Eq,
    "<": sympy.Lt,
    ">": sympy.Gt,
    "\\leq": sympy.Le,
    "\\le": sympy.Le,
    "\\leqslant": sympy.Le,
    "\\geq": sympy.Ge,
    "\\ge": sympy.Ge,
    "\\geqslant": sympy.Ge,
    "\\neq": sympy.Ne,
    "\\ne": sympy.Ne,
}
_FUNCTIONS: dict[str, Any] = {
    "\\sin": sympy.sin,
    "\\cos": sympy.cos,
    "\\tan": sympy.tan,
    "\\cot": sympy.cot,
    "\\sec": sympy.sec,
    "\\csc": sympy.csc,
    "\\arcsin": sympy.asin,
    "\\arccos": sympy.acos,
    "\\arctan": sympy.atan,
    "\\sinh": sympy.sinh,
    "\\cosh": sympy.cosh,
    "\\tanh": sympy.tanh,
    "\\coth": sympy.coth,
    "\\exp": sympy.exp,
    "\\ln": sympy.log,
    "\\log": sympy.log,
}
_PRODUCT = frozenset({"\\cdot", "\\times", "*", "\\ast"})
_IGNORED = frozenset(
    {"\\,", "\\:", "\\;", "\\!", "\\ ", "~", "\\quad", "\\qquad", "\\displaystyle"}
)
_CONSTANTS: dict[str, Any] = {"\\pi": sympy.pi, "\\infty": sympy.oo, "e": sympy.E}


def to_sympy(root: Group) -> Any:
    """The SymPy expression (or relation) of a parsed formula."""
    return _Converter().expression(root.items)


class _Converter:
    __slots__ = ("items", "k")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.k = 0

    # The item list is first flattened into values and operator strings, then parsed.
    def expression(self, nodes: list[Node]) -> Any:
        saved = self.items, self.k
        self.items, self.k = self.flatten(nodes), 0
        try:
            result = self.relation()
            if self.k != len(self.items):
                raise UnsupportedError(f"unexpected {self.items[self.k]!r}")
            return result
        finally:
            self.items, self.k = saved

    def flatten(self, nodes: list[Node]) -> list[Any]:
        out: list[Any] = []
        digits: list[str] = []
        for node in nodes:
            if isinstance(node, Atom) and (node.text.isdigit() or (node.text == "." and digits)):
                digits.append(node.text)
                continue
            if digits:
                out.append(("value", sympy.Number("".join(digits))))
                digits = []
            out.extend(self.element(node))
        if digits:
            out.append(("value", sympy.Number("".join(digits))))
        return out

    def element(self, node: Node) -> list[Any]:
        if isinstance(node, Atom):
            return self.atom(node.text)
        if isinstance(node, Group):
            return [("value", self.expression(node.items))]
        if isinstance(node, Scripts):
            return self.scripts(node)
        if isinstance(node, Delimited):
            inner = self.expression(node.body.items)
            if node.left in ("|", "\\vert", "\\lvert") and node.right in ("|", "\\vert", "\\rvert"):
                return [("value", sympy.Abs(inner))]
            if node.left in ("(", "[") and node.right in (")", "]"):
                return [("value", inner)]
            raise UnsupportedError(f"delimiters {node.left} {node.right}")
        if isinstance(node, Command):
            return [("value", self.command(node))]
        raise UnsupportedError(type(node).__name__)

    def atom(self, text: str) -> list[Any]:
        if text in _IGNORED:
            return []
        if text in _CONSTANTS:
            return [("value", _CONSTANTS[text])]
        if len(text) == 1 and text.isalpha():
            return [("value", sympy.Symbol(text))]
        if text in _RELATIONS or text in ("+", "-", "/", "!", "(", ")", "|", "\\div"):
            return [text]
        if text in _PRODUCT:
            return ["*"]
        if text in _FUNCTIONS:
            return [("function", _FUNCTIONS[text])]
        symbol = SYMBOLS.get(text)
        if symbol is not None and symbol.kind == "ord" and symbol.unicode.isalpha():
            return [("value", sympy.Symbol(text[1:]))]
        raise UnsupportedError(text)

    def scripts(self, node: Scripts) -> list[Any]:
        if node.base is None:
            raise UnsupportedError("script without a base")
        if isinstance(node.base, Atom) and node.base.text in (")", "]", "|"):
            if node.sub is not None or node.primes or node.sup is None:
                raise UnsupportedError("script on a parenthesis")
            return [node.base.text, ("pow", self.expression(node.sup.items))]
        base = self.element(node.base)
        if node.sub is not None:
            if len(base) != 1 or not isinstance(base[0], tuple) or base[0][0] == "function":
                raise UnsupportedError("subscript on an operator")
            base = [("value", sympy.Symbol(f"{_name(base[0][1])}_{{{_latex(node.sub)}}}"))]
        if node.primes:
            if len(base) != 1 or base[0][0] != "value":
                raise UnsupportedError("prime on an operator")
            base = [("value", sympy.Symbol(_name(base[0][1]) + "'" * node.primes))]
        if node.sup is None:
            return base
        exponent = self.expression(node.sup.items)
        if len(base) == 1 and base[0][0] == "function":
            function = base[0][1]
            return [("function", lambda x, f=function, n=exponent: f(x) ** n)]
        if len(base) != 1 or base[0][0] != "value":
            raise UnsupportedError("power of an operator")
        return [("value", sympy.Pow(base[0][1], exponent))]

    def command(self, node: Command) -> Any:
        name, args = node.name, node.args
        groups = [arg for arg in args if isinstance(arg, Group)]
        if name in ("\\frac", "\\dfrac", "\\tfrac") and len(groups) == 2:
            return self.expression(groups[0].items) / self.expression(groups[1].items)
        if name == "\\sqrt":
            radicand = self.expression(groups[-1].items)
            if args[0] is not None:
                return sympy.root(radicand, self.expression(groups[0].items))
            return sympy.sqrt(radicand)
        if name in ("\\binom", "\\dbinom", "\\tbinom"):
            return sympy.binomial(
                self.expression(groups[0].items), self.expression(groups[1].items)
            )
        if name in ("\\mathrm", "\\mathit", "\\operatorname") and groups:
            word = "".join(n.text for n in groups[0].items if isinstance(n, Atom))
            return sympy.E if word == "e" else sympy.Symbol(word)
        raise UnsupportedError(name)

    # --------------------------------------------------------------- parsing
    def peek(self) -> Any:
        return self.items[self.k] if self.k < len(self.items) else None

    def relation(self) -> Any:
        left = self.sum()
        op = self.peek()
        if isinstance(op, str) and op in _RELATIONS:
            self.k += 1
            right = self.sum()
            if isinstance(self.peek(), str) and self.peek() in _RELATIONS:
                raise UnsupportedError("chained relations")
            return _RELATIONS[op](left, right, evaluate=False)
        return left

    def sum(self) -> Any:
        sign = 1
        while self.peek() in ("+", "-"):
            sign = -sign if self.items[self.k] == "-" else sign
            self.k += 1
        total = sign * self.product()
        while self.peek() in ("+", "-"):
            op = self.items[self.k]
            self.k += 1
            term = self.product()
            total = total + term if op == "+" else total - term
        return total

    def product(self) -> Any:
        result = self.factor()
        while True:
            op = self.peek()
            if op in ("*", "/", "\\div"):
                self.k += 1
                right = self.factor()
                result = result * right if op == "*" else result / right
            elif (isinstance(op, tuple) and op[0] != "pow") or op == "(":
                result = result * self.factor()
            else:
                return result

    def factor(self) -> Any:
        item = self.peek()
        if item is None:
            raise UnsupportedError("missing operand")
        self.k += 1
        if item == "(":
            value = self.sum()
            if self.peek() != ")":
                raise UnsupportedError("unbalanced parentheses")
            self.k += 1
        elif isinstance(item, tuple) and item[0] == "function":
            value = item[1](self.function_argument())
        elif isinstance(item, tuple):
            value = item[1]
        elif item == "-":
            value = -self.factor()
        else:
            raise UnsupportedError(f"unexpected {item!r}")
        while True:
            following = self.peek()
            if following == "!":
                value = sympy.factorial(value)
            elif isinstance(following, tuple) and following[0] == "pow":
                value = sympy.Pow(value, following[1])
            else:
                return value
            self.k += 1

    def function_argument(self) -> Any:
        if self.peek() == "(":
            return self.factor()
        value = self.factor()
        while isinstance(self.peek(), tuple) and self.peek()[0] == "value":
            value = value * self.factor()
        return value


def _name(value: Any) -> str:
    return str(value)


def _latex(group: Group) -> str:
    writer = Writer()
    writer.write_list(group.items)
    return detokenize(writer.out)
