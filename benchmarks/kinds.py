"""A checkpoint on mixture v2's held-out renders of each kind, next to the same renders clean.

    nice -n 10 python3 benchmarks/kinds.py [--checkpoint runs/formula/best_mix.pt] [--size 60]
        [--cache-dir DIR]

The sets are the trainer's per-kind validation sets (``val/`` renders of the v2 cache, made
with the fixed seed), read greedily by the PyTorch model as during training: BLEU-4 and exact
per kind, and ``clean``: ``val/`` renders as rendered (the same population; each kind uses its
own slice of it). The issue's target is every kind's exact match within 10 points of clean.
Needs the v2 cache (``scripts/train_v2.sh`` or ``build_v2_cache``).
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import torch

from scipix.recognition.preprocess import InputSpec
from scipix.recognition.recognizer import packaged_model_dir
from scipix.training.cache import DatasetCache
from scipix.training.config import load_train_config
from scipix.training.dataset import Sample
from scipix.training.mixture_v2 import v2_cache_dir, val_sets
from scipix.training.recipe import encoder_for
from scipix.training.trainer import evaluate, load_state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", type=Path, default=packaged_model_dir() / "formula.state.pt"
    )
    parser.add_argument("--size", type=int, default=60)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_train_config(None, cache_dir=args.cache_dir)
    state = load_state(args.checkpoint, cfg)
    encode = encoder_for(state.tokens, cfg.max_tokens)
    cache = DatasetCache(v2_cache_dir(cfg))
    sets = val_sets(cache, encode, args.size, cfg.seed)
    clean = [
        Sample(partial(cache.image, i), ids, clean=True)
        for i in range(len(cache))
        if cache.meta(i).source.startswith("val/") and (ids := encode(cache.label(i)))
    ][: args.size]
    report = {"checkpoint": str(args.checkpoint), "step": state.step}
    for name, samples in {"clean": clean, **sets}.items():
        scores = evaluate(state.ema, samples, InputSpec(), state.tokens, cfg.max_tokens + 2)
        report[name] = {k: round(v, 3) for k, v in scores.items()}
        print(name, report[name], flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
