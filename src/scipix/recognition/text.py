"""The packaged text OCR (RapidOCR, PP-OCR ONNX models shipped inside the rapidocr wheel).

The models are loaded from the wheel's own ``models/`` directory with explicit paths, so the OCR
never downloads anything (rapidocr would fetch a model only when its file is missing; we check
first and raise :class:`~scipix.errors.ModelError` instead). RapidOCR's ``__call__`` rewrites its
configuration when given per-call parameters, so every parameter is fixed at construction and
calls are serialized by a lock.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scipix.errors import ModelError
from scipix.imaging.page import Gray

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in pixels

#: The model files rapidocr 3.x ships (det, rec: PP-OCRv6 small; cls: mobile v2).
MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}


@dataclass(frozen=True)
class Word:
    """A word read by the text OCR."""

    text: str
    confidence: float
    box: Box


@dataclass(frozen=True)
class TextLine:
    """One line found by the text OCR, with its words."""

    text: str
    confidence: float
    box: Box
    words: tuple[Word, ...]


def packaged_models() -> Path:
    """The ``models/`` directory inside the installed rapidocr package."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise ModelError("the text OCR is not installed: pip install 'rapidocr>=3.4'")
    return Path(spec.origin).parent / "models"


def polygon_box(points: Any) -> Box:
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0, y0 = np.floor(arr.min(axis=0)).astype(int)
    x1, y1 = np.ceil(arr.max(axis=0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


class TextRecognizer:
    """Printed text lines and words from a gray page (offline, thread-safe)."""

    def __init__(self, threads: int = 0) -> None:
        models = packaged_models()
        missing = [name for name in MODEL_FILES.values() if not (models / name).is_file()]
        if missing:
            raise ModelError(
                f"the text OCR models are missing from {models} ({', '.join(missing)}); "
                "reinstall rapidocr (pip install --force-reinstall rapidocr)"
            )
        from rapidocr import RapidOCR

        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Global.return_word_box": True,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads if threads > 0 else -1,
        }
        for stage, name in MODEL_FILES.items():
            params[f"{stage}.model_path"] = str(models / name)
        try:
            self.engine = RapidOCR(params=params)
        except Exception as exc:  # rapidocr raises plain exceptions for bad model files
            raise ModelError(f"cannot load the text OCR models from {models}: {exc}") from exc
        self.lock = threading.Lock()

    def read(self, gray: Gray) -> list[TextLine]:
        """The text lines of ``gray`` (dark text on light paper), top to bottom."""
        rgb = np.repeat(gray[:, :, None], 3, axis=2)
        with self.lock:
            out: Any = self.engine(rgb)  # det + rec: a RapidOCROutput
        if getattr(out, "boxes", None) is None or getattr(out, "txts", None) is None:
            return []
        words_per_line = list(out.word_results) if out.word_results else []
        lines = []
        for i, (box, text, score) in enumerate(zip(out.boxes, out.txts, out.scores, strict=True)):
            words = words_per_line[i] if i < len(words_per_line) else ()
            parsed = tuple(
                Word(str(w[0]), float(w[1]), polygon_box(w[2]))
                for w in words
                if w and w[2] is not None
            )
            lines.append(TextLine(str(text), float(score), polygon_box(box), parsed))
        return sorted(lines, key=lambda ln: (ln.box[1], ln.box[0]))
