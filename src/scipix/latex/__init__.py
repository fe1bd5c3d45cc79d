"""The language of scipix: tokenize, parse, validate, normalize and convert LaTeX math."""

from __future__ import annotations

from scipix.latex.asciimath import to_asciimath
from scipix.latex.equivalence import Equivalence, equivalent
from scipix.latex.html import to_html
from scipix.latex.mathml import to_mathml
from scipix.latex.mmd import to_mmd
from scipix.latex.nodes import Node
from scipix.latex.normalize import NormalizeOptions, detokenize, model_tokens, normalize
from scipix.latex.parser import parse
from scipix.latex.tokenizer import Token, tokenize
from scipix.latex.validate import LatexIssue, check, validate

__all__ = [
    "Equivalence",
    "LatexIssue",
    "Node",
    "NormalizeOptions",
    "Token",
    "check",
    "detokenize",
    "equivalent",
    "model_tokens",
    "normalize",
    "parse",
    "to_asciimath",
    "to_html",
    "to_mathml",
    "to_mmd",
    "tokenize",
    "validate",
]
