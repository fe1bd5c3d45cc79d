"""The training recipe: which data, which vocabulary, and the resumable run around the loop.

Data (all from ``data_root/train``; ``bench/`` is never read here):
- ``im2latex_val``, ``crohme``, ``hand``: real image + label pairs (each with its own
  deterministic validation split);
- ``rendered``: the data engine's cache of corpus and generated formulas rendered by TeX and
  mathtext in many fonts and sizes.
The vocabulary is built once from every training label (corpora and pairs) and then frozen in the
checkpoint; a resumed run keeps it.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from scipix.errors import ConfigError, LatexError
from scipix.latex import NormalizeOptions, detokenize, model_tokens
from scipix.recognition.preprocess import GrayImage, InputSpec
from scipix.training.augment import augment
from scipix.training.cache import DEFAULT_RENDERERS, DatasetCache
from scipix.training.config import TrainConfig
from scipix.training.dataset import Mixture, MixtureStream, Sample
from scipix.training.export import STATE_FILE
from scipix.training.generator import FormulaGenerator
from scipix.training.trainer import (
    TrainState,
    evaluate,
    jsonl_logger,
    load_state,
    new_state,
    save_state,
    train_steps,
)

#: Labels as the recognizer learns them: one spelling, no layout-only noise.
LABEL_OPTIONS = NormalizeOptions.for_labels(drop_text_spaces=True)
PAIRED_SETS = ("im2latex_val", "crohme", "hand")
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
VAL_PERCENT = 5


def label_tokens(latex: str) -> tuple[str, ...] | None:
    try:
        return tuple(model_tokens(latex, LABEL_OPTIONS))
    except LatexError:
        return None


def in_val(key: str) -> bool:
    """The deterministic validation split: about VAL_PERCENT % of keys, by a stable hash."""
    return zlib.crc32(key.encode("utf-8")) % 100 < VAL_PERCENT


Pairs = list[tuple[Path, tuple[str, ...]]]


def load_pairs(folder: Path, max_tokens: int) -> tuple[Pairs, Pairs]:
    """(train, val) (image, tokens) pairs of a labels.tsv + images/ set; bad labels skipped."""
    train: Pairs = []
    val: Pairs = []
    for line in (folder / "labels.tsv").read_text(encoding="utf-8").splitlines():
        name, _, latex = line.partition("\t")
        toks = label_tokens(latex)
        if not toks or len(toks) > max_tokens:
            continue
        (val if in_val(name) else train).append((folder / "images" / name, toks))
    return train, val


def read_gray(path: Path) -> GrayImage:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"cannot read {path}")
    return np.asarray(image, dtype=np.uint8)


@dataclass
class Data:
    mixture: Mixture
    val: list[Sample]
    tokens: list[str]
    summary: dict[str, Any]


def encoder_for(tokens: Sequence[str]) -> Callable[[Sequence[str]], tuple[int, ...]]:
    index = {t: i for i, t in enumerate(tokens)}
    unk = index["<unk>"]
    return lambda seq: tuple(index.get(t, unk) for t in seq)


def paired(cfg: TrainConfig, name: str) -> tuple[Pairs, Pairs]:
    return load_pairs(cfg.data_root / "train" / name, cfg.max_tokens)


def rendered(cache: DatasetCache, max_tokens: int) -> list[tuple[int, tuple[str, ...]]]:
    found = []
    for i in range(len(cache)):
        toks = label_tokens(cache.label(i))
        if toks and len(toks) <= max_tokens:
            found.append((i, toks))
    return found


def fixed_vocabulary(cfg: TrainConfig) -> list[str]:
    """Every training label's tokens (corpora and pairs), with the frequency cut-off."""
    counts: Counter[str] = Counter()
    for path in sorted((cfg.data_root / "train").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            counts.update(label_tokens(line) or ())
    for name in PAIRED_SETS:
        train, _ = paired(cfg, name)
        for _, toks in train:
            counts.update(toks)
    kept = sorted(t for t, c in counts.items() if c >= cfg.min_count and t not in SPECIALS)
    return [*SPECIALS, *kept]


def build_data(cfg: TrainConfig, tokens: list[str] | None) -> Data:
    tokens = tokens or fixed_vocabulary(cfg)
    encode = encoder_for(tokens)
    unk = tokens.index("<unk>")
    sources: list[tuple[str, float, Sequence[Sample]]] = []
    val: list[Sample] = []
    summary: dict[str, Any] = {}
    weights = {s.name: s.weight for s in cfg.sources}
    for name in PAIRED_SETS:
        train_pairs, val_pairs = paired(cfg, name)
        samples = [
            Sample(partial(read_gray, p), ids, clean=name == "im2latex_val")
            for p, t in train_pairs
            if unk not in (ids := encode(t))
        ]
        sources.append((name, weights.get(name, 0.0), samples))
        summary[name] = {"train": len(train_pairs), "val": len(val_pairs)}
        if name == "im2latex_val":
            val = [Sample(partial(read_gray, p), encode(t)) for p, t in val_pairs]
            val = val[: cfg.val_size]
    cache = DatasetCache(cfg.cache_dir)
    entries = rendered(cache, cfg.max_tokens)
    samples = [
        Sample(partial(cache.image, i), ids) for i, t in entries if unk not in (ids := encode(t))
    ]
    sources.append(("rendered", weights.get("rendered", 0.0), samples))
    summary["rendered"] = {"train": len(entries), "cache": str(cache.root)}
    return Data(Mixture(tuple(sources)), val, tokens, summary)


def initial_state(
    cfg: TrainConfig, shipped: Path | None, log: Callable[[dict[str, Any]], None]
) -> TrainState | None:
    """Resume from ``run_dir/last.pt``, else from the shipped fp16 state, else None."""
    last = cfg.run_dir / "last.pt"
    if last.exists():
        state = load_state(last, cfg)
        log({"event": "resume", "from": str(last), "step": state.step})
        return state
    if shipped is not None and (shipped / STATE_FILE).exists():
        state = load_state(shipped / STATE_FILE, cfg)
        log({"event": "resume", "from": str(shipped / STATE_FILE), "step": state.step})
        return state
    return None


def run_training(
    cfg: TrainConfig,
    hours: float,
    shipped: Path | None = None,
    device: str = "cpu",
    echo: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Train for ``hours`` (resuming), then return greedy validation scores of the EMA model."""
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {device!r}; use cpu or cuda")
    torch.set_num_threads(cfg.threads)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    log = jsonl_logger(cfg.run_dir / "log.jsonl", echo)
    state = initial_state(cfg, shipped, log)
    data = build_data(cfg, state.tokens if state else None)
    if state is None:
        state = new_state(cfg, data.tokens)
        log({"event": "start", "params": state.model.parameter_count(), "vocab": len(data.tokens)})
    log({"event": "data", **data.summary})
    spec = InputSpec()
    stream = MixtureStream(
        data.mixture,
        spec,
        cfg.batch_size,
        cfg.seed + state.step,
        augment,
        cfg.augment_max,
        cfg.clean_share,
        cfg.scale_jitter,
    )
    counts = Counter(name for name, w, s in data.mixture.sources if w > 0 and len(s))
    log({"event": "sources", "active": sorted(counts)})
    train_steps(state, cfg, stream, data.val, spec, time.time() + hours * 3600, log, device)
    scores = evaluate(state.ema, data.val, spec, state.tokens, cfg.max_tokens + 2, device=device)
    log({"event": "end", "step": state.step, "val": scores})
    save_state(state, cfg.run_dir / "last.pt", cfg, spec)
    return scores


@dataclass(frozen=True)
class RenderFormula:
    latex: str
    source: str


def render_formulas(cfg: TrainConfig, per_corpus: int, generated: int) -> list[RenderFormula]:
    """Formulas to render: up to ``per_corpus`` of each corpus (in label form) plus generated
    ones, never one whose tokens equal a validation label of a paired set."""
    held_out = {" ".join(t) for name in PAIRED_SETS for _, t in paired(cfg, name)[1]}
    found: list[RenderFormula] = []
    seen: set[str] = set()

    def add(latex: str, source: str) -> bool:
        toks = label_tokens(latex)
        key = " ".join(toks) if toks else ""
        if not toks or len(toks) > cfg.max_tokens or key in held_out or key in seen:
            return False
        seen.add(key)
        found.append(RenderFormula(detokenize(toks), source))
        return True

    for path in sorted((cfg.data_root / "train").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        order = np.random.default_rng(cfg.seed).permutation(len(lines))
        taken = 0
        for i in order:
            taken += add(lines[int(i)], path.stem)
            if taken >= per_corpus:
                break
    generator = FormulaGenerator()
    for latex in generator.sample(generated, seed=cfg.seed):
        add(latex, "generator")
    return found


def build_render_cache(
    cfg: TrainConfig,
    per_corpus: int,
    generated: int,
    workers: int,
    copies: int = 1,
    progress: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Render (resuming) the training formulas into the dataset cache."""
    formulas = render_formulas(cfg, per_corpus, generated)
    cache = DatasetCache(cfg.cache_dir)
    report = cache.build(
        formulas,
        DEFAULT_RENDERERS,
        n_workers=workers,
        copies=copies,
        seed=cfg.seed,
        progress=progress,
    )
    return {"formulas": len(formulas), **report.to_dict()}
