"""When braces matter to TeX: the rules the writer uses to drop or keep ``{...}``.

TeX itself turns ``{x}`` into ``x`` when the group holds one Ord atom or one accent, and a group
that is the whole of an argument changes nothing, with exceptions checked against pdflatex:
amsmath typesets nested accents differently, glue inside a group cannot stretch outside it,
and amsmath's dots look at the token after them.
"""

from __future__ import annotations

from scipix.latex.commands import ACCENT_NOADS, KEEP_GROUP_ITEMS, KNOWN_COMMANDS
from scipix.latex.nodes import (
    Atom,
    Command,
    Delimited,
    Environment,
    Group,
    Infix,
    Node,
    Scripts,
    Text,
)


def unwrappable(content: Node | list[Node] | None) -> bool:
    """May the braces around ``content`` go when it is the only thing in a list?"""
    items = content.items if isinstance(content, Group) else content
    if not isinstance(items, list):
        return True
    for node in items:
        if (isinstance(node, Atom) and node.text in KEEP_GROUP_ITEMS) or (
            isinstance(node, Command) and node.name in KEEP_GROUP_ITEMS
        ):
            return False
    return True


def has_accent(node: Node | None) -> bool:
    """Is there an accent command anywhere inside ``node``?"""
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Command):
            if item.name in ACCENT_NOADS:
                return True
            stack.extend(item.args)
        elif isinstance(item, Group | Text):
            stack.extend(item.items)
        elif isinstance(item, Scripts):
            stack.extend((item.base, item.sub, item.sup))
        elif isinstance(item, Delimited):
            stack.append(item.body)
        elif isinstance(item, Infix):
            stack.extend((item.num, item.den))
        elif isinstance(item, Environment):
            stack.extend(cell for row in item.rows for cell in row.cells)
    return False


def takes_group(previous: Node | None) -> bool:
    """After an unknown command a brace group may be its argument: keep the braces."""
    if type(previous) is not Atom:
        return False
    text = previous.text
    return text[:1] == "\\" and text[1:2].isalpha() and text not in KNOWN_COMMANDS
