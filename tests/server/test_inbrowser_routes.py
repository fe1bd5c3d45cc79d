"""What the page's in-browser recognition fetches (``/web/local/...``), and the JavaScript
grammar (``static/local-grammar.js``, run by Node) against Python's on random token walks."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from scipix.recognition.grammar import START
from scipix.recognition.portable import ORT_FILES, grammar_tables, ortweb_missing
from scipix.server.routes.web import static_dir
from scipix.server.state import RecognitionService

from .conftest import build_app


@pytest.fixture(scope="module")
def local_client(tmp_path_factory: pytest.TempPathFactory, recognizer: RecognitionService) -> Any:
    with TestClient(build_app(tmp_path_factory.mktemp("routes") / "data", recognizer)) as client:
        yield client


def test_the_manifest_describes_the_served_model(
    local_client: TestClient, needs_model: RecognitionService
) -> None:
    formula = needs_model.formula_recognizer()  # type: ignore[attr-defined]
    body = local_client.get("/web/local/manifest").json()
    model = body["model"]
    assert body["format"] == 1 and model["version"] == formula.version
    assert model["vocab"] == formula.vocab and model["input_spec"] == formula.input_spec
    assert model["beam"]["beam_width"] == formula.beam.beam_width
    assert body["ort"]["missing"] == ortweb_missing()
    assert body["limits"]["max_pixels"] == 40_000_000
    for name, described in model["files"].items():
        answer = local_client.get(model["base"] + name, headers={"Accept-Encoding": "gzip"})
        data = (formula.model_dir / name).read_bytes()
        assert answer.headers["content-encoding"] == "gzip" and answer.content == data
        assert described == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        again = local_client.get(
            model["base"] + name, headers={"If-None-Match": answer.headers["etag"]}
        )
        assert again.status_code == 304
    assert local_client.get(model["base"] + "formula.state.pt").status_code == 404


def test_onnxruntime_web_is_served_from_here_with_wasm_allowed(local_client: TestClient) -> None:
    page = local_client.get("/")
    assert "'wasm-unsafe-eval'" in page.headers["content-security-policy"]
    assert local_client.get("/web/local/ort/../../setup.sh").status_code == 404
    answer = local_client.get("/web/local/ort/not-ort.js")
    assert answer.status_code == 404 and "npm ci --prefix tools/ortweb" in answer.json()["error"]
    if ortweb_missing():
        pytest.skip("onnxruntime-web is not installed (npm ci --prefix tools/ortweb)")
    types = {".mjs": "text/javascript", ".wasm": "application/wasm"}
    for name in ORT_FILES:
        answer = local_client.get(f"/web/local/ort/{name}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(types[Path(name).suffix])


NODE_CHECK = """
import { TokenGrammar, START } from "%s";
import fs from "fs";
const { tables, size, eos, walks } = JSON.parse(fs.readFileSync(process.argv[2]));
const grammar = new TokenGrammar(tables, size, eos);
const out = walks.map(({ ids, rooms }) => {
  let state = START;
  return ids.map((id, i) => {
    const mask = grammar.mask(state, rooms[i]);
    state = grammar.advance(state, id);
    return Array.from(mask.keys()).filter((k) => mask[k]);
  });
});
console.log(JSON.stringify(out));
"""


def test_the_javascript_grammar_allows_what_python_allows(
    needs_model: RecognitionService, tmp_path: Path
) -> None:
    """Random walks over the allowed tokens (short and long length budgets): the mask at
    every step is the same set in Python and in JavaScript."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (scripts/setup.sh installs it)")
    formula = needs_model.formula_recognizer()  # type: ignore[attr-defined]
    grammar = formula.grammar
    rng = random.Random(19)
    walks, expected = [], []
    for _ in range(40):
        state, ids, rooms, masks = START, [], [], []
        budget = rng.choice([12, 30, 160])
        for t in range(budget):
            room = budget - t - 2
            mask = grammar.mask(state, room)
            allowed = [int(i) for i in np.flatnonzero(mask)]
            masks.append(allowed)
            choices = [i for i in allowed if i != formula.beam.eos] or allowed
            token = rng.choice(choices)
            ids.append(token)
            rooms.append(room)
            if token == formula.beam.eos:
                break
            state = grammar.advance(state, token)
        walks.append({"ids": ids, "rooms": rooms})
        expected.append(masks)
    data = {"tables": grammar_tables(formula), "size": len(formula.vocab), "eos": formula.beam.eos}
    (tmp_path / "walks.json").write_text(json.dumps({**data, "walks": walks}))
    script = tmp_path / "check.mjs"
    script.write_text(NODE_CHECK % (static_dir() / "local-grammar.js").as_uri())
    run = subprocess.run(
        [node, str(script), str(tmp_path / "walks.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected


PREPARE_CHECK = """
import { prepareImage } from "%s";
import fs from "fs";
const { spec, images } = JSON.parse(fs.readFileSync(process.argv[2]));
const out = images.map(({ gray, width, height }) => {
  const made = prepareImage(Uint8Array.from(Buffer.from(gray, "base64")), width, height, spec);
  const data = Array.from(made.data, (v) => Math.round(v * 255));
  return { width: made.width, height: made.height, data };
});
console.log(JSON.stringify(out));
"""


def drawn(text: str, scale: float, thickness: int, invert: bool) -> np.ndarray:
    """Text drawn by OpenCV at a given size (glyphs from ~5 to ~40 px: read as they are,
    shrunk with INTER_AREA or enlarged with INTER_CUBIC by the pre-processing)."""
    import cv2

    size, _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    image = np.full((size[1] * 2 + 10, size[0] + 20), 255, dtype=np.uint8)
    cv2.putText(image, text, (10, size[1] + 5), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, thickness)
    return 255 - image if invert else image


def test_the_javascript_preprocessing_gives_pythons_input(
    needs_model: RecognitionService, tmp_path: Path
) -> None:
    """prepare_image in JavaScript (polarity, ink box, glyph height, OpenCV's resize, margin):
    the same pixels as Python's when shrinking or keeping the size; enlarging (INTER_CUBIC, which
    OpenCV runs through Intel IPP here) within 1/255 on at most 1 % of the pixels."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (scripts/setup.sh installs it)")
    formula = needs_model.formula_recognizer()  # type: ignore[attr-defined]
    cases = [(0.25, 1, False), (0.4, 1, True), (0.5, 1, False), (1.0, 2, False), (1.6, 3, True)]
    grays = [drawn("x+y=2ab", s, t, inv) for s, t, inv in cases]
    images = [
        {"gray": base64.b64encode(g.tobytes()).decode(), "width": g.shape[1], "height": g.shape[0]}
        for g in grays
    ]
    (tmp_path / "images.json").write_text(
        json.dumps({"spec": formula.input_spec, "images": images})
    )
    script = tmp_path / "prepare.mjs"
    script.write_text(PREPARE_CHECK % (static_dir() / "local-prepare.js").as_uri())
    run = subprocess.run(
        [node, str(script), str(tmp_path / "images.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    enlarged = 0
    for gray, made in zip(grays, json.loads(run.stdout), strict=True):
        python = np.rint(formula.prepare([gray])[0] * 255).astype(int)
        assert (made["height"], made["width"]) == python.shape
        got = np.asarray(made["data"]).reshape(python.shape)
        differ = int((got != python).sum())
        factor = python.shape[1] / gray.shape[1]  # > 1 when the crop was enlarged
        if factor > 1.0:
            enlarged += 1
            assert np.abs(got - python).max() <= 1 and differ <= 0.01 * got.size
        else:
            assert differ == 0
    assert 0 < enlarged < len(grays)  # both resize paths were exercised


ONNX_CHECK = """
import { crossRowsApart, onnxMetadata } from "%s";
import fs from "fs";
const [decoder, encoder, out] = process.argv.slice(2);
fs.writeFileSync(out, crossRowsApart(new Uint8Array(fs.readFileSync(decoder))));
let refused = null;
try {
  crossRowsApart(new Uint8Array(fs.readFileSync(encoder)));
} catch (err) {
  refused = `${err.id}: ${err.message}`;
}
const meta = JSON.parse(onnxMetadata(new Uint8Array(fs.readFileSync(encoder))).scipix);
console.log(JSON.stringify({ version: meta.version, refused }));
"""


def test_the_page_feeds_the_decoder_one_row_of_cross_keys(
    needs_model: RecognitionService, tmp_path: Path
) -> None:
    """static/local-onnx.js renames the row dimension of the decoder's cross_k/cross_v inputs
    (two bytes, "n" -> "c"): the page feeds the encoder's one row and the graph broadcasts it.
    Run here by ONNX Runtime as Python runs the shipped file (rows fixed to the beam's 3), the
    changed graph gives the same log-probabilities and caches, bit for bit, over a few steps."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (scripts/setup.sh installs it)")
    from scipix.recognition.session import SessionConfig, open_session

    formula = needs_model.formula_recognizer()  # type: ignore[attr-defined]
    script = tmp_path / "onnx.mjs"
    script.write_text(ONNX_CHECK % (static_dir() / "local-onnx.js").as_uri())
    paths = [formula.model_dir / "decoder.onnx", formula.model_dir / "encoder.onnx"]
    out = tmp_path / "decoder.onnx"
    run = subprocess.run(
        [node, str(script), *map(str, paths), str(out)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    said = json.loads(run.stdout)
    assert said["version"] == formula.version
    assert said["refused"].startswith("model_mismatch: the server's decoder.onnx does not have")
    before = np.frombuffer(paths[0].read_bytes(), np.uint8)
    after = np.frombuffer(out.read_bytes(), np.uint8)
    changed = np.flatnonzero(before != after)
    assert len(before) == len(after) and len(changed) == 2
    assert set(before[changed]) == {ord("n")} and set(after[changed]) == {ord("c")}
    rows = max(formula.beam.beam_width, formula.beam.n_best)
    page = open_session(out, SessionConfig(threads=1, fixed=(("n", rows),)))
    _, cross_k, cross_v = formula.encode(formula.prepare([drawn("x+y=2ab", 1.0, 2, False)]))
    past = np.zeros(
        (*cross_k.shape[:1], rows, *cross_k.shape[2:3], 0, cross_k.shape[4]), np.float32
    )
    python = (past, past)
    browser = (past, past)
    for t, token in enumerate([formula.beam.bos, 5, 9, 17]):
        tokens = np.array([[token], [token + 1], [token + 2]], dtype=np.int64)[:rows]
        expected = formula.step(
            tokens, t, np.repeat(cross_k, rows, 1), np.repeat(cross_v, rows, 1), *python
        )
        feeds = {"tokens": tokens, "position": np.array(t, np.int64), "cross_k": cross_k}
        got = page.run(
            None, {**feeds, "cross_v": cross_v, "past_k": browser[0], "past_v": browser[1]}
        )
        for want, have in zip(expected, got, strict=True):
            assert want.shape == have.shape and np.array_equal(want, have)
        python, browser = (expected[1], expected[2]), (got[1], got[2])


def test_the_model_is_not_handed_out_when_switched_off(
    tmp_path: Path, recognizer: RecognitionService
) -> None:
    app = build_app(tmp_path / "data", recognizer, browser_model=False)
    with TestClient(app) as client:
        for path in ("/web/local/manifest", "/web/local/model/encoder.onnx"):
            answer = client.get(path)
            assert answer.status_code == 404 and "server.browser_model" in answer.json()["error"]
