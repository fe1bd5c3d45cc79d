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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from scipix.errors import ConfigError, LatexError
from scipix.latex import NormalizeOptions, model_tokens
from scipix.recognition.preprocess import GrayImage, InputSpec
from scipix.training import mixture_v2
from scipix.training.augment import augment
from scipix.training.cache import DEFAULT_RENDERERS, BuildReport, DatasetCache
from scipix.training.capture import capture
from scipix.training.config import TrainConfig
from scipix.training.corpus import (
    Corpus,
    Formula,
    PairedSplit,
    build_vocab,
    generated_formulas,
    load_corpora,
    load_paired,
    normalized,
)
from scipix.training.dataset import Mixture, MixtureStream, Sample
from scipix.training.export import STATE_FILE
from scipix.training.generator import FormulaGenerator
from scipix.training.ink_mixture import ink_sources
from scipix.training.pairs import pair_sources
from scipix.training.trainer import (
    TrainState,
    evaluate,
    jsonl_logger,
    load_state,
    new_state,
    save_state,
    train_steps,
)

PAIRED_SETS = ("im2latex_val", "crohme", "hand")
#: im2latex_val images are the im2latex test style: never augmented, to keep them matched.
MATCHED_SETS = ("im2latex_val",)
LABEL_OPTIONS = NormalizeOptions.for_labels()


def read_gray(path: Path) -> GrayImage:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"cannot read {path}")
    return np.asarray(image, dtype=np.uint8)


def label_tokens(latex: str) -> tuple[str, ...] | None:
    """Model tokens of an already normalized label (None if it does not parse)."""
    try:
        return tuple(model_tokens(latex, LABEL_OPTIONS))
    except LatexError:
        return None


@dataclass
class Data:
    mixture: Mixture
    val: list[Sample]
    tokens: list[str]
    summary: dict[str, Any]
    val_kinds: dict[str, list[Sample]] = field(default_factory=dict)  # mixture v2


@dataclass
class Sources:
    """The corpora and paired sets, split once (a formula is on the same side everywhere)."""

    corpus: Corpus
    paired: dict[str, PairedSplit]

    @classmethod
    def load(cls, cfg: TrainConfig) -> Sources:
        root = cfg.data_root / "train"
        return cls(load_corpora(root), {n: load_paired(root / n) for n in PAIRED_SETS})

    def held_out(self) -> set[str]:
        """Every validation formula: no rendered sample may carry one."""
        keys = {f.latex for f in self.corpus.val}
        for split in self.paired.values():
            keys.update(latex for _, latex in split.val)
        return keys

    def vocabulary(self, min_count: int) -> list[str]:
        lists: list[Sequence[str]] = [f.tokens for f in self.corpus.train]
        for split in self.paired.values():
            lists.extend(t for _, latex in split.train if (t := label_tokens(latex)))
        return list(build_vocab(lists, min_count).tokens)


def encoder_for(tokens: Sequence[str], max_tokens: int) -> Callable[[str], tuple[int, ...] | None]:
    """Label -> token ids; None when it does not parse, is too long or has unknown tokens."""
    index = {t: i for i, t in enumerate(tokens)}

    def encode(latex: str) -> tuple[int, ...] | None:
        toks = label_tokens(latex)
        if not toks or len(toks) > max_tokens or any(t not in index for t in toks):
            return None
        return tuple(index[t] for t in toks)

    return encode


def paired_samples(
    split: PairedSplit, name: str, encode: Callable[[str], tuple[int, ...] | None]
) -> tuple[list[Sample], list[Sample]]:
    out: tuple[list[Sample], list[Sample]] = ([], [])
    for target, items in zip(out, (split.train, split.val), strict=True):
        for path, latex in items:
            ids = encode(latex)
            if ids is not None:
                target.append(Sample(partial(read_gray, path), ids, clean=name in MATCHED_SETS))
    return out


def rendered_samples(
    cache: DatasetCache, encode: Callable[[str], tuple[int, ...] | None], held_out: set[str]
) -> list[Sample]:
    found = []
    for i in range(len(cache)):
        latex = cache.label(i)
        if latex in held_out:
            continue
        ids = encode(latex)
        if ids is not None:
            found.append(Sample(partial(cache.image, i), ids))
    return found


def build_data(cfg: TrainConfig, tokens: list[str] | None) -> Data:
    sources = Sources.load(cfg)
    tokens = tokens or sources.vocabulary(cfg.min_count)
    encode = encoder_for(tokens, cfg.max_tokens)
    v2 = mixture_v2.is_v2(cfg)
    weights = mixture_v2.v2_weights(cfg) if v2 else {s.name: s.weight for s in cfg.sources}
    mixture: list[tuple[str, float, Sequence[Sample]]] = []
    summary: dict[str, Any] = {}
    val: list[Sample] = []
    for name, split in sources.paired.items():
        train, held = paired_samples(split, name, encode)
        mixture.append((name, weights.get(name, 0.0), train))
        summary[name] = {"train": len(train), "val": len(held)}
        if name in MATCHED_SETS:
            val = held[: cfg.val_size]
    for name, weight, samples in pair_sources(cfg, encode):  # scipix train --pairs
        mixture.append((name, weight, samples))
        summary[name] = {"train": len(samples)}
    # pen strokes (training/ink_mixture.py): off unless the config gives them a share
    inks, ink_summary = ink_sources(cfg, sources.corpus.train, encode, sources.held_out(), weights)
    mixture.extend(inks)
    summary.update(ink_summary)
    cache = DatasetCache(cfg.cache_dir)
    rendered = rendered_samples(cache, encode, sources.held_out())
    mixture.append(("rendered", weights.get("rendered", 0.0), rendered))
    summary["rendered"] = {"train": len(rendered), "cached": len(cache), "cache": str(cache.root)}
    if not v2:
        return Data(Mixture(tuple(mixture)), val, tokens, summary)
    more, val_kinds, summary["v2"] = mixture_v2.v2_sources(
        cfg, encode, sources.held_out(), rendered
    )
    return Data(Mixture(tuple(mixture + more)), val, tokens, summary, val_kinds)


