"""Inference only (numpy + ONNX Runtime; never torch): the formula recognizer and its input."""

from __future__ import annotations

from scipix.recognition.beam import BeamConfig
from scipix.recognition.preprocess import InputSpec, prepare_image
from scipix.recognition.recognizer import FormulaRecognizer, Hypothesis, Recognition

__all__ = [
    "BeamConfig",
    "FormulaRecognizer",
    "Hypothesis",
    "InputSpec",
    "Recognition",
    "prepare_image",
]
