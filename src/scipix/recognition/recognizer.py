"""``FormulaRecognizer``: a formula image in, LaTeX with confidence out (ONNX Runtime, numpy).

The model describes itself: the vocabulary, special token ids, input geometry and version are
read from the ONNX metadata. Each image gets a :class:`Reading` (``reading.py``): its n-best
hypotheses, of which it stands for the best one that passes the LaTeX validator, else the best
one (flagged ``valid=False``). Images are batched only with others of the same padded shape, so
an image reads the same in a batch as alone. Thread-safe: the ONNX Runtime sessions
(``session.py``: a one-thread encoder for a formula crop and a decoder for one image at the
default beam, opened at load; the general encoder and decoder on first use) are shared, no
per-call mutation.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scipix.errors import LatexError, ModelError
from scipix.latex import check, detokenize
from scipix.recognition.beam import BeamConfig, RawHypothesis, StepFn, beam_search
from scipix.recognition.grammar import TokenGrammar
from scipix.recognition.memo import Encoded, EncoderMemo, digest
from scipix.recognition.preprocess import (
    FloatImage,
    GrayImage,
    InputSpec,
    batch_images,
    prepare_image,
    round_up,
)
from scipix.recognition.reading import Hypothesis, Reading
from scipix.recognition.session import SessionConfig, open_session, takes_one_cross_row
from scipix.schema import BATCH_SIZE
from scipix.timing import stage

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
METADATA_KEY = "scipix"
#: printed/handwritten probe on the image embedding (``scipix train style``); optional
STYLE_FILE = "style.json"


def packaged_model_dir() -> Path:
    return Path(str(resources.files("scipix") / "weights"))


def same_shape_chunks(
    prepared: Sequence[FloatImage], spec: InputSpec, batch_size: int
) -> list[list[int]]:
    """Indices of ``prepared`` in chunks of at most ``batch_size`` whose padded shape (height
    and width rounded up to ``spec.pad_height`` / ``pad_width``) is the same, narrowest first:
    each image is then padded as it is alone, so it reads in a batch as it reads by itself (a
    wider neighbour's padding changes the encoder's output: E=mc^{2} at 120 dpi read
    E=m\\alpha^{2} padded to the width of 7 other renders)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, image in enumerate(prepared):
        h, w = image.shape
        groups.setdefault((round_up(w, spec.pad_width), round_up(h, spec.pad_height)), []).append(i)
    return [
        members[start : start + batch_size]
        for _, members in sorted(groups.items())
        for start in range(0, len(members), batch_size)
    ]


