"""What the formula recognizer reads, as one frozen family used unchanged downstream.

:class:`FormulaRecognizer` returns a :class:`Reading` per image: its n-best :class:`Hypothesis`
list in beam order and which of them it chose (the best-scoring one that passes the LaTeX
validator, else the best-scoring one). The pipeline keeps readings as they are (one per math
region); Generate turns a reading's ``candidates`` into the response's ``Candidate`` models.
Confidences are derived from the token probabilities, never stored beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Hypothesis", "Reading"]


@dataclass(frozen=True)
class Hypothesis:
    """One decoded LaTeX string: its model tokens, length-normalized log-probability
    (``score``), per-token probabilities and whether it passes the LaTeX validator."""

    latex: str
    tokens: tuple[str, ...]
    score: float
    token_probs: tuple[float, ...]
    valid: bool

    @property
    def confidence(self) -> float:
        """The weakest token's probability: P(everything is right), uncalibrated (0 if empty)."""
        return float(min(self.token_probs)) if self.token_probs else 0.0

    @property
    def confidence_rate(self) -> float:
        """The mean token probability (0 if empty)."""
        return float(np.mean(self.token_probs)) if self.token_probs else 0.0


@dataclass(frozen=True)
class Reading:
    """The recognizer's reading of one image: ``hypotheses``, its n-best list in beam order
    (best score first), ``chosen``, the index of the one it stands for, and ``handwritten``, the
    style probe's probability that the crop is handwritten (None without a probe). The reading's
    LaTeX, tokens and confidences are those of the chosen hypothesis."""

    hypotheses: tuple[Hypothesis, ...]
    chosen: int = 0
    handwritten: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.chosen < len(self.hypotheses):
            raise ValueError(
                f"chosen={self.chosen} is not one of the {len(self.hypotheses)} hypotheses"
            )

    @property
    def best(self) -> Hypothesis:
        return self.hypotheses[self.chosen]

    @property
    def candidates(self) -> tuple[Hypothesis, ...]:
        """The n-best list with the chosen hypothesis first, the others in beam order."""
        others = (h for i, h in enumerate(self.hypotheses) if i != self.chosen)
        return (self.best, *others)

    @property
    def latex(self) -> str:
        return self.best.latex

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.best.tokens

    @property
    def token_probs(self) -> tuple[float, ...]:
        return self.best.token_probs

    @property
    def valid(self) -> bool:
        return self.best.valid

    @property
    def confidence(self) -> float:
        """The chosen hypothesis's weakest token probability."""
        return self.best.confidence

    @property
    def confidence_rate(self) -> float:
        """The chosen hypothesis's mean token probability."""
        return self.best.confidence_rate
