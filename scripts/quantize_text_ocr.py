"""Make src/scipix/weights/text_rec_int8.onnx: the text OCR's recognizer (rapidocr's
PP-OCRv6_rec_small.onnx, Apache-2.0) quantized to int8 (QDQ, per channel), 1.8x faster on CPU.

Calibrated on drawn lines of prose, numbers and short words (PIL's scalable font at several
sizes, half of them blurred and noisy), laid out exactly as ``TextRecognizer.read_lines`` feeds
the recognizer (``line_input``/``line_rows``). The file records the size and SHA-256 of the model
it was made from; the text OCR uses it only when the installed rapidocr ships that same model.

    python3 scripts/quantize_text_ocr.py        (needs the [train] extra: onnx)
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from scipix.recognition.text import MODEL_FILES, line_input, line_rows, packaged_models

OUT = Path(__file__).resolve().parent.parent / "src" / "scipix" / "weights" / "text_rec_int8.onnx"
SENTENCES = [
    "Perform the indicated operation and simplify.",
    "Let x be a real number with 0 < x < 1.",
    "The proof follows from Theorem 2 and the estimate (3).",
    "Solve for y: 3y + 7 = 22, then check the answer.",
    "In 1998 the error was 0.31 per cent, see Table 4.",
    "Hence f(x) = x^2 + 1 is positive on [0, 1].",
    "WHERE THE COLUMNS MEET, THE TEXT IS SET SMALLER",
    "e.g. (i) the matrix A is invertible; (ii) det A = 0?",
    "which we use below.",
    "1 Introduction",
    "Method Error Time",
    "Proof.",
    "Old",
    "0.07",
    "12",
    "speed v",
]


def drawn_lines(seed: int = 0) -> Iterator[tuple[np.ndarray, float]]:
    """Lines of text on white with a margin, and their typical glyph height (pixels)."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    for i, text in enumerate(SENTENCES * 4):
        size = int(rng.integers(14, 30))
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = font.getbbox(text)
        pad = int(0.45 * size)
        img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
        ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=0, font=font)
        gray = np.asarray(img, dtype=np.float32)
        if i % 2:
            gray = cv2.GaussianBlur(gray, (0, 0), 0.8) + rng.normal(0, 10, gray.shape)
        yield np.clip(gray, 0, 255).astype(np.uint8), 0.55 * size


def main() -> None:
    try:
        import onnx
        from onnx import version_converter
        from onnxruntime.quantization import (
            CalibrationDataReader,
            QuantFormat,
            QuantType,
            quantize_static,
        )
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise SystemExit(f"{exc}: pip install 'scipix[train]'") from exc

    source = packaged_models() / MODEL_FILES["Rec"]
    inputs = []
    for gray, glyph in drawn_lines():
        rgb = np.repeat(gray[:, :, None], 3, axis=2)
        inputs.append({"x": line_input(rgb, line_rows(gray.shape[0], glyph))[0]})

    class Lines(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.left, None)

    with tempfile.TemporaryDirectory() as tmp:
        upgraded, prepared = Path(tmp) / "rec13.onnx", Path(tmp) / "rec_pre.onnx"
        # per-channel scales need DequantizeLinear's axis: opset 13 (the model is opset 11)
        onnx.save(version_converter.convert_version(onnx.load(str(source)), 13), str(upgraded))
        quant_pre_process(str(upgraded), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(OUT),
            Lines(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["Conv", "MatMul"],
        )
    model = onnx.load(str(OUT))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    extra = {"source": source.name, "source_size": str(source.stat().st_size)}
    extra["source_sha256"] = digest
    onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props}, **extra})
    onnx.save(model, str(OUT))
    print(f"{OUT} ({OUT.stat().st_size / 1e6:.1f} MB) from {source.name} sha256 {digest[:12]}")


if __name__ == "__main__":
    main()
