"""ONNX export agrees with the PyTorch model (needs the [train] extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnxruntime = pytest.importorskip("onnxruntime")

from scipix.recognition import FormulaRecognizer  # noqa: E402
from scipix.recognition.beam import BeamConfig, beam_search  # noqa: E402
from scipix.recognition.preprocess import InputSpec, batch_images, prepare_image  # noqa: E402
from scipix.training.config import TrainConfig  # noqa: E402
from scipix.training.export import export_model, load_weights  # noqa: E402
from scipix.training.trainer import greedy_decode, new_state, save_state  # noqa: E402

TOKENS = ["<pad>", "<bos>", "<eos>", "<unk>", "x", "y", "1", "2", "+", "=", "^", "{", "}"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("model")
    cfg = TrainConfig(
        run_dir=root,
        d_model=64,
        channels=(8, 16, 32, 64),
        ff=128,
        heads=4,
        dec_layers=2,
        max_tokens=30,
    )
    state = new_state(cfg, TOKENS)
    # Perturb the EMA weights so that the decoder's choices are not all the same token.
    with torch.no_grad():
        for p in state.ema.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    checkpoint = root / "last.pt"
    save_state(state, checkpoint, cfg, InputSpec())
    export_model(checkpoint, root / "export", extra={"version": "test"}, fp16=False)
    return checkpoint, root / "export"


def formula_images() -> list[np.ndarray]:
    import cv2

    images = []
    for text in ("x+1=2", "y^2", "12+x+y"):
        im = np.full((60, 300), 255, np.uint8)
        cv2.putText(im, text, (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 1)
        images.append(im)
    return images


def test_onnx_encoder_and_greedy_decoder_match_pytorch(exported: tuple[Path, Path]) -> None:
    checkpoint, out = exported
    model, _ = load_weights(checkpoint)
    recognizer = FormulaRecognizer.load(out, beam=BeamConfig(beam_width=1, max_tokens=20))
    prepared = recognizer.prepare(formula_images())
    batch = batch_images(prepared, recognizer.spec)
    embedding, cross_k, _ = recognizer.encode(prepared)
    with torch.no_grad():
        memory = model.encoder(torch.from_numpy(batch))
        torch_k, _ = model.decoder.cross_cache(memory)
    np.testing.assert_allclose(cross_k, torch_k.numpy(), atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=1), 1.0, atol=1e-5)
    expected = greedy_decode(model, torch.from_numpy(batch), 20)
    cfg = BeamConfig(beam_width=1, max_tokens=20, banned=())
    found = beam_search(recognizer.step, cross_k, recognizer.encode(prepared)[2], cfg)
    assert [list(h[0].ids) for h in found] == expected


def test_metadata_describes_the_model(exported: tuple[Path, Path]) -> None:
    _, out = exported
    recognizer = FormulaRecognizer.load(out)
    assert recognizer.vocab == TOKENS
    assert recognizer.version == "test"
    assert recognizer.input_spec == InputSpec().to_dict()


def test_beam_returns_n_best_sorted_with_token_probabilities(exported: tuple[Path, Path]) -> None:
    _, out = exported
    recognizer = FormulaRecognizer.load(out, beam=BeamConfig(beam_width=4, max_tokens=20))
    [result] = recognizer.recognize([formula_images()[0]], n_best=3)
    scores = [h.score for h in result.hypotheses]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    for h in result.hypotheses:
        assert all(0.0 < p <= 1.0 for p in h.token_probs)
    assert 0.0 <= result.confidence <= result.confidence_rate <= 1.0


def test_fp16_storage_changes_outputs_negligibly(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    checkpoint, out = exported
    export_model(checkpoint, tmp_path, extra={"version": "test"}, fp16=True)
    images = formula_images()
    full = FormulaRecognizer.load(out)
    half = FormulaRecognizer.load(tmp_path)
    k32 = full.encode(full.prepare(images))[1]
    k16 = half.encode(half.prepare(images))[1]
    assert np.abs(k32 - k16).max() < 0.05 * np.abs(k32).max()
    assert (tmp_path / "encoder.onnx").stat().st_size < 0.6 * (out / "encoder.onnx").stat().st_size


def test_int8_decoder_keeps_greedy_choices_and_shrinks(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    checkpoint, out = exported
    export_model(checkpoint, tmp_path, extra={"version": "test"}, fp16=True, int8=True)
    beam = BeamConfig(beam_width=1, max_tokens=20)
    full = FormulaRecognizer.load(out, beam=beam)
    quantized = FormulaRecognizer.load(tmp_path, beam=beam)
    images = formula_images()
    prepared = full.prepare(images)
    _, k, v = full.encode(prepared)
    past = np.zeros((k.shape[0], k.shape[1], k.shape[2], 0, k.shape[4]), np.float32)
    tokens = np.full((k.shape[1], 1), 1, np.int64)
    logp32 = full.step(tokens, 0, k, v, past, past)[0]
    logp8 = quantized.step(tokens, 0, k, v, past, past)[0]
    assert np.abs(np.exp(logp32) - np.exp(logp8)).max() < 0.05
    assert (tmp_path / "decoder.onnx").stat().st_size < 0.45 * (out / "decoder.onnx").stat().st_size


def test_style_probe_is_used_only_for_its_own_model(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    import json
    import shutil

    _, out = exported
    model = tmp_path / "model"
    shutil.copytree(out, model)
    d_model = 64
    probe = {"model_version": "test", "weights": [0.5] * d_model, "bias": -0.1}
    (model / "style.json").write_text(json.dumps(probe))
    [result] = FormulaRecognizer.load(model).recognize([formula_images()[0]])
    assert result.handwritten is not None and 0.0 < result.handwritten < 1.0
    (model / "style.json").write_text(json.dumps({**probe, "model_version": "another"}))
    [result] = FormulaRecognizer.load(model).recognize([formula_images()[0]])
    assert result.handwritten is None
    (model / "style.json").write_text("{not json")
    assert FormulaRecognizer.load(model).style is None


def test_prepare_is_the_training_preparation(exported: tuple[Path, Path]) -> None:
    _, out = exported
    recognizer = FormulaRecognizer.load(out)
    image = formula_images()[1]
    np.testing.assert_array_equal(recognizer.prepare([image])[0], prepare_image(image, InputSpec()))
