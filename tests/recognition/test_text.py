"""The text OCR (recognition/text.py): rapidocr's models on our own sessions, read with the
detector or, for lines whose boxes are known, by the recognizer alone."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from imaging.drawing import stack, text_line
from scipix.recognition.text import TextRecognizer

SENTENCE = "Perform the indicated operation and simplify."


@pytest.fixture(scope="module")
def reader() -> TextRecognizer:
    return TextRecognizer(threads=1)


def test_two_lines_are_found_top_to_bottom_with_their_words(reader: TextRecognizer) -> None:
    page = stack([text_line(SENTENCE), text_line("Then check the answer.")], gap=30)
    lines = reader.read(page)
    assert [ln.text for ln in lines] == [SENTENCE, "Then check the answer."]
    first, second = lines
    assert first.box[3] <= second.box[1] + 4
    words = first.words
    assert [w.text for w in words][:3] == ["Perform", "the", "indicated"]
    assert all(a.box[2] <= b.box[0] + 2 for a, b in itertools.pairwise(words))
    assert all(first.box[0] <= w.box[0] < w.box[2] <= first.box[2] for w in words)


def test_a_known_line_is_read_without_the_detector(reader: TextRecognizer) -> None:
    line = text_line(SENTENCE, size=24, pad=8)
    blank = np.full((30, 200), 255, dtype=np.uint8)
    found = reader.read_lines([line, blank], glyph_height=14.0)
    assert found[1] is None  # nothing to read
    read = found[0]
    assert read is not None and read.text == SENTENCE
    assert read.box == (0, 0, line.shape[1], line.shape[0])
    lefts = [w.box[0] for w in read.words]
    assert [w.text for w in read.words][-1] == "simplify." and lefts == sorted(lefts)
    # "Perform" starts at the left of the ink, "simplify." ends near its right
    ink = np.flatnonzero((line < 128).any(axis=0))
    assert abs(read.words[0].box[0] - ink[0]) < 12 and abs(read.words[-1].box[2] - ink[-1]) < 12


def test_the_text_ocr_starts_without_rapidocr_configuration() -> None:
    # RapidOCR's pipeline object parses a 1,593-line YAML with OmegaConf (~0.6 CPU-s): not used
    code = (
        "import sys, numpy as np\n"
        "from scipix.recognition.text import TextRecognizer\n"
        "r = TextRecognizer(threads=1)\n"
        "r.read(np.full((40, 200), 255, np.uint8))\n"
        "print(sorted(m for m in ('omegaconf', 'rapidocr.main') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_int8_recognizer_reads_as_the_float_one(reader: TextRecognizer) -> None:
    from scipix.recognition.session import SessionConfig, open_session
    from scipix.recognition.text import MODEL_FILES, LineRecognizer, line_input, packaged_models

    meta = reader.recognizer.session.get_modelmeta().custom_metadata_map
    source = packaged_models() / MODEL_FILES["Rec"]
    assert meta.get("source_size") == str(source.stat().st_size)  # the shipped int8 model
    full = LineRecognizer(open_session(source, SessionConfig(threads=1)))
    line = np.repeat(text_line(SENTENCE, size=24, pad=10)[:, :, None], 3, axis=2)
    assert reader.recognizer.spell(line).text == full.spell(line).text == SENTENCE
    assert line_input(line)[0].shape[:3] == (1, 3, 48)
