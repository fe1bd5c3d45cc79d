"""A real :class:`FormulaRecognizer` (the shipped model's encoder and caches) with a crafted
decoder: whatever the image, it wants ``x ^ { 2`` and then ``<eos>`` (``}`` a distant second).

Without the beam's LaTeX constraint it reads ``x^{2`` (not valid LaTeX: the brace is never
closed); with it, ``<eos>`` is refused while the brace is open, so it reads ``x^{2}``.
"""

from __future__ import annotations

import numpy as np

from scipix.recognition import BeamConfig, FormulaRecognizer

SCRIPT = ("x", "^", "{", "2")


def brace_recognizer(constrained: bool) -> FormulaRecognizer:
    recognizer = FormulaRecognizer.load(beam=BeamConfig(constrained=constrained))
    script = [recognizer.vocab.index(token) for token in SCRIPT]
    eos, close = recognizer.beam.eos, recognizer.vocab.index("}")
    real = recognizer.step

    def step(tokens, position, cross_k, cross_v, past_k, past_v):  # type: ignore[no-untyped-def]
        logp, new_k, new_v = real(tokens, position, cross_k, cross_v, past_k, past_v)
        crafted = np.full_like(logp, -30.0)
        if position < len(script):
            crafted[:, script[position]] = -0.01
        else:
            crafted[:, eos], crafted[:, close] = -0.01, -5.0
        return crafted, new_k, new_v

    recognizer.step = step  # type: ignore[method-assign]
    return recognizer
