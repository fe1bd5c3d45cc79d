"""Options of the normalizer: the lossy rewrites a recognizer's labels want."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NormalizeOptions:
    """Lossy rewrites on top of the rendering-preserving canonical form (all off by default)."""

    drop_spacing: bool = False
    """Drop ``\\, \\: \\; \\! ~ \\  \\quad \\qquad \\hspace{..} \\kern ..`` in math."""
    drop_styles: bool = False
    """Drop ``\\displaystyle \\textstyle ..`` and size switches (``\\tiny`` .. ``\\Huge``)."""
    drop_labels: bool = False
    """Drop ``\\label{..}``, ``\\nonumber``, ``\\notag``."""
    unify_fonts: bool = False
    """``{\\bf x}`` -> ``\\mathbf{x}`` (also ``\\rm \\it \\cal \\sf \\tt \\mit``),
    ``\\bm``/``\\pmb`` -> ``\\boldsymbol``, ``\\mbox``/``\\textrm``/``\\hbox`` -> ``\\text``."""
    drop_text_spaces: bool = False
    """``\\text{d i l a t o n}`` -> ``\\text{dilaton}`` (for space-tokenized corpora)."""
    labels: bool = False
    """Shorthand: turn on the four rewrites above it (what :meth:`for_labels` returns)."""

    def __post_init__(self) -> None:
        if self.labels:
            for name in ("drop_spacing", "drop_styles", "drop_labels", "unify_fonts"):
                object.__setattr__(self, name, True)

    @classmethod
    def for_labels(cls, drop_text_spaces: bool = False) -> NormalizeOptions:
        """Everything a recognizer's training labels want; ``drop_text_spaces`` for corpora
        whose text was space-tokenized (im2latex, arXiv)."""
        return cls(labels=True, drop_text_spaces=drop_text_spaces)

    @property
    def lossy(self) -> bool:
        return self.drop_spacing or self.drop_styles or self.drop_labels or self.unify_fonts
