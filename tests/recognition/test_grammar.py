"""Valid by construction: the beam's LaTeX state machine (``recognition/grammar.py``) on token
sequences, and the beam search it constrains (a scripted decoder that never wants to close)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from scipix.errors import LatexError
from scipix.latex import NormalizeOptions, detokenize, model_tokens, validate
from scipix.recognition import FormulaRecognizer
from scipix.recognition.beam import BeamConfig, beam_search
from scipix.recognition.grammar import START, TokenGrammar, closing_cost

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
#: a small vocabulary in the model's spelling (one token per \begin{..} and \left(, ...)
VOCAB = [
    *SPECIALS,
    *["{", "}", "^", "_", "x", "y", "2", "&", "'", "[", "]", "(", ")", "+", "c"],
    *[r"\frac", r"\sqrt", r"\text", r"\left(", r"\right)", r"\right.", r"\begin{matrix}"],
    *[r"\end{matrix}", r"\begin{array}", r"\end{array}", r"\\", r"\atop", r"\big", r"\alpha"],
    *[r"\LambdaI", r"\operatorname*", r"\space", r"\mathrm"],
]
EOS = 2
SAMPLE = Path(__file__).resolve().parents[1] / "latex" / "data" / "corpus_sample.txt"


@pytest.fixture(scope="module")
def small() -> TokenGrammar:
    return TokenGrammar(VOCAB, EOS, (0, 1, 3))


@pytest.fixture(scope="module")
def shipped() -> tuple[TokenGrammar, list[str]]:
    recognizer = FormulaRecognizer.load()
    return recognizer.grammar, recognizer.vocab


def state_after(grammar: TokenGrammar, tokens: str) -> tuple:
    state = START
    for token in tokens.split():
        state = grammar.advance(state, VOCAB.index(token))
        assert state, f"{token!r} refused after {tokens!r}"
    return state


def allowed(grammar: TokenGrammar, tokens: str, room: int = 100) -> set[str]:
    mask = grammar.mask(state_after(grammar, tokens), room)
    return {VOCAB[i] for i in np.flatnonzero(mask)}


@pytest.mark.parametrize(
    "tokens",
    [
        r"x ^ { 2 } + y _ { 2 }",
        r"\frac { x } { y }",
        r"\frac x 2",
        r"\sqrt [ 2 ] { x }",
        r"\left( x \right)",
        r"\left( \frac { x } { 2 } \right.",
        r"\begin{matrix} x & y \\ 2 & x \end{matrix}",
        r"\begin{array} { c c } x & y \end{array}",
        r"\text { x \space y }",
        r"x ' ^ { 2 } _ { y }",
        r"x \atop y",
        r"\big ( x \big )",
        r"\operatorname* { x }",
        r"{ { x } } ^ 2",
    ],
)
def test_valid_sequences_are_accepted_and_closed(small: TokenGrammar, tokens: str) -> None:
    assert small.accepts(tokens.split())
    assert not validate(detokenize(tokens.split()))


@pytest.mark.parametrize(
    ("prefix", "refused"),
    [
        ("", "}"),  # nothing open
        ("x", r"\right)"),  # no \left
        ("{ x", r"\right)"),
        (r"\left( {", r"\right)"),  # the brace opened inside the \left must close first
        (r"\begin{array} { c }", r"\end{matrix}"),  # not the innermost environment
        (r"\begin{matrix} { x", r"\end{matrix}"),
        ("x", "&"),  # outside an environment's cells
        (r"\begin{matrix} { x", r"\\"),  # inside a group in a cell
        ("x ^ { 2 }", "^"),  # double superscript
        ("x _ { 2 }", "_"),
        ("x ^ { 2 }", "'"),  # a prime after a superscript
        (r"\frac", "}"),  # an argument must come
        (r"\frac", "^"),
        ("x ^", "&"),
        (r"\big", "x"),  # \big takes a delimiter
        (r"\begin{array}", "&"),  # the column spec first
        (r"\text {", "&"),
        (r"\text {", r"\frac"),  # no math command inside text
        (r"x \atop y", r"\atop"),  # one infix per group
        ("[", "}"),
        (r"\sqrt [ 2", "}"),  # the optional argument closes with ]
        ("x", r"\LambdaI"),  # not a command the validator knows
    ],
)
def test_tokens_the_parser_would_refuse_are_masked(
    small: TokenGrammar, prefix: str, refused: str
) -> None:
    assert refused not in allowed(small, prefix)
    assert not small.accepts([*prefix.split(), refused])


def test_eos_only_when_everything_is_closed(small: TokenGrammar) -> None:
    for open_prefix in ["{", r"\frac { x }", r"\left( x", r"\begin{matrix} x", "x ^", r"\sqrt"]:
        assert "<eos>" not in allowed(small, open_prefix)
    for closed in ["", "x", r"\frac { x } { y }", r"\sqrt [ 2 ] { x }", r"\sqrt [ 2 ] x"]:
        assert "<eos>" in allowed(small, closed)


def test_a_short_budget_forces_closing(small: TokenGrammar) -> None:
    prefix = r"\left( \frac { x"  # open: { of the numerator, the denominator, \left(
    assert closing_cost(state_after(small, prefix)) == 3
    # room for 3 more tokens after the next one: only tokens that close something, at once
    assert allowed(small, prefix, room=2) == {"}"}
    assert {"{", r"\frac", "x"} <= allowed(small, prefix, room=10)
    closed = r"\left( \frac { x } y \right)"
    assert "<eos>" in allowed(small, closed, room=-1)
    assert allowed(small, closed, room=-1) == {"<eos>"}  # the last step: only <eos>


def scripted_step(vocab_size: int, wanted: list[int]):  # type: ignore[no-untyped-def]
    """A decoder that always wants ``wanted[t]`` (the last one repeats), <eos> a poor second."""

    def step(tokens, position, cross_k, cross_v, past_k, past_v):  # type: ignore[no-untyped-def]
        logp = np.full((tokens.shape[0], vocab_size), -20.0, dtype=np.float32)
        logp[:, EOS] = -10.0
        logp[:, wanted[min(position, len(wanted) - 1)]] = -0.01
        return logp, past_k, past_v

    return step


def test_beam_search_closes_a_decoder_that_never_closes(small: TokenGrammar) -> None:
    opening = [VOCAB.index(t) for t in ["{", r"\left(", r"\frac", r"\begin{matrix}", "x"]]
    cross = np.zeros((1, 1, 1, 1, 1), dtype=np.float32)
    cfg = BeamConfig(beam_width=3, n_best=3, max_tokens=24)
    step = scripted_step(len(VOCAB), [*opening, VOCAB.index("{")])
    found = beam_search(step, cross, cross, cfg, small)[0]
    assert found
    for hyp in found:
        tokens = [VOCAB[i] for i in hyp.ids]
        assert len(hyp.ids) < cfg.max_tokens
        assert small.accepts(tokens), tokens
        assert not validate(detokenize(tokens)), tokens
    unconstrained = BeamConfig(beam_width=3, n_best=3, max_tokens=24, constrained=False)
    best = beam_search(step, cross, cross, unconstrained, small)[0][0]
    assert validate(detokenize([VOCAB[i] for i in best.ids]))  # truncated, never closed


def test_random_walks_over_the_shipped_vocabulary_pass_the_validator(
    shipped: tuple[TokenGrammar, list[str]],
) -> None:
    grammar, vocab = shipped
    rng = random.Random(13)
    weight = {tok: 8.0 for tok in ("{", "}", "^", "_", "&", "\\\\", "'", "[", "]", "\\sqrt")}
    for _ in range(150):
        state, tokens, limit = START, [], rng.randint(2, 40)
        for t in range(limit):
            mask = grammar.masks([state], limit - t - 2)[0]
            if mask[EOS] and rng.random() < 0.05:
                break
            ids = [i for i in np.flatnonzero(mask) if i != EOS]
            if not ids:
                break
            structural = ("\\left", "\\right", "\\begin", "\\end", "\\text", "\\frac")
            weights = [
                weight.get(vocab[i], 8.0 if vocab[i].startswith(structural) else 1.0) for i in ids
            ]
            token = rng.choices(ids, weights)[0]
            state = grammar.advance(state, int(token))
            tokens.append(vocab[token])
        assert grammar.masks([state], -1)[0][EOS], tokens  # closed within the budget
        issues = validate(detokenize(tokens))
        assert not issues, (tokens, issues)


def test_formulas_the_validator_accepts_are_accepted(
    shipped: tuple[TokenGrammar, list[str]],
) -> None:
    grammar, vocab = shipped
    known = set(vocab)
    checked = refused = 0
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        try:
            tokens = model_tokens(line, NormalizeOptions.for_labels())
        except LatexError:
            continue
        if not tokens or not known.issuperset(tokens) or validate(detokenize(tokens)):
            continue
        checked += 1
        refused += not grammar.accepts(tokens)
    assert checked > 300
    assert refused <= 0.01 * checked  # stricter than the parser only on rare constructs
