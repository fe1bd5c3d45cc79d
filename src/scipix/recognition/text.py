"""The packaged text OCR: PP-OCR's detector and recognizer (ONNX models shipped inside the
rapidocr wheel) on ONNX Runtime sessions of ours.

The models are loaded from the wheel's own ``models/`` directory, so the OCR never downloads
anything (a missing file raises :class:`~scipix.errors.ModelError`); the recognizer's character
list is read from its ONNX metadata. The sessions are opened by ``recognition/session.py``
(intra-op threads that sleep rather than spin: on 2 busy cores RapidOCR's own spinning sessions
cost twice the CPU for the same readings), and RapidOCR's pipeline object is not built: its
configuration (a 1,593-line model catalogue parsed by OmegaConf at import) made the first
text OCR call cost 0.96 CPU-s (import, load, read one line), 0.35 now; the detector's session
opens on its first use. What RapidOCR exposes cheaply is used as it is (its image
padding, resizing and rotated-crop functions, ``rapidocr.utils.process_img``); its detector
post-processing is in ``textdetector.py``; the recognizer's steps (a line resized to 48 rows,
CTC greedy decoding, words split at spaces and gaps, word boxes from the CTC columns) are below.

Two ways to read:

- :meth:`TextRecognizer.read`: the detector finds the lines of an image, the recognizer reads
  each. The detector sees the image at its own size (cut down only past ``MAX_SIDE``), rescaled
  only when its glyphs are smaller or larger than it reads well; an image of one or two lines
  is letterboxed as RapidOCR does (a lone heading lost its space without it), a band of several
  lines is not (one-column bands of 100 x 1400 pixels were detected as 350 x 1400).
- :meth:`TextRecognizer.read_lines`: lines whose boxes the caller's layout already knows: the
  recognizer only. A line's typical glyph is brought to ``LINE_GLYPH`` of the recognizer's 48
  rows, the rest of the rows white (the detector's crops brought a 12-pixel glyph in a 31-row
  crop to 19 rows: the input's width, and the cost, grow with it; at 13 a scanned page's
  lines are 25 % narrower and read the same prose).

The recognizer is rapidocr's model quantized to int8 (``scipix/weights/text_rec_int8.onnx``, made
by ``scripts/quantize_text_ocr.py``; weights/MODEL.md): 1.8x faster, 0.3 % of characters read
differently on scanned lines; rapidocr's float model when the installed wheel ships another.

The recognizer's cost grows with the width of its input, and in a batch every line is padded
to the widest: lines are read one by one (batches of equal widths saved nothing either).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from scipix.errors import ModelError
from scipix.imaging.page import Gray
from scipix.recognition.preprocess import glyph_height as measure_glyphs
from scipix.recognition.session import SessionConfig, open_session
from scipix.recognition.textdetector import Quad, TextDetector

if TYPE_CHECKING:
    import onnxruntime as ort

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in pixels
Rgb = npt.NDArray[np.uint8]

#: The model files rapidocr 3.x ships (det, rec: PP-OCRv6 small).
MODEL_FILES = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx"}
#: The detector's input is cut down to this longest side (never enlarged).
MAX_SIDE = 2000
#: Glyph heights (pixels) read well as they are; outside, the image is scaled to TARGET_GLYPH.
GLYPH_RANGE = (6.0, 32.0)
TARGET_GLYPH = 16.0
INK_THRESHOLD = 200
#: Images lower than this many glyph heights are letterboxed as RapidOCR does; others are not.
LETTERBOX_GLYPHS = 4.0
#: RapidOCR's letterbox: images wider than this many heights get a height of a quarter width.
LETTERBOX_RATIO = 8.0
LETTERBOX_MIN_HEIGHT = 30
#: The recognizer's input: 48 rows, at least 320 columns (the rest padded), 3 channels.
REC_ROWS = 48
REC_MIN_COLUMNS = 320
#: A known line's typical glyph height in the recognizer's rows (a taller crop is shrunk to
#: the 48 rows), and the margin (glyph heights) its crop should have above, below and beside.
LINE_GLYPH = 13.0
LINE_MARGIN = 0.65
#: A detected box this many times higher than wide is a column of text (rapidocr's crop turns
#: it to read it).
UPRIGHT = 1.5
#: Lines read less surely than this are dropped (RapidOCR's ``text_score``).
MIN_LINE_SCORE = 0.5
#: The recognizer quantized to int8 (``scripts/quantize_text_ocr.py``), in ``scipix/weights``.
QUANTIZED_REC = "text_rec_int8.onnx"
#: The recognizer's intra-op threads: a line is a few milliseconds of work per thread, which
#: sleeping threads make dearer (the pipeline reads other blocks on the other core meanwhile).
REC_THREADS = 1
#: A character this many CTC columns after the previous starts a new word (RapidOCR's rule).
WORD_GAP = 5


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


@dataclass(frozen=True)
class Spelled:
    """A line as the recognizer spelled it: words with their x extent as shares of its input's
    width (``span``: where the line itself lies in that input, as shares too)."""

    text: str
    confidence: float
    words: tuple[tuple[str, float, float, float], ...]  # text, confidence, x0, x1


def packaged_models() -> Path:
    """The ``models/`` directory inside the installed rapidocr package."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise ModelError("the text OCR is not installed: pip install 'rapidocr>=3.10,<3.11'")
    return Path(spec.origin).parent / "models"


