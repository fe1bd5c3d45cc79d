"""The Scipix façade: options, errors raised or carried as data, order, lazy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scipix.errors import (
    ImageDecodeError,
    ImageMissingError,
    ImageNoContentError,
    ImageTooLargeError,
    ModelError,
    ScipixError,
    UnknownFormatError,
    ValueOutOfRangeError,
)
from scipix.pipeline.agents import PreprocessAgent, RecognizeAgent
from scipix.recognition.recognizer import packaged_model_dir
from scipix.schema import PREPROCESS_DEFAULTS, RecognizeOptions, Region
from scipix.service import Scipix, available_cores, intra_op_threads
from scipix.settings import Settings

HAS_MODEL = (packaged_model_dir() / "encoder.onnx").is_file()


@pytest.fixture(scope="module")
def service() -> Scipix:
    return Scipix(Settings())


def test_import_scipix_is_light_and_scipix_is_lazy() -> None:
    code = (
        "import sys, scipix\n"
        "assert 'onnxruntime' not in sys.modules and 'scipix.service' not in sys.modules\n"
        "from scipix import Scipix\n"
        "assert Scipix.__module__ == 'scipix.service'\n"
        "assert 'onnxruntime' not in sys.modules and 'rapidocr' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bad_input_raises_the_matching_error(service: Scipix, tmp_path: Path) -> None:
    with pytest.raises(ImageMissingError):
        service.recognize(b"")
    with pytest.raises(ImageDecodeError):
        service.recognize(b"plain text, no image")
    with pytest.raises(ImageNoContentError):
        service.recognize(np.full((100, 300), 255, dtype=np.uint8))
    with pytest.raises(ImageMissingError):
        service.recognize(tmp_path / "nope.png")


def test_limits_come_from_settings() -> None:
    settings = Settings()
    settings.preprocessing.max_pixels = 1000
    with pytest.raises(ImageTooLargeError):
        Scipix(settings).recognize(np.zeros((100, 100), dtype=np.uint8))


def test_recognize_many_keeps_order_and_carries_errors(service: Scipix) -> None:
    blank = np.full((80, 200), 255, dtype=np.uint8)
    inputs = [b"", b"not an image", blank, b"", blank]
    results = list(service.recognize_many(inputs, workers=2))
    ids = [r.error_info.id if r.error_info else None for r in results]
    assert ids == [
        "image_missing",
        "image_decode_error",
        "image_no_content",
        "image_missing",
        "image_no_content",
    ]
    assert len({r.request_id for r in results}) == 5
    body = results[2].to_mathpix()
    assert body["error_info"]["id"] == "image_no_content" and body["image_width"] == 200
    assert set(body) == {"request_id", "error", "error_info", "image_width", "image_height"}


def test_settings_fill_options_the_caller_left_unset() -> None:
    settings = Settings()
    settings.ocr.math_inline_delimiters = ("$", "$")
    settings.ocr.beam_width = 5
    sp = Scipix(settings)
    opts = sp.effective_options(RecognizeOptions())
    assert opts.math_inline_delimiters == ("$", "$") and opts.beam_width == 5
    mine = sp.effective_options(
        RecognizeOptions(math_inline_delimiters=("\\(", "\\)"), beam_width=2)
    )
    assert mine.math_inline_delimiters == ("\\(", "\\)") and mine.beam_width == 2


def test_settings_n_best_applies_unless_the_call_sets_it() -> None:
    settings = Settings()
    settings.ocr.n_best = 2
    sp = Scipix(settings)
    opts = sp.effective_options(RecognizeOptions())
    assert opts.n_best == 2 and opts.beam_width == 3
    assert sp.effective_options(RecognizeOptions(n_best=1)).n_best == 1
    narrow = sp.effective_options(RecognizeOptions(beam_width=1))  # n_best may not exceed it
    assert narrow.n_best == 1 and narrow.beam_width == 1


def test_preprocessing_settings_reach_every_switch() -> None:
    for name, default in PREPROCESS_DEFAULTS.model_dump().items():
        settings = Settings()
        setattr(settings.preprocessing, name, not default)
        agent = Scipix(settings).agents[0]
        assert isinstance(agent, PreprocessAgent)
        assert getattr(agent.defaults.config, name) is (not default), name
        assert getattr(agent.defaults.for_options(RecognizeOptions()), name) is (not default)


def test_performance_batch_size_reaches_the_recognizer() -> None:
    from pipeline.scripted import ScriptedRecognizer

    batch_sizes: list[int] = []

    class BatchRecorder(ScriptedRecognizer):
        def recognize(self, images: Any, n_best: int = 1, **options: Any) -> Any:
            batch_sizes.append(options["batch_size"])
            return super().recognize(images, n_best, **options)

    settings = Settings()
    settings.performance.batch_size = 3
    sp = Scipix(settings, recognizer=BatchRecorder([("x", 0.9)]))  # type: ignore[arg-type]
    agent = next(a for a in sp.agents if isinstance(a, RecognizeAgent))
    crops = [np.zeros((16, 32), dtype=np.uint8)] * 5
    assert len(agent.read(crops, sp.effective_options(None))) == 5
    assert batch_sizes == [3]


def test_default_formats() -> None:
    assert RecognizeOptions().formats == ("text", "latex_styled")
    for empty in (None, [], {}, ()):
        assert RecognizeOptions.from_request({"formats": empty}).formats == ("text", "latex_styled")
    assert RecognizeOptions.from_request({"formats": "html"}).formats == ("html",)
    assert RecognizeOptions(formats=("text", "text", "data")).formats == ("text", "data")


def test_invalid_options_are_options_errors() -> None:
    with pytest.raises(UnknownFormatError) as info:
        RecognizeOptions(formats=("text", "latex_simplified"))  # type: ignore[arg-type]
    assert info.value.error_id == "opts_unknown_format"
    with pytest.raises(ValueOutOfRangeError):
        RecognizeOptions.model_validate({"confidence_threshold": 1.5})


def test_region_outside_the_image_is_an_options_error(service: Scipix) -> None:
    img = np.full((100, 100), 255, dtype=np.uint8)
    opts = RecognizeOptions(region=Region(top_left_x=500, top_left_y=0, width=10, height=10))
    with pytest.raises(ValueOutOfRangeError, match="outside"):
        service.recognize(img, opts)


def test_preprocess_is_available_for_inspection(service: Scipix) -> None:
    img = np.full((200, 400), 255, dtype=np.uint8)
    img[90:110, 50:350] = 0
    prep = service.preprocess(img)
    assert prep.page.height < 60 and prep.original_width == 400


def test_closed_service_refuses_work() -> None:
    sp = Scipix(Settings())
    sp.close()
    with pytest.raises(ScipixError, match="closed"):
        sp.recognize(b"")


def test_missing_model_is_a_model_error_per_image(tmp_path: Path) -> None:
    settings = Settings()
    settings.ocr.model_dir = tmp_path  # an empty folder: no encoder.onnx / decoder.onnx
    settings.ocr.text_ocr = False
    img = np.full((60, 200), 255, dtype=np.uint8)
    img[20:40, 20:180:30] = 0
    results = list(Scipix(settings).recognize_many([img, b""]))
    assert results[0].error_info is not None
    assert results[0].error_info.id == "model_unavailable"
    assert results[1].error_info is not None and results[1].error_info.id == "image_missing"


def test_warm_up_loads_the_models_and_reads_once() -> None:
    from pipeline.scripted import CountingTextRecognizer, ScriptedRecognizer

    reader = CountingTextRecognizer()
    sp = Scipix(Settings(), recognizer=ScriptedRecognizer([("x", 0.9)]), text=reader)  # type: ignore[arg-type]
    sp.warm_up()
    assert len(reader.shapes) == 1  # the text OCR's slow first call is paid now
    settings = Settings()
    settings.ocr.text_ocr = False
    quiet = CountingTextRecognizer()
    Scipix(settings, recognizer=ScriptedRecognizer([("x", 0.9)]), text=quiet).warm_up()  # type: ignore[arg-type]
    assert quiet.shapes == []
    sp.close()
    with pytest.raises(ScipixError, match="closed"):
        sp.warm_up()


def test_warm_up_reports_a_missing_model_at_once(tmp_path: Path) -> None:
    settings = Settings()
    settings.ocr.model_dir = tmp_path
    settings.ocr.text_ocr = False
    with pytest.raises(ModelError, match="no formula model"):
        Scipix(settings).warm_up()


def test_threads_share_the_cores_among_workers() -> None:
    assert intra_op_threads(0, workers=2, cores=8) == 4
    assert intra_op_threads(0, workers=3, cores=8) == 2
    assert intra_op_threads(0, workers=16, cores=8) == 1
    assert intra_op_threads(3, workers=2, cores=8) == 3  # set in settings: kept
    settings = Settings()
    assert Scipix(settings, workers=1).threads == available_cores()
    assert Scipix(settings, workers=available_cores() * 2).threads == 1
    settings.performance.workers = 2
    assert Scipix(settings).threads == max(1, available_cores() // 2)
    settings.runtime.threads = 5
    assert Scipix(settings, workers=64).threads == 5


@pytest.mark.skipif(not HAS_MODEL, reason="needs the packaged formula model")
def test_the_model_is_loaded_with_the_shared_threads() -> None:
    sp = Scipix(Settings(), workers=available_cores())
    options = sp.formula_recognizer().encoder.get_session_options()
    assert options.intra_op_num_threads == 1
