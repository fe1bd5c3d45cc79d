"""Training throughput on this machine: the data path vs the model step (samples/s).

    nice -n 10 python3 benchmarks/train_throughput.py [--mixture v1|v2] [--batches 4]
        [--steps 4] [--compile] [--data-root ../shared/data] [--cache-dir DIR] [--bundle DIR]

1. *Data*: batches drawn from the training stream in this process (load PNG, augment or
   capture, prepare, bucket, collate) — what one DataLoader worker delivers per second.
2. *Model step*: forward, backward, AdamW and EMA on those very batches (so the shapes are the
   stream's), for each variant: fp32, bf16 autocast (the default), bf16 + channels-last images,
   and with ``--compile`` ``torch.compile`` of the model (compilation time reported apart).

If the data rate of one worker is below the step rate, data loading is on the critical path.
Uses the shipped weights (``formula.state.pt``) and reads only ``data/train`` and the cache.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from scipix.recognition.preprocess import InputSpec
from scipix.recognition.recognizer import packaged_model_dir
from scipix.training.augment import augment
from scipix.training.capture import capture
from scipix.training.config import load_train_config
from scipix.training.dataset import PAD, MixtureStream
from scipix.training.recipe import build_data, training_tokens
from scipix.training.trainer import load_state, update_ema


def data_rate(stream: MixtureStream, batches: int) -> tuple[list[Any], float]:
    iterator = iter(stream)
    next(iterator)  # the first pool is filled here; time whole pools below
    started, got, seen = time.perf_counter(), [], 0
    for _ in range(batches):
        images, tokens = next(iterator)
        got.append((images, tokens))
        seen += images.shape[0]
    return got, seen / (time.perf_counter() - started)


def step_rate(model: Any, batches: list[Any], bf16: bool, channels_last: bool, steps: int) -> float:
    """Samples/s over ``steps`` steps cycling through ``batches``, after one untimed pass over
    them (oneDNN builds its kernels per shape on first use; training reuses its bucket shapes)."""
    ema = copy.deepcopy(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()
    seen, started = 0, 0.0
    for i in range(len(batches) + steps):
        if i == len(batches):
            seen, started = 0, time.perf_counter()
        images, tokens = batches[i % len(batches)]
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(images, tokens[:, :-1])
        loss = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]),
            tokens[:, 1:].reshape(-1),
            ignore_index=PAD,
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        update_ema(ema, model, 0.999)
        seen += images.shape[0]
    return seen / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mixture", choices=("v1", "v2"), default="v1")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--pool", type=int, default=4, help="batches per bucketing pool")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--bundle", type=Path, default=None, help="a GPU bundle's mixture instead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    extra = {"mixture": "v2", "val_kind_size": 10} if args.mixture == "v2" else {}
    cfg = load_train_config(None, data_root=args.data_root, cache_dir=args.cache_dir, extra=extra)
    state = load_state(packaged_model_dir() / "formula.state.pt", cfg)
    if args.bundle is not None:  # the GPU run's data path (live mathtext, capture kinds)
        from scipix.training.bundle import bundle_data

        mixture = bundle_data(args.bundle, state.tokens, cfg.max_tokens, 10, 0)[0]
    else:
        mixture = build_data(cfg, training_tokens(cfg, state, lambda record: None)).mixture
    stream = MixtureStream(
        mixture, InputSpec(), cfg.batch_size, 0, augment, cfg.augment_max,
        cfg.clean_share, cfg.scale_jitter, pool_batches=args.pool,
        degrade=capture if args.mixture == "v2" or args.bundle else None,
    )  # fmt: skip
    batches, data_sps = data_rate(stream, args.batches)
    report: dict[str, Any] = {"mixture": "bundle" if args.bundle else args.mixture}
    report["batch"] = cfg.batch_size
    report["data_samples_per_s_one_worker"] = round(data_sps, 1)
    report["mean_batch_shape"] = [
        round(sum(b[0].shape[k] for b in batches) / len(batches)) for k in (2, 3)
    ]
    model = state.model
    if args.steps <= 0:  # the data path alone
        print(json.dumps(report, indent=1))
        return
    for name, bf16, last in (
        ("fp32", False, False),
        ("bf16", True, False),
        ("bf16_cl", True, True),
    ):
        report[f"step_samples_per_s_{name}"] = round(
            step_rate(model, batches, bf16, last, args.steps), 1
        )
    if args.compile:
        started = time.perf_counter()
        compiled = torch.compile(model)
        step_rate(compiled, batches[:1], True, False, 0)
        report["compile_seconds"] = round(time.perf_counter() - started, 1)
        report["step_samples_per_s_bf16_compiled"] = round(
            step_rate(compiled, batches, True, False, args.steps), 1
        )
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
