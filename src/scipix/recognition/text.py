"""The packaged text OCR (RapidOCR, PP-OCR ONNX models shipped inside the rapidocr wheel).

The models are loaded from the wheel's own ``models/`` directory with explicit paths, so the OCR
never downloads anything (rapidocr would fetch a model only when its file is missing; we check
first and raise :class:`~scipix.errors.ModelError` instead). RapidOCR's ``__call__`` rewrites its
configuration when given per-call parameters, so every parameter is fixed at construction and
calls are serialized by a lock.

Scale: RapidOCR's default detector input enlarges the shorter side of every image to 736 pixels,
which makes a one-line crop of 60 x 600 pixels an image of 736 x 7360: about a second per line,
and worse reading (the detector then splits lines). Here the detector sees the image at its own
size (cut down only past ``MAX_SIDE``), rescaled only when its glyphs are smaller or larger than
the detector reads well: 60 to 100 ms per line on one core, the same text read.

Sessions: the detector's and recognizer's ONNX Runtime sessions are opened here
(``recognition/session.py``: intra-op threads that sleep rather than spin while they wait) and
handed to RapidOCR, whose own sessions spin: on 2 busy cores the same 31 calls of a scanned
page cost 15.1 CPU-s with spinning threads, 7.9 without (the same readings).

Lines are recognized one by one (``REC_BATCH``): the recognizer's cost grows with the width of
its input, and in a batch every line is padded to the widest (a paragraph's short last line
cost as much as a full one): the page's 78 lines 6.4 -> 5.2 CPU-s.

A band of several lines is not letterboxed to a quarter of its width in height before
detection (RapidOCR's ``width_height_ratio``, kept for an image of one or two lines: a lone
heading lost its space without it): a one-column scanned page's bands of 100 x 1400 pixels were
detected as 350 x 1400 (two pages: detection 2.1 -> 1.0 CPU-s, the same prose words).
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from scipix.errors import ModelError
from scipix.imaging.page import Gray
from scipix.recognition.preprocess import glyph_height as measure_glyphs
from scipix.recognition.session import SessionConfig, open_session

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in pixels

#: The model files rapidocr 3.x ships (det, rec: PP-OCRv6 small; cls: mobile v2).
MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
#: The detector's input is cut down to this longest side (never enlarged by RapidOCR).
MAX_SIDE = 2000
#: Glyph heights (pixels) read well as they are; outside, the image is scaled to TARGET_GLYPH.
GLYPH_RANGE = (6.0, 32.0)
TARGET_GLYPH = 16.0
INK_THRESHOLD = 200
#: Images lower than this many glyph heights are letterboxed as RapidOCR does; others are not.
LETTERBOX_GLYPHS = 4.0
#: RapidOCR's letterbox: images wider than this many heights get a height of a quarter width.
LETTERBOX_RATIO = 8.0
#: Lines per recognizer run (RapidOCR's default 6 pads each batch to its widest line).
REC_BATCH = 1


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
        raise ModelError("the text OCR is not installed: pip install 'rapidocr>=3.10,<3.11'")
    return Path(spec.origin).parent / "models"


def polygon_box(points: Any, scale: float = 1.0) -> Box:
    """The bounding box of a polygon found in an image scaled by ``scale``, in the original
    image's pixels."""
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2) / scale
    x0, y0 = np.floor(arr.min(axis=0)).astype(int)
    x1, y1 = np.ceil(arr.max(axis=0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def scale_for(gray: Gray, glyph_height: float | None) -> float:
    """The factor that brings glyphs into GLYPH_RANGE (1.0 when they are in it already)."""
    if glyph_height is None:
        glyph_height = measure_glyphs(gray, INK_THRESHOLD)
    low, high = GLYPH_RANGE
    if glyph_height is None or low <= glyph_height <= high:
        return 1.0
    factor = TARGET_GLYPH / glyph_height
    return float(min(factor, MAX_SIDE / max(gray.shape)))


class StageConfig(dict[str, Any]):
    """A RapidOCR stage's settings as a plain dict read by attribute too (RapidOCR reads both
    ways); unlike its own configuration it may hold a session object."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def own_sessions(engine: Any, models: Path, config: SessionConfig) -> None:
    """Give ``engine``'s detector and recognizer sessions opened by :func:`open_session`."""
    from rapidocr.ch_ppocr_det.main import TextDetector
    from rapidocr.ch_ppocr_rec.main import TextRecognizer as LineRecognizer

    for stage, make in (("Det", TextDetector), ("Rec", LineRecognizer)):
        settings = StageConfig(engine.cfg[stage].items())
        settings.update(font_path=engine.cfg.Global.font_path, engine_cfg={})  # as RapidOCR's
        settings["session"] = open_session(models / MODEL_FILES[stage], config)
        setattr(engine, f"text_{stage.lower()}", make(settings))


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
            "Det.limit_type": "max",
            "Det.limit_side_len": MAX_SIDE,
            "Rec.rec_batch_num": REC_BATCH,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads if threads > 0 else -1,
        }
        for stage, name in MODEL_FILES.items():
            params[f"{stage}.model_path"] = str(models / name)
        try:
            self.engine = RapidOCR(params=params)
        except Exception as exc:  # rapidocr raises plain exceptions for bad model files
            raise ModelError(f"cannot load the text OCR models from {models}: {exc}") from exc
        own_sessions(self.engine, models, SessionConfig(threads=threads))
        self.lock = threading.Lock()

    def warm_up(self) -> None:
        """Read one small drawn line: the first call costs about 0.1 s more than later ones."""
        sample = np.full((48, 240), 255, dtype=np.uint8)
        cv2.putText(sample, "warm up 42", (8, 34), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
        self.read(sample)

    def read(self, gray: Gray, glyph_height: float | None = None) -> list[TextLine]:
        """The text lines of ``gray`` (dark text on light paper), top to bottom. ``glyph_height``:
        the typical glyph height in pixels, when the caller knows it (else it is measured)."""
        if glyph_height is None:
            glyph_height = measure_glyphs(gray, INK_THRESHOLD)
        factor = scale_for(gray, glyph_height)
        heights = gray.shape[0] / glyph_height if glyph_height else 1.0
        if factor != 1.0:
            h, w = gray.shape
            size = (max(1, round(w * factor)), max(1, round(h * factor)))
            shrink = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_CUBIC
            gray = np.asarray(cv2.resize(gray, size, interpolation=shrink), dtype=np.uint8)
        rgb = np.repeat(gray[:, :, None], 3, axis=2)
        with self.lock:
            self.engine.width_height_ratio = LETTERBOX_RATIO if heights < LETTERBOX_GLYPHS else -1
            out: Any = self.engine(rgb)  # det + rec: a RapidOCROutput
        if getattr(out, "boxes", None) is None or getattr(out, "txts", None) is None:
            return []
        words_per_line = list(out.word_results) if out.word_results else []
        lines = []
        for i, (box, text, score) in enumerate(zip(out.boxes, out.txts, out.scores, strict=True)):
            words = words_per_line[i] if i < len(words_per_line) else ()
            parsed = tuple(
                Word(str(w[0]), float(w[1]), polygon_box(w[2], factor))
                for w in words
                if w and w[2] is not None
            )
            lines.append(TextLine(str(text), float(score), polygon_box(box, factor), parsed))
        return sorted(lines, key=lambda ln: (ln.box[1], ln.box[0]))
