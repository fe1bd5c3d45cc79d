"""The formula recognizer described for another runtime: the web page's in-browser recognition.

The page runs the same ONNX files with onnxruntime-web and re-implements, in JavaScript
(``server/static/local/``), the pre-processing, the grammar-constrained beam search and the
detokenizer. What those need from Python is written here, once, from the loaded recognizer, so the
two cannot drift apart: the vocabulary, special ids, input geometry and beam settings, the
detokenizer's table, and the grammar's view of every vocabulary token (its parser pieces and
the few facts :mod:`scipix.recognition.grammar` asks of each piece: its kind, whether it is a
known command, a delimiter, an argument by itself, its argument specs).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scipix.latex.commands import ARG_SPECS, DELIMITERS, ENVIRONMENTS, INFIX, TEXT_SPECS
from scipix.latex.normalize import _DETOKENIZED
from scipix.latex.tokenizer import token_kind
from scipix.latex.writer import WORD_END
from scipix.recognition.grammar import _LIMITS, _REFUSED, _known, _plain

if TYPE_CHECKING:
    from scipix.recognition.recognizer import FormulaRecognizer

#: The manifest's layout; the page refuses a manifest of another format (it is out of date).
MANIFEST_FORMAT = 1
MODEL_FILES = ("encoder.onnx", "decoder.onnx")

_hashes: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    found = _hashes.get(key)
    if found is None:
        found = hashlib.sha256(path.read_bytes()).hexdigest()
        _hashes[key] = found
    return found


def piece_facts(piece: str) -> dict[str, Any]:
    """What the grammar asks of one parser token (``grammar.feed`` and its helpers)."""
    kind = token_kind(piece)
    facts: dict[str, Any] = {
        "text": piece,
        "kind": kind,
        "ascii": piece.isascii(),
        "alpha2": piece[1:2].isalpha(),
        "known": _known(piece),
        "plain": _plain(piece),
        "delim": piece in DELIMITERS,
        "arg": ARG_SPECS.get(piece),
        "textArg": TEXT_SPECS.get(piece),
        "infix": piece in INFIX,
        "refused": piece in _REFUSED,
        "limits": piece in _LIMITS,
    }
    if kind in ("begin", "end"):
        name = piece[7:-1] if kind == "begin" else piece[5:-1]
        facts["env"] = name
        facts["envSpec"] = ENVIRONMENTS.get(name)
    elif kind in ("left", "right", "middle"):
        facts["sideDelim"] = piece[{"left": 5, "right": 6, "middle": 7}[kind] :] in DELIMITERS
    return facts


def grammar_tables(recognizer: FormulaRecognizer) -> dict[str, Any]:
    """Each vocabulary token as indices into a table of distinct parser pieces (None: never
    allowed), and the pieces' facts."""
    index: dict[str, int] = {}
    tokens: list[list[int] | None] = []
    for pieces in recognizer.grammar.pieces:
        if pieces is None:
            tokens.append(None)
            continue
        tokens.append([index.setdefault(p, len(index)) for p in pieces])
    return {"tokens": tokens, "pieces": [piece_facts(p) for p in index]}


def detokenizer_table(vocab: list[str]) -> list[list[Any]]:
    """Per token: its text in LaTeX, whether it ends a control word, whether it starts with a
    letter (``scipix.latex.normalize.detokenize``)."""
    table = []
    for token in vocab:
        text, word = _DETOKENIZED.get(token, (token, WORD_END.search(token) is not None))
        table.append([text, word, text[:1].isalpha()])
    return table


def describe(recognizer: FormulaRecognizer) -> dict[str, Any]:
    """The manifest's model part: version, files (bytes, SHA-256) and everything the page's
    JavaScript needs to read exactly as :meth:`FormulaRecognizer.recognize` does."""
    files = {}
    for name in MODEL_FILES:
        path = recognizer.model_dir / name
        files[name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    beam = recognizer.beam
    return {
        "version": recognizer.version,
        "metadata_format": recognizer.metadata.get("format"),
        "files": files,
        "vocab": recognizer.vocab,
        "special": recognizer.metadata["special"],
        "input_spec": recognizer.input_spec,
        "beam": {
            "beam_width": beam.beam_width,
            "n_best": beam.n_best,
            "early_stop": bool(getattr(beam, "early_stop", False)),
            "max_tokens": beam.max_tokens,
            "length_penalty": beam.length_penalty,
            "bos": beam.bos,
            "eos": beam.eos,
            "banned": list(beam.banned),
            "constrained": beam.constrained,
        },
        "detokenize": detokenizer_table(recognizer.vocab),
        "grammar": grammar_tables(recognizer),
    }


#: onnxruntime-web's files the page loads: the WASM-only ES module, its Emscripten glue and
#: the SIMD WebAssembly, the only build the page needs. It runs on one thread, as Python reads a
#: formula crop: two threads (which also need the page cross-origin isolated) read 30 im2latex
#: crops at p50 688 ms instead of 393 ms on 2 busy cores (benchmarks/browser.py, load 14-15).
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_INSTALL = (
    "npm ci --prefix tools/ortweb in a scipix checkout (scripts/setup.sh does it), or point "
    "$SCIPIX_ORTWEB_DIR at the dist/ folder of onnxruntime-web 1.31 (npm install onnxruntime-web)"
)


def ortweb_dir() -> Path:
    """Where onnxruntime-web's ``dist`` files are: ``$SCIPIX_ORTWEB_DIR`` or the repository's
    ``tools/ortweb/node_modules/onnxruntime-web/dist`` (installed by ``scripts/setup.sh``)."""
    override = os.environ.get("SCIPIX_ORTWEB_DIR")
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[3]
    return repo / "tools" / "ortweb" / "node_modules" / "onnxruntime-web" / "dist"


def ortweb_missing() -> list[str]:
    """The onnxruntime-web files that are not installed (empty: in-browser recognition works)."""
    folder = ortweb_dir()
    return [name for name in ORT_FILES if not (folder / name).is_file()]
