"""The language of scipix: tokenize, parse, validate, normalize and convert LaTeX math."""

from __future__ import annotations

from scipix.latex.nodes import Node
from scipix.latex.normalize import NormalizeOptions, detokenize, model_tokens, normalize
from scipix.latex.parser import parse
from scipix.latex.tokenizer import Token, tokenize
from scipix.latex.validate import LatexIssue, check, validate

__all__ = [
    "LatexIssue",
    "Node",
    "NormalizeOptions",
    "Token",
    "check",
    "detokenize",
    "model_tokens",
    "normalize",
    "parse",
    "tokenize",
    "validate",
]