def training_tokens(
    cfg: TrainConfig, state: TrainState | None, log: Callable[[dict[str, Any]], None]
) -> list[str] | None:
    """The vocabulary to train with: the checkpoint's; for mixture v2 grown by the tokens its
    structure set needs (the model's embedding grows with it)."""
    tokens = state.tokens if state else None
    if not mixture_v2.is_v2(cfg):
        return tokens
    tokens = mixture_v2.v2_tokens(tokens or Sources.load(cfg).vocabulary(cfg.min_count), cfg)
    if state is not None:
        added = mixture_v2.grow_vocabulary(state, tokens, cfg.seed)
        log({"event": "vocabulary", "added": added, "size": len(tokens)})
    return tokens


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
    data = build_data(cfg, training_tokens(cfg, state, log))
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
        degrade=capture if data.val_kinds else None,
    )
    counts = Counter(name for name, w, s in data.mixture.sources if w > 0 and len(s))
    log({"event": "sources", "active": sorted(counts)})
    deadline = time.time() + hours * 3600
    train_steps(state, cfg, stream, data.val, spec, deadline, log, device, data.val_kinds)
    scores = evaluate(state.ema, data.val, spec, state.tokens, cfg.max_tokens + 2, device=device)
    log({"event": "end", "step": state.step, "val": scores})
    if scores["bleu"] > state.best_bleu:  # the last steps count too, not only eval_every's
        state.best_bleu = scores["bleu"]
        save_state(state, cfg.run_dir / "best.pt", cfg, spec)
    save_state(state, cfg.run_dir / "last.pt", cfg, spec)
    return scores


def render_formulas(cfg: TrainConfig, per_corpus: int, generated: int) -> list[Formula]:
    """Training formulas to render: up to ``per_corpus`` of each corpus (a seeded sample of
    its training split) plus ``generated`` ones from the grammar."""
    corpus = load_corpora(cfg.data_root / "train")
    rng = np.random.default_rng(cfg.seed)
    chosen: list[Formula] = []
    for source in sorted({f.source for f in corpus.train}):
        formulas = [f for f in corpus.train if f.source == source]
        order = rng.permutation(len(formulas))[:per_corpus]
        chosen.extend(formulas[int(i)] for i in order)
    held_out = {f.latex for f in corpus.val}
    extra = generated_formulas(generated, seed=cfg.seed)
    chosen.extend(f for f in extra if f.latex not in held_out)
    return [f for f in chosen if len(f.tokens) <= cfg.max_tokens]


def build_render_cache(
    cfg: TrainConfig,
    per_corpus: int,
    generated: int,
    workers: int,
    copies: int = 1,
    progress: Callable[[BuildReport], None] | None = None,
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


#: Shapes for the structure-heavy render set: matrices, cases and aligned equations are rare in
#: the corpora (about 1.5 % of the training stream), and only TeX can draw them.
STRUCTURE_SHAPES = {
    "equation": 1.0,
    "expression": 0.5,
    "long_sequence": 0.2,
    "aligned": 1.5,
    "cases_definition": 1.5,
    "matrix_equation": 3.0,
}


def structure_formulas(n: int, seed: int, max_tokens: int) -> list[Formula]:
    """``n`` generated formulas, most of them with an environment (matrix, cases, aligned)."""
    generator = FormulaGenerator(shapes=STRUCTURE_SHAPES, max_chars=300)
    rng = np.random.default_rng(seed)
    found: list[Formula] = []
    for _ in range(4 * n):
        if len(found) >= n:
            break
        try:
            latex, tokens = normalized(generator.formula(rng))
        except LatexError:
            continue
        if len(tokens) <= max_tokens:
            found.append(Formula(latex, tokens, "structure"))
    return found


def build_structure_cache(
    cfg: TrainConfig, n: int, workers: int, progress: Callable[[BuildReport], None] | None = None
) -> dict[str, Any]:
    """Render ``n`` structure-heavy formulas with TeX (every font) into the dataset cache."""
    formulas = structure_formulas(n, cfg.seed + 1, cfg.max_tokens)
    tex = tuple(spec for spec in DEFAULT_RENDERERS if spec.renderer == "tex")
    cache = DatasetCache(cfg.cache_dir)
    report = cache.build(formulas, tex, n_workers=workers, seed=cfg.seed + 1, progress=progress)
    return {"formulas": len(formulas), **report.to_dict()}