class FormulaRecognizer:
    """Encoder + decoder ONNX sessions and the metadata that describes them."""

    def __init__(
        self,
        model_dir: Path,
        threads: int = 0,
        beam: BeamConfig | None = None,
        sessions: SessionConfig | None = None,
    ) -> None:
        """``threads``: the encoder's intra-op threads (``sessions`` sets them all instead)."""
        encoder, decoder = model_dir / ENCODER_FILE, model_dir / DECODER_FILE
        if not encoder.is_file() or not decoder.is_file():
            raise ModelError(
                f"no formula model in {model_dir} (needs {ENCODER_FILE} and {DECODER_FILE}); "
                "reinstall scipix or point ocr.model_dir at an exported model"
            )
        config = sessions if sessions is not None else SessionConfig(threads)
        self.sessions = config
        self.paths = {"encoder": encoder, "decoder": decoder}
        self._general: dict[str, InferenceSession] = {}  # opened on first use (cold start)
        self._lock = threading.Lock()
        self.small_encoder = open_session(encoder, config.with_threads(1))
        if config.threads == 1:
            self._general["encoder"] = self.small_encoder
        raw = self.small_encoder.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if raw is None:
            raise ModelError(f"{encoder} has no '{METADATA_KEY}' metadata: not a scipix model")
        self.metadata: dict[str, Any] = json.loads(raw)
        self.vocab: list[str] = list(self.metadata["vocab"])
        special = self.metadata["special"]
        self.spec = InputSpec.from_dict(self.metadata["input_spec"])
        base = beam or BeamConfig()
        self.beam = replace(
            base,
            max_tokens=min(base.max_tokens, int(self.metadata["model_config"]["max_len"]) - 1),
            bos=int(special["bos"]),
            eos=int(special["eos"]),
        )
        rows = max(self.beam.beam_width, self.beam.n_best)  # one image at the default beam
        fixed = replace(config.for_decoder(), fixed=(("n", rows),), cross_rows=True)
        self.decoders = {rows: open_session(decoder, fixed)}
        #: the fixed decoder takes the encoder's one row of cross keys/values (graph.py)
        self.one_cross_row = takes_one_cross_row(self.decoders[rows])
        self.grammar = TokenGrammar(self.vocab, self.beam.eos, [int(i) for i in special.values()])
        self.model_dir = model_dir
        self.memo = EncoderMemo()  # the result cache's pass and the pipeline's share one crop
        self.style = self.load_style(model_dir / STYLE_FILE)

    @property
    def encoder(self) -> InferenceSession:
        """The encoder for batches and pages (``threads``), opened on first use."""
        return self._session("encoder", self.sessions)

    @property
    def decoder(self) -> InferenceSession:
        """The decoder for any row count, opened on first use."""
        return self._session("decoder", self.sessions.for_decoder())

    def _session(self, name: str, config: SessionConfig) -> InferenceSession:
        found = self._general.get(name)
        if found is None:
            with self._lock:
                found = self._general.get(name)
                if found is None:
                    found = self._general[name] = open_session(self.paths[name], config)
        return found

    def load_style(self, path: Path) -> tuple[npt.NDArray[np.float32], float] | None:
        """The printed/handwritten probe, if one was fitted for this very model version."""
        if not path.is_file():
            return None
        try:
            probe = json.loads(path.read_text(encoding="utf-8"))
            weights = np.asarray(probe["weights"], dtype=np.float32)
            bias = float(probe["bias"])
            same_model = probe.get("model_version") == self.version
        except (OSError, ValueError, KeyError, TypeError):
            return None
        d_model = int(self.metadata["model_config"]["d_model"])
        return (weights, bias) if same_model and weights.shape == (d_model,) else None

    def handwritten(self, embedding: npt.NDArray[np.float32]) -> list[float | None]:
        """Per embedding row, the probe's probability of handwriting (None without a probe)."""
        if self.style is None:
            return [None] * len(embedding)
        weights, bias = self.style
        z = np.clip(embedding.astype(np.float64) @ weights + bias, -30.0, 30.0)
        return [float(p) for p in 1.0 / (1.0 + np.exp(-z))]

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        threads: int = 0,
        beam: BeamConfig | None = None,
        sessions: SessionConfig | None = None,
    ) -> FormulaRecognizer:
        path = Path(model_dir) if model_dir else packaged_model_dir()
        return cls(path, threads, beam, sessions)

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unknown"))

    @property
    def input_spec(self) -> dict[str, float | int]:
        return self.spec.to_dict()

    def prepare(self, images: Sequence[GrayImage]) -> list[FloatImage]:
        """Crop, scale and margin each image; raises ImageNoContentError for a blank one."""
        return [prepare_image(np.asarray(im, dtype=np.uint8), self.spec) for im in images]

    def encode(self, prepared: Sequence[FloatImage], keep: bool = False) -> Encoded:
        """(embedding, cross_k, cross_v) of a batch; ``keep``: let the next pass over the same
        single image take this one's output (``memo.py``)."""
        key = digest(prepared[0]) if len(prepared) == 1 else None
        found = None
        if key is not None:  # an embedding pass reuses a kept output: one more reading to serve
            found = self.memo.get(key) if keep else self.memo.take(key)
        if found is not None:
            if keep and key is not None:
                self.memo.put(key, found)
            return found
        batch = batch_images(prepared, self.spec)
        small = batch.size <= self.sessions.small_input
        session = self.small_encoder if small else self.encoder
        embedding, cross_k, cross_v = session.run(None, {"image": batch})
        if keep and key is not None:
            self.memo.put(key, (embedding, cross_k, cross_v))
        return embedding, cross_k, cross_v

    def step(
        self,
        tokens: npt.NDArray[np.int64],
        position: int,
        cross_k: npt.NDArray[np.float32],
        cross_v: npt.NDArray[np.float32],
        past_k: npt.NDArray[np.float32],
        past_v: npt.NDArray[np.float32],
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        feeds = {
            "tokens": tokens,
            "position": np.array(position, dtype=np.int64),
            "cross_k": cross_k,
            "cross_v": cross_v,
            "past_k": past_k,
            "past_v": past_v,
        }
        session = self.decoders.get(len(tokens))
        if session is None:  # not as .get's default: that opened the general one at once
            session = self.decoder
        logp, new_k, new_v = session.run(None, feeds)
        return logp, new_k, new_v

    def one_image_step(
        self, cross_k: npt.NDArray[np.float32], cross_v: npt.NDArray[np.float32]
    ) -> StepFn:
        """The decoder step of one image on the fixed-row decoder, fed the encoder's one row of
        ``cross_k``/``cross_v`` (not the beam's copies) when that decoder takes it."""
        if not self.one_cross_row:
            return self.step

        def step(
            tokens: npt.NDArray[np.int64],
            position: int,
            _k: npt.NDArray[np.float32],
            _v: npt.NDArray[np.float32],
            past_k: npt.NDArray[np.float32],
            past_v: npt.NDArray[np.float32],
        ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
            return self.step(tokens, position, cross_k, cross_v, past_k, past_v)

        return step

    def hypothesis(self, raw: RawHypothesis) -> Hypothesis:
        tokens = tuple(self.vocab[i] for i in raw.ids if 3 < i < len(self.vocab))
        latex = detokenize(tokens)
        try:
            check(latex)
            valid = True
        except LatexError:
            valid = False
        probs = tuple(float(np.exp(lp)) for lp in raw.logps)
        return Hypothesis(latex, tokens, raw.score, probs, valid)

    def decide(self, raws: list[RawHypothesis], handwritten: float | None = None) -> Reading:
        """The reading of one image: its hypotheses, the first valid one chosen (else the first)."""
        hyps = tuple(self.hypothesis(r) for r in raws)
        chosen = next((i for i, h in enumerate(hyps) if h.valid), 0)
        return Reading(hyps, chosen, handwritten)

    def recognize(
        self,
        images: Sequence[GrayImage],
        beam_width: int | None = None,
        n_best: int = 1,
        batch_size: int = BATCH_SIZE,
    ) -> list[Reading]:
        """Recognize each image (one formula each). Raises ImageNoContentError for blanks."""
        beam = self.beam
        width = beam_width or beam.beam_width
        cfg = replace(beam, beam_width=width, n_best=max(n_best, 1))
        with stage("recognize.prepare"):
            prepared = self.prepare(images)
        results: dict[int, Reading] = {}
        for chunk in same_shape_chunks(prepared, self.spec, batch_size):
            with stage("recognize.encoder"):
                embedding, cross_k, cross_v = self.encode([prepared[i] for i in chunk])
            with stage("recognize.beam"):
                found = self.search(cross_k, cross_v, cfg)
            with stage("recognize.decide"):
                styles = self.handwritten(embedding)
                for i, raws, style in zip(chunk, found, styles, strict=True):
                    results[i] = self.decide(raws, style)
        return [results[i] for i in range(len(prepared))]

    def search(
        self, cross_k: npt.NDArray[np.float32], cross_v: npt.NDArray[np.float32], cfg: BeamConfig
    ) -> list[list[RawHypothesis]]:
        """The beam search of a chunk's images: one image at a time when a decoder with fixed
        rows is open for its beam (its kernels round int8 activations a little differently from
        the general decoder's, and an image decoded alone runs on it; one step is also ~23 %
        cheaper there), else the chunk together."""
        if max(cfg.beam_width, cfg.n_best) not in self.decoders:
            return beam_search(self.step, cross_k, cross_v, cfg, self.grammar)
        one = [(cross_k[:, j : j + 1], cross_v[:, j : j + 1]) for j in range(cross_k.shape[1])]
        return [beam_search(self.one_image_step(k, v), k, v, cfg, self.grammar)[0] for k, v in one]

    def embed(self, images: Sequence[GrayImage]) -> npt.NDArray[np.float32]:
        """(n, d) L2-normalized image embeddings (the encoder's pooled memory)."""
        if not images:
            return np.zeros((0, int(self.metadata["model_config"]["d_model"])), np.float32)
        prepared = self.prepare(images)
        return np.concatenate([self.encode([p], keep=True)[0] for p in prepared]).astype(np.float32)
