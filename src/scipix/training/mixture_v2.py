"""Mixture v2: data that looks like the world (``mixture = "v2"`` in the training config).

Sources and their default shares (:data:`MIXTURE_V2`; a config's ``[[sources]]`` that names any
v2 kind replaces them):

- the v1 sources: ``im2latex_val`` (matched, never augmented), ``rendered`` (the v1 cache:
  TeX in 14 fonts and mathtext), ``crohme`` and ``hand``, augmented as in v1;
- ``mathjax``: MathJax renders (the web's fonts) of corpus, generated and structure formulas;
- ``structure``: multi-line, matrices of every delimiter kind, arrays, long formulas, text in
  math, chemistry and logic (``training/structure.py``) rendered by TeX in every font, MathJax
  and (without environments) mathtext;
- ``photo``, ``screen_photo``, ``screenshot``, ``low_res``: any render of the two caches turned
  into that kind of picture by ``training/capture.py`` (fresh randomness for every draw).

The v2 renders live in ``<cache_dir>/v2`` (a v1 run never sees them). Renders of held-out
formulas are stored there with a ``val/`` source: never trained on, they make the per-kind
validation sets (fixed seed), on which checkpoints are picked (``best_mix.pt``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from scipix.training.cache import DatasetCache, RendererSpec, default_cache_dir
from scipix.training.capture import KINDS, capture
from scipix.training.config import TrainConfig
from scipix.training.corpus import Formula, generated_formulas, load_corpora
from scipix.training.dataset import Sample
from scipix.training.structure import structure_set
from scipix.training.trainer import TrainState

MIXTURE_V2: dict[str, float] = {
    "im2latex_val": 0.28,
    "rendered": 0.20,
    "crohme": 0.06,
    "hand": 0.02,
    "photo": 0.12,
    "screen_photo": 0.05,
    "screenshot": 0.10,
    "low_res": 0.04,
    "mathjax": 0.05,
    "structure": 0.08,
}
#: Kinds that have their own held-out set (besides im2latex_val).
VAL_KINDS = ("mathjax", "structure", *KINDS)
#: Renderers for structure formulas: TeX in every font, MathJax, mathtext (no environments).
STRUCTURE_RENDERERS = (
    RendererSpec("tex", weight=0.5),
    RendererSpec("tex", fonts=("cm",), engine="pdf", weight=0.1),
    RendererSpec("mathjax", dpi_range=(80, 160), weight=0.3),
    RendererSpec("mathtext", weight=0.1),
)
MATHJAX_RENDERERS = (RendererSpec("mathjax", dpi_range=(80, 160)),)


def v2_cache_dir(cfg: TrainConfig) -> Path:
    return (cfg.cache_dir or default_cache_dir()) / "v2"


def is_v2(cfg: TrainConfig) -> bool:
    return str(cfg.extra.get("mixture", "v1")) == "v2"


def v2_weights(cfg: TrainConfig) -> dict[str, float]:
    given = {s.name: s.weight for s in cfg.sources}
    return given if set(given) & set(VAL_KINDS) else dict(MIXTURE_V2)


# -- the v2 render cache ------------------------------------------------------------------------


def v2_formulas(
    cfg: TrainConfig, per_corpus: int, generated: int, structure: int, val: int
) -> dict[str, list[Formula]]:
    """What the v2 cache renders: corpus and generated formulas for MathJax, the structure set,
    and held-out formulas (source ``val/...``) for the per-kind validation sets."""
    corpus = load_corpora(cfg.data_root / "train")
    rng = np.random.default_rng(cfg.seed + 2)
    chosen: list[Formula] = []
    for source in sorted({f.source for f in corpus.train}):
        pool = [f for f in corpus.train if f.source == source]
        chosen += [pool[int(i)] for i in rng.permutation(len(pool))[:per_corpus]]
    held = {f.latex for f in corpus.val}
    chosen += [f for f in generated_formulas(generated, seed=cfg.seed + 2) if f.latex not in held]
    shapes = structure_set(structure, seed=cfg.seed + 3, max_tokens=cfg.max_tokens)
    val_structure = [
        dataclasses.replace(f, source=f"val/{f.source}")
        for f in structure_set(val, seed=cfg.seed + 1000, max_tokens=cfg.max_tokens)
        if f.latex not in {s.latex for s in shapes}
    ]
    picks = rng.permutation(len(corpus.val))[:val]
    val_corpus = [
        dataclasses.replace(corpus.val[int(i)], source=f"val/{corpus.val[int(i)].source}")
        for i in picks
    ]
    keep = [f for f in chosen if len(f.tokens) <= cfg.max_tokens]
    return {
        "mathjax": keep,
        "structure": shapes,
        "val_structure": val_structure,
        "val_corpus": val_corpus,
    }


def build_v2_cache(
    cfg: TrainConfig,
    workers: int,
    per_corpus: int = 2000,
    generated: int = 3000,
    structure: int = 6000,
    val: int = 300,
) -> dict[str, Any]:
    """Render (resuming) the v2 sets into ``<cache_dir>/v2``."""
    sets = v2_formulas(cfg, per_corpus, generated, structure, val)
    cache = DatasetCache(v2_cache_dir(cfg))
    reports = {
        "mathjax": cache.build(sets["mathjax"], MATHJAX_RENDERERS, workers, seed=cfg.seed),
        "structure": cache.build(sets["structure"], STRUCTURE_RENDERERS, workers, seed=cfg.seed),
        "val": cache.build(
            sets["val_structure"] + sets["val_corpus"], STRUCTURE_RENDERERS, workers, seed=cfg.seed
        ),
    }
    return {
        "cache": str(cache.root),
        "samples": len(cache),
        **{k: r.to_dict() for k, r in reports.items()},
    }


# -- samples ------------------------------------------------------------------------------------


Encode = Callable[[str], "tuple[int, ...] | None"]


def cache_samples(
    cache: DatasetCache, encode: Encode, held_out: set[str], keep: Callable[[int], bool]
) -> list[Sample]:
    found = []
    for i in range(len(cache)):
        latex = cache.label(i)
        if latex in held_out or cache.meta(i).source.startswith("val/") or not keep(i):
            continue
        ids = encode(latex)
        if ids is not None:
            found.append(Sample(partial(cache.image, i), ids))
    return found


def kind_samples(base: Sequence[Sample], kind: str) -> list[Sample]:
    """The same renders, turned into ``kind`` pictures when drawn (``Sample.kind``)."""
    return [dataclasses.replace(s, kind=kind) for s in base]


def _frozen(image: np.ndarray) -> np.ndarray:
    return image


def val_sets(cache: DatasetCache, encode: Encode, size: int, seed: int) -> dict[str, list[Sample]]:
    """Per-kind held-out sets from the ``val/`` renders, degraded once with a fixed seed."""
    val = [i for i in range(len(cache)) if cache.meta(i).source.startswith("val/")]
    encoded = [(i, ids) for i in val if (ids := encode(cache.label(i))) is not None]
    rng = np.random.default_rng(seed)
    order = [encoded[int(k)] for k in rng.permutation(len(encoded))]
    sets: dict[str, list[Sample]] = {}
    mathjax = [(i, ids) for i, ids in order if cache.meta(i).renderer == "mathjax"]
    structure = [(i, ids) for i, ids in order if cache.meta(i).source.startswith("val/structure")]
    sets["mathjax"] = [
        Sample(partial(cache.image, i), ids, clean=True) for i, ids in mathjax[:size]
    ]
    sets["structure"] = [
        Sample(partial(cache.image, i), ids, clean=True) for i, ids in structure[:size]
    ]
    for k, kind in enumerate(KINDS):
        chosen = (
            order[k * size : (k + 1) * size] if len(order) >= len(KINDS) * size else order[:size]
        )
        made = []
        for j, (i, ids) in enumerate(chosen):
            picture = capture(cache.image(i), kind, np.random.default_rng([seed, k, j]))
            made.append(Sample(partial(_frozen, picture), ids, clean=True))
        sets[kind] = made
    return {k: v for k, v in sets.items() if v}


def v2_sources(
    cfg: TrainConfig, encode: Encode, held_out: set[str], rendered: Sequence[Sample]
) -> tuple[list[tuple[str, float, Sequence[Sample]]], dict[str, list[Sample]], dict[str, Any]]:
    """The v2 sources (beyond the paired sets and ``rendered``), the per-kind val sets and a
    summary."""
    weights = v2_weights(cfg)
    cache = DatasetCache(v2_cache_dir(cfg))
    mathjax = cache_samples(cache, encode, held_out, lambda i: cache.meta(i).renderer == "mathjax")
    structure = cache_samples(
        cache, encode, held_out, lambda i: cache.meta(i).source.startswith("structure/")
    )
    pool = [*rendered, *cache_samples(cache, encode, held_out, lambda i: True)]
    sources: list[tuple[str, float, Sequence[Sample]]] = [
        ("mathjax", weights.get("mathjax", 0.0), mathjax),
        ("structure", weights.get("structure", 0.0), structure),
    ]
    sources += [(kind, weights.get(kind, 0.0), kind_samples(pool, kind)) for kind in KINDS]
    vals = val_sets(cache, encode, int(cfg.extra.get("val_kind_size", 60)), cfg.seed)
    summary = {
        "v2_cache": str(cache.root),
        "v2_cached": len(cache),
        "mathjax": len(mathjax),
        "structure": len(structure),
        "capture_pool": len(pool),
        "val_kinds": {k: len(v) for k, v in vals.items()},
        "structure_families": dict(
            Counter(
                cache.meta(i).source
                for i in range(len(cache))
                if cache.meta(i).source.startswith("structure/")
            )
        ),
    }
    return sources, vals, summary


# -- vocabulary ---------------------------------------------------------------------------------


def v2_tokens(tokens: Sequence[str], cfg: TrainConfig, n: int = 3000) -> list[str]:
    """``tokens`` plus what the structure set needs that they lack (environments such as
    ``\\begin{pmatrix}``), appended so every old id keeps its meaning."""
    counts = Counter(t for f in structure_set(n, cfg.seed + 3, cfg.max_tokens) for t in f.tokens)
    known = set(tokens)
    return [*tokens, *sorted(t for t, c in counts.items() if c >= 2 and t not in known)]


def grow_vocabulary(state: TrainState, tokens: Sequence[str], seed: int = 0) -> list[str]:
    """Append ``tokens``' new entries to the model's vocabulary (tied embedding rows, fresh
    optimizer moments for them); returns the added tokens."""
    added = [t for t in tokens[len(state.tokens) :] if t not in state.tokens]
    if list(tokens[: len(state.tokens)]) != state.tokens:
        raise ValueError("the new vocabulary must extend the old one")
    if not added:
        return []
    generator = torch.Generator().manual_seed(seed)
    old = state.model.decoder.embed.weight
    d = old.shape[1]
    rows = torch.randn(len(added), d, generator=generator) * d**-0.5
    for model in (state.model, state.ema):
        weight = torch.cat([model.decoder.embed.weight.detach().float(), rows])
        embed = nn.Embedding(weight.shape[0], d)
        with torch.no_grad():
            embed.weight.copy_(weight)
        model.decoder.embed = embed
        model.cfg = dataclasses.replace(model.cfg, vocab_size=weight.shape[0])
    saved = state.optimizer.state_dict()
    moments = saved["state"]
    for index, param in enumerate(state.model.parameters()):
        entry = moments.get(index)
        if entry is None or param.shape == entry["exp_avg"].shape:
            continue
        pad = param.shape[0] - entry["exp_avg"].shape[0]
        for key in ("exp_avg", "exp_avg_sq"):
            entry[key] = torch.cat([entry[key], entry[key].new_zeros(pad, *entry[key].shape[1:])])
    group = state.optimizer.param_groups[0]
    state.optimizer = torch.optim.AdamW(
        state.model.parameters(), lr=group["lr"], weight_decay=group["weight_decay"]
    )
    state.optimizer.load_state_dict(saved)
    state.tokens = list(tokens)
    return added