def scale_for(gray: Gray, glyph_height: float | None) -> float:
    """The factor that brings glyphs into GLYPH_RANGE (1.0 when they are in it already)."""
    if glyph_height is None:
        glyph_height = measure_glyphs(gray, INK_THRESHOLD)
    low, high = GLYPH_RANGE
    if glyph_height is None or low <= glyph_height <= high:
        return 1.0
    factor = TARGET_GLYPH / glyph_height
    return float(min(factor, MAX_SIDE / max(gray.shape)))


def split_words(text: str, columns: npt.NDArray[np.int64]) -> list[list[int]]:
    """Character indices of each word: split at spaces and at gaps over ``WORD_GAP`` columns."""
    words: list[list[int]] = []
    current: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if current:
                words.append(current)
            current = []
            continue
        if current and columns[i] - columns[i - 1] > WORD_GAP:
            words.append(current)
            current = []
        current.append(i)
    if current:
        words.append(current)
    return words


def word_spans(
    words: list[list[int]], columns: npt.NDArray[np.int64], steps: int
) -> list[tuple[float, float]]:
    """Each word's x extent as shares of the input's width: its characters' CTC columns, widened
    by half the line's typical character width (the mean spacing of the columns inside words),
    overlaps split in the middle."""
    pitches = [(columns[w[-1]] - columns[w[0]]) / (len(w) - 1) for w in words if len(w) > 1]
    half = (float(np.mean(pitches)) if pitches else 1.0) / 2.0
    spans = [
        (
            max(columns[w[0]] + 0.5 - half, 0.0) / steps,
            min(columns[w[-1]] + 0.5 + half, steps) / steps,
        )
        for w in words
    ]
    for i in range(len(spans) - 1):
        (a0, a1), (b0, b1) = spans[i], spans[i + 1]
        if a1 > b0:
            middle = (a1 + b0) / 2.0
            spans[i], spans[i + 1] = (a0, middle), (middle, b1)
    return spans


def line_input(rgb: Rgb, rows: int = REC_ROWS) -> tuple[npt.NDArray[np.float32], float]:
    """The recognizer's input for a line image: resized to ``rows`` rows (white above and below
    up to REC_ROWS), padded to at least REC_MIN_COLUMNS columns with 0 (grey, as RapidOCR pads),
    scaled to [-1, 1]; and the share of the input's width the line covers."""
    h, w = rgb.shape[:2]
    columns = max(1, math.ceil(rows * w / h))
    line = cv2.resize(rgb, (columns, rows)) if (h, w) != (rows, columns) else rgb
    if rows < REC_ROWS:
        top = (REC_ROWS - rows) // 2
        white = (255, 255, 255)
        line = cv2.copyMakeBorder(
            line, top, REC_ROWS - rows - top, 0, 0, cv2.BORDER_CONSTANT, value=white
        )
    width = max(line.shape[1], REC_MIN_COLUMNS)
    x = np.zeros((1, 3, REC_ROWS, width), dtype=np.float32)
    x[0, :, :, : line.shape[1]] = line.transpose(2, 0, 1) / 127.5 - 1.0
    return x, columns / width


