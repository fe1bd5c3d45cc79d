"""Valid LaTeX by construction: a LaTeX state per beam row, and the tokens it allows next.

The beam search (:mod:`scipix.recognition.beam`) keeps one :data:`State` per hypothesis and,
before each step, masks the vocabulary tokens the LaTeX parser would refuse next: a ``}`` with no
group open, an ``\\end{X}`` that does not close the innermost environment, a ``\\right`` with no
open ``\\left``, ``&`` or ``\\\\`` outside an environment's cells, a second superscript or
subscript, anything but an argument where a command still needs one, an unknown command or
environment. ``<eos>`` is allowed only once everything is closed, and when the length budget
runs short only tokens that leave enough room to close are allowed.

A state is a stack of immutable frames (cheap to share between beams), each a tuple:

=========================  ======================================================================
``(LIST, ctx, env, bits)``  a math list; ``ctx`` is what closes it (``}``, ``\\end{env}``,
                            ``\\right``, ``]``, nothing at the top), ``bits`` what its last item
                            already carries (superscript, subscript, primes) and whether an
                            infix (``\\atop``) was seen
``(ARGS, letters)``         a command's arguments still to come: the letters of
                            :mod:`scipix.latex.commands`' argument specs, ``^`` for a script's,
                            ``S`` for ``\\substack``'s braced rows
``(TEXT,)``                 inside the ``{..}`` of a text argument
``(RAW, depth)``            a verbatim ``{..}`` argument (a column spec), ``depth`` braces deep
``(RAWOPT, depth)``         a verbatim ``[..]`` argument
=========================  ======================================================================

It follows :class:`scipix.latex.parser.Parser` token by token and may be stricter (an unbraced
argument must be one plain token; no math command inside text), never looser: a token sequence
it accepts and calls closed passes :func:`scipix.latex.check` (tested on random walks over the
shipped vocabulary).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from scipix.latex.arguments import NOT_AN_ARGUMENT
from scipix.latex.commands import (
    ARG_SPECS,
    DELIMITERS,
    ENVIRONMENTS,
    INFIX,
    KNOWN_COMMANDS,
    TEXT_SPECS,
)
from scipix.latex.normalize import detokenize
from scipix.latex.tokenizer import token_kind, tokenize

__all__ = ["START", "State", "TokenGrammar", "closing_cost", "feed"]

Frame = tuple[Any, ...]
State = tuple[Frame, ...]
BoolArray = npt.NDArray[np.bool_]

LIST, ARGS, TEXT, RAW, RAWOPT = range(5)
#: What closes a math list: nothing (the formula), ``}``, ``\end{..}``, ``\right``, ``]``, and
#: ``}`` of ``\substack``'s rows (cells allowed).
TOP, BRACE, CELL, DELIM, OPT, STACK = range(6)
#: What the last item of a math list carries (``PRIME_RUN``: primes just read, more may follow).
SUP, SUB, PRIMES, PRIME_RUN, HAS_INFIX = 1, 2, 4, 8, 16

START: State = ((LIST, TOP, "", 0),)
#: A state with no way on (a token the mask should have refused); allows nothing, not even eos.
DEAD: State = ()

_SCRIPTS = {"^": SUP, "\\sp": SUP, "_": SUB, "\\sb": SUB}
_LIMITS = frozenset({"\\limits", "\\nolimits", "\\displaylimits", "\\relax", "\\protect"})
#: One-character tokens that are not plain atoms in math (comment, parameter, ``$``, backslash).
_SPECIAL = frozenset("{}^_'&#$]\\%")
_STRUCTURAL = frozenset({"begin", "end", "left", "right", "middle"})
#: Control words the parser gives a meaning the mask does not follow: refused.
_REFUSED = frozenset({"\\begin", "\\end", "\\ensuremath", "\\above"})
_OPTIONAL = frozenset("oOs")
_LETTER_COST = {"m": 1, "t": 1, "r": 1, "D": 1, "^": 1, "S": 2, "o": 0, "O": 0, "s": 0}
_BRACE_LIST: Frame = (LIST, BRACE, "", 0)


def feed(state: State, token: str) -> State | None:
    """The state after one parser token (:func:`scipix.latex.tokenize`'s text), None when the
    parser would refuse the token here."""
    while state:
        top = state[-1]
        kind = top[0]
        if kind == LIST:
            return _in_list(state, top, token)
        if kind == TEXT:
            return _in_text(state, token)
        if kind != ARGS:
            return _in_raw(state, top, token)
        letters: str = top[1]
        letter = letters[0]
        rest = (*state[:-1], (ARGS, letters[1:])) if len(letters) > 1 else state[:-1]
        if letter not in _OPTIONAL:
            return _argument(rest, letter, token)
        if token != ("*" if letter == "s" else "["):
            state = rest  # the optional argument is not there: the token comes after it
            continue
        if letter == "s":
            return rest
        return (*rest, (LIST, OPT, "", 0)) if letter == "o" else (*rest, (RAWOPT, 0))
    return None


def closing_cost(state: State) -> int:
    """The fewest tokens that close everything open in ``state`` (0: the formula may end)."""
    total = 0
    for frame in state:
        kind = frame[0]
        if kind == LIST:
            total += frame[1] != TOP
        elif kind == ARGS:
            total += _args_cost(frame[1])
        elif kind == TEXT:
            total += 1
        else:
            total += frame[1] + 1
    return total


@cache
def _args_cost(letters: str) -> int:
    return sum(_LETTER_COST[letter] for letter in letters)


def _known(token: str) -> bool:
    """A control word the validator knows (control symbols such as ``\\,`` always pass)."""
    if not token[1:2].isalpha():
        return True
    return token in KNOWN_COMMANDS and token not in _REFUSED


def _plain(token: str) -> bool:
    """One token that is a whole argument by itself (``\\frac12``, ``x^\\alpha``)."""
    if token in NOT_AN_ARGUMENT or (len(token) == 1 and token in _SPECIAL):
        return False
    if token[0] != "\\":
        return token.isascii()
    if token_kind(token) in _STRUCTURAL or token == "\\substack":
        return False
    return _known(token) and token not in ARG_SPECS


def _argument(rest: State, letter: str, token: str) -> State | None:
    """``token`` where a mandatory argument (``letter``) must start."""
    if letter == "D":
        return rest if token in DELIMITERS else None
    if token == "{":
        opened = {"m": _BRACE_LIST, "^": _BRACE_LIST, "t": (TEXT,), "r": (RAW, 0)}
        if letter == "S":
            return (*rest, (LIST, STACK, "", 0))
        frame = opened.get(letter)
        return (*rest, frame) if frame is not None else None
    return rest if letter in "mtr^" and _plain(token) else None


def _in_list(state: State, top: Frame, token: str) -> State | None:
    _, ctx, env, bits = top
    below = state[:-1]
    fresh = (*below, (LIST, ctx, env, bits & HAS_INFIX))  # a new item: nothing attached yet
    if len(token) == 1 and token not in _SPECIAL:
        return fresh if token.isascii() else None
    if token == "{":
        return (*fresh, _BRACE_LIST)
    if token == "}":
        return below if ctx in (BRACE, STACK) else None
    script = _SCRIPTS.get(token)
    if script is not None or token == "'":
        if script == SUB:
            ok = not bits & SUB
        else:  # a superscript or a prime: none yet, or right after the primes
            ok = bool(bits & PRIME_RUN) or not bits & (SUP | PRIMES)
        if not ok:
            return None
        if script is None:
            return (*below, (LIST, ctx, env, bits | PRIMES | PRIME_RUN))
        return (*below, (LIST, ctx, env, (bits | script) & ~PRIME_RUN), (ARGS, "^"))
    if token == "]":
        return below if ctx == OPT else fresh
    if token in ("&", "\\\\"):
        return (*below, (LIST, ctx, env, 0)) if ctx in (CELL, STACK) else None
    if token in INFIX:
        if token in _REFUSED or bits & HAS_INFIX:
            return None
        return (*below, (LIST, ctx, env, HAS_INFIX))
    if token in _LIMITS:
        return (*below, (LIST, ctx, env, bits & ~PRIME_RUN))
    return _structure(below, fresh, ctx, env, token)


def _structure(below: State, fresh: State, ctx: int, env: str, token: str) -> State | None:
    """Environments, delimiters and commands in a math list."""
    kind = token_kind(token)
    if kind == "begin":
        spec = ENVIRONMENTS.get(token[7:-1])
        if spec is None or "d" in spec:
            return None
        opened = (*fresh, (LIST, CELL, token[7:-1], 0))
        return (*opened, (ARGS, spec)) if spec else opened
    if kind == "end":
        return below if ctx == CELL and token[5:-1] == env else None
    if kind == "left":
        return (*fresh, (LIST, DELIM, "", 0)) if token[5:] in DELIMITERS else None
    if kind == "right":
        return below if ctx == DELIM and token[6:] in DELIMITERS else None
    if kind == "middle":
        return fresh if ctx == DELIM and token[7:] in DELIMITERS else None
    if token == "\\substack":
        return (*fresh, (ARGS, "S"))
    if token[0] != "\\" or token == "\\" or not _known(token):
        return None
    spec = ARG_SPECS.get(token)
    if spec is None:
        return fresh
    return (*fresh, (ARGS, spec)) if "d" not in spec else None


def _in_text(state: State, token: str) -> State | None:
    if token == "}":
        return state[:-1]
    if token == "{":
        return (*state, (TEXT,))
    if token in ("$", "&", "#", "%", "\\"):
        return None
    if token[0] != "\\" or not token[1:2].isalpha():
        return state
    if token_kind(token) in _STRUCTURAL or not _known(token):
        return None
    spec = TEXT_SPECS.get(token)
    if spec is None:
        return None if token in ARG_SPECS else state  # \frac in text: refused, not an atom
    if "d" in spec or token in _REFUSED:
        return None
    return (*state, (ARGS, spec))


def _in_raw(state: State, top: Frame, token: str) -> State | None:
    kind, depth = top
    if token == "{":
        return (*state[:-1], (kind, depth + 1))
    if token == "}":
        if depth:
            return (*state[:-1], (kind, depth - 1))
        return state[:-1] if kind == RAW else None
    if token == "]" and kind == RAWOPT and not depth:
        return state[:-1]
    if token in ("%", "\\", "$", "#") or token_kind(token) in _STRUCTURAL:
        return None
    return state if token[0] != "\\" or _known(token) else None


def signature(state: State) -> State:
    """The part of ``state`` that decides which tokens may come next: the top frame, and the
    frames under it while it only holds optional arguments (verbatim depth counted as 0 or 1)."""
    i = len(state) - 1
    while i > 0 and state[i][0] == ARGS and _OPTIONAL.issuperset(state[i][1]):
        i -= 1
    sig = state[i:]
    if sig and sig[0][0] in (RAW, RAWOPT):
        sig = ((sig[0][0], min(sig[0][1], 1)), *sig[1:])
    return sig


class TokenGrammar:
    """The model vocabulary read as parser tokens, and the mask of allowed tokens per state.

    Masks are memoized per state signature (a pure cache, safe to share between threads: the
    same key always gets the same value).
    """

    CACHE_LIMIT = 8192

    def __init__(self, vocab: Sequence[str], eos: int, specials: Sequence[int] = ()) -> None:
        self.size = len(vocab)
        self.eos = eos
        self.ids = {tok: i for i, tok in enumerate(vocab)}
        skipped = {*specials, eos}
        #: each token's parser tokens (None: a special token, never allowed)
        self.pieces: list[tuple[str, ...] | None] = [
            None
            if i in skipped
            else tuple(t.text for t in tokenize(detokenize([tok])) if t.kind != "space")
            for i, tok in enumerate(vocab)
        ]
        self.plain = [i for i, p in enumerate(self.pieces) if p is not None]
        self._moves: dict[State, Moves] = {}
        self._rows: dict[State, Row] = {}
        self._masks: dict[tuple[State, int, bool], BoolArray] = {}

    def advance(self, state: State, token_id: int) -> State:
        """The state after model token ``token_id`` (:data:`DEAD` if it was not allowed)."""
        pieces = self.pieces[token_id] if 0 <= token_id < self.size else None
        if pieces is None:
            return DEAD
        current: State | None = state
        for piece in pieces:
            current = feed(current, piece) if current else None
        return current if current else DEAD

    def accepts(self, tokens: Sequence[str]) -> bool:
        """Do these model tokens make a complete formula (each allowed, everything closed)?"""
        state = START
        for tok in tokens:
            state = self.advance(state, self.ids.get(tok, -1))
            if not state:
                return False
        return closing_cost(state) == 0

    def moves(self, sig: State) -> Moves:
        """For a signature: which tokens are allowed, how much each changes the closing cost,
        the largest change, and the tokens whose later pieces reach under the signature (a
        ``}`` and more in one token), to be checked on each full state."""
        found = self._moves.get(sig)
        if found is not None:
            return found
        allowed = np.zeros(self.size, dtype=bool)
        delta = np.zeros(self.size, dtype=np.int16)
        deep: list[int] = []
        base = closing_cost(sig)
        for i in self.plain:
            after: State | None = sig
            pieces = self.pieces[i] or ()
            for n, piece in enumerate(pieces):
                after = feed(after, piece) if after else None
                if after == () and n < len(pieces) - 1:
                    deep.append(i)
            if after is not None:
                allowed[i] = True
                delta[i] = closing_cost(after) - base
        found = Moves(allowed, delta, int(delta[allowed].max(initial=0)), tuple(deep))
        if len(self._moves) < self.CACHE_LIMIT:
            self._moves[sig] = found
        return found

    def mask(self, state: State, room: int) -> BoolArray:
        """The tokens allowed after ``state`` when at most ``room`` more tokens may follow the
        next one before ``<eos>`` (read-only)."""
        row = self._rows.get(state)
        if row is None:
            if not state:
                return np.zeros(self.size, dtype=bool)
            sig = signature(state)
            row = Row(sig, closing_cost(state), self.moves(sig), {})
            if len(self._rows) >= self.CACHE_LIMIT:
                self._rows.clear()
            self._rows[state] = row
        slack = min(room - row.cost, row.moves.largest)
        found = row.masks.get(slack)
        if found is not None:
            return found
        key = (row.sig, slack, row.cost == 0)
        found = self._masks.get(key)
        if found is None:
            found = row.moves.allowed & (row.moves.delta <= slack)
            found[self.eos] = row.cost == 0
            found.setflags(write=False)
            if len(self._masks) < self.CACHE_LIMIT:
                self._masks[key] = found
        if row.moves.deep:
            found = found.copy()
            for i in row.moves.deep:
                after = self.advance(state, i)
                found[i] = bool(after) and closing_cost(after) - row.cost <= slack
            found.setflags(write=False)
        row.masks[slack] = found
        return found

    def masks(self, states: Sequence[State], room: int) -> BoolArray:
        """(len(states), vocab): :meth:`mask` of each state."""
        return np.stack([self.mask(s, room) for s in states])


class Moves(NamedTuple):
    """What one signature allows (see :meth:`TokenGrammar.moves`)."""

    allowed: BoolArray
    delta: npt.NDArray[np.int16]
    largest: int
    deep: tuple[int, ...]


class Row(NamedTuple):
    """What a state needs for its masks: its signature, closing cost and moves, and its masks
    so far by slack."""

    sig: State
    cost: int
    moves: Moves
    masks: dict[int, BoolArray]
