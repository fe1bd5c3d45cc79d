"""What makes recognition faster keeps its answers: the early beam stop, the encoder's shared
pass (memo.py), the cached optimized graphs (session.py) and the decoder fed one row of cross
keys/values (graph.py), on the shipped model and images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from scipix.bench import packaged_images
from scipix.recognition import BeamConfig, FormulaRecognizer, SessionConfig
from scipix.recognition.graph import cross_rows_apart
from scipix.recognition.session import cached_graph, open_session


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in packaged_images()[6:9]]


@pytest.fixture(scope="module")
def recognizer() -> FormulaRecognizer:
    return FormulaRecognizer.load()


def test_early_stop_reads_as_the_exact_stop(
    recognizer: FormulaRecognizer, images: list[np.ndarray]
) -> None:
    exact = FormulaRecognizer.load(beam=BeamConfig(early_stop=False))
    for image in images:
        [fast], [slow] = recognizer.recognize([image]), exact.recognize([image])
        assert fast.latex == slow.latex
        assert fast.hypotheses[0].score == pytest.approx(slow.hypotheses[0].score, abs=1e-6)


def test_an_embedding_pass_serves_the_next_reading_once(
    recognizer: FormulaRecognizer, images: list[np.ndarray]
) -> None:
    image = images[0]
    [plain] = recognizer.recognize([image])
    assert not recognizer.memo._items
    recognizer.embed([image])
    assert len(recognizer.memo._items) == 1
    [shared] = recognizer.recognize([image])
    assert not recognizer.memo._items  # taken: a repeated call reads again
    assert shared.latex == plain.latex
    assert shared.hypotheses[0].score == pytest.approx(plain.hypotheses[0].score, abs=1e-6)


def test_one_input_embedded_by_two_calls_serves_both_readings(
    recognizer: FormulaRecognizer, images: list[np.ndarray]
) -> None:
    """Two calls with the same picture at once (two connections): both embedding passes are
    kept as one output, and each reading takes it (before: the second reading encoded again)."""
    image = images[1]
    recognizer.embed([image])
    recognizer.embed([image])
    assert len(recognizer.memo._items) == 1
    key = next(iter(recognizer.memo._items))
    assert recognizer.memo.take(key) is not None
    assert recognizer.memo.take(key) is not None
    assert recognizer.memo.take(key) is None and not recognizer.memo._items


def test_optimized_graphs_are_cached_and_read_the_same(
    tmp_path: Path, recognizer: FormulaRecognizer, images: list[np.ndarray]
) -> None:
    config = SessionConfig(threads=1, cache_dir=tmp_path)
    first = FormulaRecognizer.load(sessions=config)
    encoder, decoder = recognizer.model_dir / "encoder.onnx", recognizer.model_dir / "decoder.onnx"
    fixed = cached_graph(decoder, tmp_path, (("n", 3),), cross_rows=True)
    at_load = [cached_graph(encoder, tmp_path), fixed]
    assert sorted(tmp_path.iterdir()) == sorted(at_load)  # the general decoder: on first use
    assert first.decoder is first.decoder
    assert cached_graph(decoder, tmp_path).is_file()
    again = FormulaRecognizer.load(sessions=config)  # from the cached graphs
    assert again.version == recognizer.version
    for model in (first, again):
        assert [r.latex for r in model.recognize(images)] == [
            r.latex for r in recognizer.recognize(images)
        ]
    assert again.one_cross_row  # the cached graph kept its cross rows apart
    damaged = cached_graph(encoder, tmp_path)
    damaged.write_bytes(b"damaged")
    assert FormulaRecognizer.load(sessions=config).version == recognizer.version
    assert damaged.stat().st_size > 1000  # written again


def test_the_decoder_fed_one_row_of_cross_keys_gives_the_same_bits(
    recognizer: FormulaRecognizer, images: list[np.ndarray]
) -> None:
    """graph.py names the rows of the decoder's cross_k/cross_v apart (two bytes of the file,
    "n" -> "c", as the page does): fed the encoder's one row, the fixed decoder gives the
    outputs of the file as shipped fed the beam's copies, bit for bit, step after step."""
    path = recognizer.model_dir / "decoder.onnx"
    data = path.read_bytes()
    apart = cross_rows_apart(data)
    assert apart is not None and len(apart) == len(data)
    changed = np.flatnonzero(np.frombuffer(apart, np.uint8) != np.frombuffer(data, np.uint8))
    assert len(changed) == 2 and {data[i] for i in changed} == {ord("n")}
    assert {apart[i] for i in changed} == {ord("c")}
    assert cross_rows_apart((recognizer.model_dir / "encoder.onnx").read_bytes()) is None
    assert cross_rows_apart(b"not a model") is None
    assert recognizer.one_cross_row
    shipped = open_session(path, SessionConfig(threads=1, fixed=(("n", 3),)))
    _, cross_k, cross_v = recognizer.encode(recognizer.prepare(images[:1]))
    layers, _, heads, _, dh = cross_k.shape
    past = np.zeros((layers, 3, heads, 0, dh), np.float32)
    ours, theirs = (past, past), (past, past)
    step = recognizer.one_image_step(cross_k, cross_v)
    copies = {"cross_k": np.repeat(cross_k, 3, 1), "cross_v": np.repeat(cross_v, 3, 1)}
    for t, token in enumerate([recognizer.beam.bos, 5, 9, 17]):
        tokens = np.array([[token], [token + 1], [token + 2]], dtype=np.int64)
        feeds = {"tokens": tokens, "position": np.array(t, np.int64), **copies}
        want = shipped.run(None, {**feeds, "past_k": theirs[0], "past_v": theirs[1]})
        got = step(tokens, t, copies["cross_k"], copies["cross_v"], *ours)
        assert all(np.array_equal(w, g) for w, g in zip(want, got, strict=True))
        theirs, ours = (want[1], want[2]), (got[1], got[2])


def test_the_fixed_row_decoder_reads_as_the_general_one(
    recognizer: FormulaRecognizer, images: list[np.ndarray]
) -> None:
    general = FormulaRecognizer.load()
    general.decoders.clear()
    assert list(recognizer.decoders) == [3]  # one image at the default beam
    for image in images:
        [fixed], [plain] = recognizer.recognize([image]), general.recognize([image])
        assert fixed.hypotheses[0].tokens == plain.hypotheses[0].tokens
        # the folded graph may round an int8 activation the other way: scores within 5e-3
        assert fixed.hypotheses[0].score == pytest.approx(plain.hypotheses[0].score, abs=5e-3)
    # other row counts (two images, or another beam) take the general session
    both = recognizer.recognize(images[:2], beam_width=2)
    assert [r.latex for r in both] == [r.latex for r in general.recognize(images[:2], beam_width=2)]