def line_rows(height: int, glyph_height: float) -> int:
    """The recognizer's rows for a known line's crop ``height`` pixels high (``LINE_GLYPH``)."""
    return max(1, min(REC_ROWS, round(height * LINE_GLYPH / max(glyph_height, 1.0))))


class LineRecognizer:
    """The recognizer: one line image (RGB) in, its characters and words out (thread-safe)."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self.session = session
        self.input = session.get_inputs()[0].name
        meta = session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise ModelError("the text OCR's recognizer has no character list in its metadata")
        self.characters = ["", *meta["character"].splitlines(), " "]  # CTC blank first

    def spell(self, rgb: Rgb, rows: int = REC_ROWS) -> Spelled:
        """Read ``rgb`` laid out by :func:`line_input`; word extents in shares of its width."""
        x, share = line_input(rgb, rows)
        probs = self.session.run(None, {self.input: x})[0][0]
        return self.decode(probs, (0.0, share))

    def decode(self, probs: npt.NDArray[np.float32], span: tuple[float, float]) -> Spelled:
        """CTC greedy decoding; word extents mapped from the input's width to the line's."""
        best = probs.argmax(axis=1)
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]
        columns = np.flatnonzero(keep)
        confidences = probs.max(axis=1)[keep]
        text = "".join(self.characters[i] for i in best[keep])
        if not text:
            return Spelled("", 0.0, ())
        steps = probs.shape[0]
        start, end = span
        found = []
        words = split_words(text, columns)
        for chars, (x0, x1) in zip(words, word_spans(words, columns, steps), strict=True):
            left = min(max((x0 - start) / (end - start), 0.0), 1.0)
            right = min(max((x1 - start) / (end - start), 0.0), 1.0)
            conf = float(np.mean(confidences[chars]))
            found.append(("".join(text[i] for i in chars), conf, left, right))
        return Spelled(text, float(np.mean(confidences)), tuple(found))


def placed(spelled: Spelled, box: Box, upright: bool = False) -> TextLine:
    """A spelled line whose image covered ``box``, as a TextLine with word boxes in its pixels
    (``upright``: the image was a column of text turned to read, words run down the box)."""
    x0, y0, x1, y1 = box
    words = []
    for text, conf, a, b in spelled.words:
        if upright:
            words.append(
                Word(text, conf, (x0, y0 + int(a * (y1 - y0)), x1, y0 + math.ceil(b * (y1 - y0))))
            )
        else:
            words.append(
                Word(text, conf, (x0 + int(a * (x1 - x0)), y0, x0 + math.ceil(b * (x1 - x0)), y1))
            )
    return TextLine(spelled.text, spelled.confidence, box, tuple(words))


def quad_box(quad: Quad, scale: float) -> Box:
    x0, y0 = np.floor(quad.min(axis=0) / scale).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0) / scale).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


class TextRecognizer:
    """Printed text lines and words from a gray page (offline, thread-safe)."""

    def __init__(self, threads: int = 0, cache_dir: Path | None = None) -> None:
        """``threads``: the detector's intra-op threads (0: ONNX Runtime's default); ``cache_dir``:
        where the optimized graphs are kept (``session.py``: a shorter cold start)."""
        self.models = packaged_models()
        missing = [name for name in MODEL_FILES.values() if not (self.models / name).is_file()]
        if missing:
            raise ModelError(
                f"the text OCR models are missing from {self.models} ({', '.join(missing)}); "
                "reinstall rapidocr (pip install --force-reinstall rapidocr)"
            )
        self.config = SessionConfig(threads=threads, cache_dir=cache_dir)
        self.recognizer = LineRecognizer(self._open_recognizer())
        self._detector: TextDetector | None = None  # opened on first use
        self._lock = threading.Lock()

    def _open_recognizer(self) -> ort.InferenceSession:
        """The int8 recognizer shipped in ``scipix/weights`` when it was made from the model this
        rapidocr ships (same size); else rapidocr's own."""
        config = self.config.with_threads(REC_THREADS)
        source = self.models / MODEL_FILES["Rec"]
        quantized = Path(str(resources.files("scipix") / "weights" / QUANTIZED_REC))
        if quantized.is_file():
            try:
                session = open_session(quantized, config)
            except ModelError as exc:
                log.warning("the int8 text recognizer %s is unreadable (%s)", quantized, exc)
            else:
                meta = session.get_modelmeta().custom_metadata_map
                if meta.get("source_size") == str(source.stat().st_size):
                    return session
        return self._open("Rec", config)

    def _open(self, stage: str, config: SessionConfig) -> ort.InferenceSession:
        path = self.models / MODEL_FILES[stage]
        try:
            return open_session(path, config)
        except ModelError as exc:
            raise ModelError(f"cannot load the text OCR model {path}: {exc}") from exc

    @property
    def detector(self) -> TextDetector:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    self._detector = TextDetector(self._open("Det", self.config))
        return self._detector

    def warm_up(self) -> None:
        """Read one small drawn line, through the detector (its session opens on first use)."""
        sample = np.full((48, 240), 255, dtype=np.uint8)
        cv2.putText(sample, "warm up 42", (8, 34), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
        self.read(sample)

    def read(self, gray: Gray, glyph_height: float | None = None) -> list[TextLine]:
        """The text lines of ``gray`` (dark text on light paper), top to bottom. ``glyph_height``:
        the typical glyph height in pixels, when the caller knows it (else it is measured)."""
        from rapidocr.utils.process_img import (
            apply_vertical_padding,
            get_rotate_crop_image,
            map_boxes_to_original,
            resize_image_within_bounds,
        )

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
        ratio = LETTERBOX_RATIO if heights < LETTERBOX_GLYPHS else -1
        img, ratio_h, ratio_w = resize_image_within_bounds(rgb, LETTERBOX_MIN_HEIGHT, MAX_SIDE)
        record = {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}}
        img, record = apply_vertical_padding(img, record, ratio, LETTERBOX_MIN_HEIGHT)
        quads = self.detector.detect(img)
        if not quads:
            return []
        crops = [get_rotate_crop_image(img, q.copy()) for q in quads]
        mapped = map_boxes_to_original(np.array(quads), record, *rgb.shape[:2])
        lines = []
        for crop, quad in zip(crops, mapped, strict=True):
            spelled = self.recognizer.spell(crop)
            if spelled.text.strip() and spelled.confidence >= MIN_LINE_SCORE:
                box = quad_box(quad, factor)
                upright = box[3] - box[1] >= UPRIGHT * (box[2] - box[0])  # rapidocr turned it
                lines.append(placed(spelled, box, upright))
        return sorted(lines, key=lambda ln: (ln.box[1], ln.box[0]))

    def read_lines(self, crops: Sequence[Gray], glyph_height: float) -> list[TextLine | None]:
        """The text of each crop, one line of text each (its box grown by ``LINE_MARGIN``, other
        ink blanked), read without the detector; boxes in the crop's pixels; None: nothing read
        surely. ``glyph_height``: the lines' typical glyph height in pixels."""
        found: list[TextLine | None] = []
        for crop in crops:
            h, w = crop.shape
            if h == 0 or w == 0:
                found.append(None)
                continue
            rows = line_rows(h, glyph_height)
            spelled = self.recognizer.spell(np.repeat(crop[:, :, None], 3, axis=2), rows)
            ok = spelled.text.strip() and spelled.confidence >= MIN_LINE_SCORE
            found.append(placed(spelled, (0, 0, w, h)) if ok else None)
        return found
