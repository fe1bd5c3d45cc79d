"""The symbol table: size, and every entry's Unicode, MathML and AsciiMath forms."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from scipix.latex import to_mathml
from scipix.latex.commands import ARG_SPECS, KNOWN_COMMANDS
from scipix.latex.symbols import SYMBOLS, UNICODE_TO_COMMAND


def test_at_least_400_commands() -> None:
    assert len(SYMBOLS) >= 400
    kinds = {symbol.kind for symbol in SYMBOLS.values()}
    assert {"ord", "op", "bin", "rel", "open", "close", "fn", "accent", "font", "space"} <= kinds


def test_every_symbol_has_its_forms() -> None:
    for name, symbol in SYMBOLS.items():
        assert symbol.command == name
        assert symbol.unicode and symbol.asciimath and symbol.kind
        ET.fromstring(symbol.mathml)
        assert name in KNOWN_COMMANDS


def test_every_symbol_command_converts() -> None:
    for name in SYMBOLS:
        if name.startswith("\\") and name[1:].isalpha():
            src = f"{name}{{x}}" if name in ARG_SPECS and ARG_SPECS[name] == "m" else name
            ET.fromstring(to_mathml(src))


def test_some_well_known_forms() -> None:
    assert (SYMBOLS["\\leq"].unicode, SYMBOLS["\\leq"].asciimath) == ("≤", "<=")
    assert SYMBOLS["\\alpha"].mathml == "<mi>α</mi>"
    assert SYMBOLS["\\sum"].kind == "op"
    assert SYMBOLS["\\mathbb"].unicode == "double-struck"
    assert UNICODE_TO_COMMAND["≤"] == "\\leq"
    assert UNICODE_TO_COMMAND["α"] == "\\alpha"
