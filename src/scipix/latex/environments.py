"""Environments for the parser: ``\\begin{..} .. \\end{..}`` and ``\\substack{..}``, read as
rows of cells (``&`` between cells, ``\\\\`` between rows, ``\\hline`` before a row)."""

from __future__ import annotations

from scipix.latex.arguments import BRACE, CELL, UNITS, Reader, describe
from scipix.latex.commands import ENVIRONMENTS, ROW_RULES
from scipix.latex.nodes import Arg, Environment, Group, Node, Raw, Row


class EnvironmentReader(Reader):
    __slots__ = ()

    def parse_command(self, name: str) -> Node:
        raise NotImplementedError

    def parse_environment(self) -> Environment:
        open_index = self.i
        token = self.toks[self.i]
        name = token[7:-1]
        self.i += 1
        self.enter()
        args: list[Arg] = []
        for number, letter in enumerate(ENVIRONMENTS.get(name, ""), start=1):
            args.append(self.parse_argument(letter, token, number, open_index))
        rows = self.parse_rows(f"\\end{{{name}}}", CELL, open_index)
        self.depth -= 1
        return Environment(name, args, rows, None, self.pos[open_index])

    def parse_substack(self) -> Environment:
        open_index = self.i
        self.i += 1
        if self.peek() != "{":
            raise self.missing("\\substack", 1, open_index)
        self.i += 1
        self.enter()
        rows = self.parse_rows("}", CELL | BRACE, open_index)
        self.depth -= 1
        return Environment("substack", [], rows, "\\substack", self.pos[open_index])

    def parse_rows(self, closing: str, ctx: int, open_index: int) -> list[Row]:
        toks = self.toks
        rows: list[Row] = []
        cells: list[Group] = []
        rules: list[Node] = []
        row_start = self.pos[self.i] if self.i < self.n else len(self.src)
        while True:
            if not cells:
                while self.i < self.n and toks[self.i] in ROW_RULES:
                    rules.append(self.parse_command(toks[self.i]))
            cell_start = self.pos[self.i] if self.i < self.n else len(self.src)
            cells.append(Group(self.parse_list(ctx), False, cell_start))
            if self.i >= self.n:
                opener = describe(toks[open_index])
                raise self.error(
                    f"{opener} is never closed: expected {closing}",
                    open_index,
                    issue="environment_mismatch",
                )
            t = toks[self.i]
            self.i += 1
            if t == "&":
                continue
            if t == closing:
                rows.append(Row(cells, rules, None, row_start))
                return rows
            if t == "\\\\":
                if self.peek() == "*":  # \\* only forbids a page break
                    self.i += 1
                skip = self.row_skip()
                rows.append(Row(cells, rules, skip, row_start))
                cells, rules = [], []
                row_start = self.pos[self.i] if self.i < self.n else len(self.src)
                continue
            self.i -= 1
            if t.startswith("\\end{"):
                raise self.error(
                    f"{describe(t)} does not match {describe(toks[open_index])} (opened at "
                    f"position {self.pos[open_index]})",
                    issue="environment_mismatch",
                )
            raise self.error(
                f"{describe(toks[open_index])} expects {closing} but found {t!r}",
                issue="environment_mismatch",
            )

    def row_skip(self) -> Raw | None:
        """``\\\\[2pt]``: the optional spacing after a row end (only if it is a dimension)."""
        if self.peek() != "[":
            return None
        toks = self.toks
        end = self.i + 1
        while end < self.n and end < self.i + 12 and toks[end] != "]":
            end += 1
        if end >= self.n or toks[end] != "]":
            return None
        inner = toks[self.i + 1 : end]
        text = "".join(inner)
        body = text.lstrip("+-")
        digits = body.rstrip("abcdefghijklmnopqrstuvwxyz")
        if not digits or digits.strip("0123456789.") or body[len(digits) :] not in UNITS:
            return None
        start = self.pos[self.i]
        self.i = end + 1
        return Raw(list(inner), start)
