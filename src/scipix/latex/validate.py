"""The validator: every problem of a formula, each with its kind, message and position.

Structural problems (unbalanced braces, ``\\left`` without ``\\right``, ``\\begin``/``\\end``
mismatch, missing arguments, ``&``/``\\\\`` outside an environment, double scripts) come from the
parser, which stops at the first; unknown commands and environments are all reported.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from scipix.errors import LatexError
from scipix.latex.commands import ENVIRONMENTS, KNOWN_COMMANDS
from scipix.latex.parser import Parser
from scipix.latex.tokenizer import check_length

#: Distinct unknown commands that get a "did you mean" hint (the search is slow).
_MAX_HINTS = 20
_STRUCTURAL_PREFIXES = ("\\begin{", "\\end{", "\\left", "\\right", "\\middle")


@dataclass(frozen=True)
class LatexIssue:
    """One problem: ``id`` names its kind (``unbalanced_brace``, ``unknown_command`` ...),
    ``position`` is the 0-based character offset in the source."""

    id: str
    message: str
    position: int

    def to_error(self) -> LatexError:
        return LatexError(self.message, position=self.position, issue=self.id)


def validate(src: str) -> list[LatexIssue]:
    """All problems found in ``src`` (empty when it is valid), ordered by position.

    Never raises for bad input.
    """
    try:
        check_length(src)
    except LatexError as exc:
        return [_issue(exc)]
    parser = Parser(src)
    issues: list[LatexIssue] = []
    hints: dict[str, str] = {}
    try:
        parser.parse_root()
    except LatexError as exc:
        issues.append(_issue(exc))
    for text, position in zip(parser.toks, parser.pos, strict=False):
        if text[:1] != "\\" or not text[1:2].isalpha():
            continue
        if text.startswith(_STRUCTURAL_PREFIXES):
            name = text[7:-1]
            if text.startswith("\\begin{") and name not in ENVIRONMENTS:
                issues.append(
                    LatexIssue(
                        "unknown_environment",
                        f"unknown environment '{name}' (at position {position})",
                        position,
                    )
                )
            continue
        if text not in KNOWN_COMMANDS:
            hint = hints.get(text)
            if hint is None:
                hint = _hint(text) if len(hints) < _MAX_HINTS else ""
                hints[text] = hint
            message = f"unknown command '{text}' (at position {position}){hint}"
            issues.append(LatexIssue("unknown_command", message, position))
    issues.sort(key=lambda issue: issue.position)
    return issues


def check(src: str) -> None:
    """Raise :class:`LatexError` for the first problem of ``src`` (by position), if any."""
    issues = validate(src)
    if issues:
        raise issues[0].to_error()


def _issue(exc: LatexError) -> LatexIssue:
    return LatexIssue(str(exc.detail.get("issue") or "syntax"), exc.message, exc.position or 0)


def _hint(command: str) -> str:
    close = difflib.get_close_matches(command, KNOWN_COMMANDS, n=1, cutoff=0.8)
    return f"; did you mean '{close[0]}'?" if close else ""
