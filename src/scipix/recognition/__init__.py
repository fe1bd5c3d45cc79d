"""Inference only (numpy + ONNX Runtime; never torch): the formula recognizer and its input,
and the packaged text OCR."""

from __future__ import annotations

from scipix.recognition.beam import BeamConfig
from scipix.recognition.preprocess import InputSpec, prepare_image
from scipix.recognition.reading import Hypothesis, Reading
from scipix.recognition.recognizer import FormulaRecognizer
from scipix.recognition.session import SessionConfig
from scipix.recognition.text import TextLine, TextRecognizer, Word

__all__ = [
    "BeamConfig",
    "FormulaRecognizer",
    "Hypothesis",
    "InputSpec",
    "Reading",
    "SessionConfig",
    "TextLine",
    "TextRecognizer",
    "Word",
    "prepare_image",
]
