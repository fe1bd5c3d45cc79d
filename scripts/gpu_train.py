"""A ready GPU run of the formula recognizer: bundle here, train there, bring the checkpoint back.

1. Here (network for the wheels; reads runs/formula/last.pt or the shipped state, data/train
   and the render caches; writes gpu_bundle/, ignored by git, about 36 MiB):

       python3 scripts/gpu_train.py bundle

2. On the GPU machine (the device tool's ``run``, with ``carry: ["gpu_bundle"]``; one H100,
   PyTorch and matplotlib, no TeX, no network), about 10 minutes:

       python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
         --target /tmp/site gpu_bundle/wheels/*.whl && export PYTHONPATH=/tmp/site:src \
         PYTHONUNBUFFERED=1 && python3 scripts/gpu_train.py train --bundle gpu_bundle \
         --out "$OUT" --device cuda --minutes 8

   ``--minutes`` is the training time after set-up (about a minute there). It writes
   $OUT/formula_gpu.pt (fp16 EMA weights, resumable), formula_gpu_model.pt (fp16 raw weights),
   formula_gpu_best_mix.pt when the mean validation BLEU improved, and log.jsonl.

3. Here again: ``python3 scripts/gpu_train.py merge --checkpoint FILES_AT/formula_gpu.pt``
   puts it where ``scipix train --run-dir runs/formula_gpu`` resumes it, and
   ``scipix train export --checkpoint runs/formula_gpu/last.pt`` ships it.

Test end to end on CPU with a one-minute budget:

       python3 scripts/gpu_train.py bundle --out /tmp/gpu_bundle --no-wheels && \
       python3 scripts/gpu_train.py train --bundle /tmp/gpu_bundle --out /tmp/gpu_out \
         --device cpu --minutes 1 --batch 16 --workers 1
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "scipix" / "weights" / "formula.state.pt"
#: Pure-Python (or cp312 manylinux) packages the GPU image lacks, for scipix's imports.
WHEELS = (
    "pydantic==2.13.4",
    "pydantic-core==2.46.4",
    "annotated-types==0.7.0",
    "typing-inspection==0.4.2",
    "platformdirs==4.14.9",
    "blake3==1.0.11",
)


def download_wheels(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", "3.12", "--implementation", "cp", "-d", str(folder)]
    for platform in platforms:
        command += ["--platform", platform]
    subprocess.run([*command, *WHEELS], check=True)


def bundle(args: argparse.Namespace) -> None:
    from scipix.training.bundle import make_bundle
    from scipix.training.cache import default_cache_dir

    last = ROOT / "runs" / "formula" / "last.pt"
    state = args.state or (last if last.exists() else SHIPPED)
    if args.out.exists():
        shutil.rmtree(args.out)
    cache = args.cache_dir or default_cache_dir()
    manifest = make_bundle(args.out, state, args.data_root, cache, args.max_mib, args.seed)
    if args.wheels:
        download_wheels(args.out / "wheels")
    print(json.dumps(manifest, indent=1))


def train(args: argparse.Namespace) -> None:
    from scipix.recognition.preprocess import InputSpec
    from scipix.training.augment import augment
    from scipix.training.bundle import bundle_data
    from scipix.training.capture import capture
    from scipix.training.config import TrainConfig
    from scipix.training.dataset import MixtureStream
    from scipix.training.mixture_v2 import grow_vocabulary, v2_tokens
    from scipix.training.trainer import (
        evaluate,
        evaluate_kinds,
        jsonl_logger,
        load_state,
        save_state,
        train_steps,
    )

    started = time.time()
    torch.set_num_threads(2)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True  # no cudnn.benchmark: bucketed shapes vary
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    steps = max(200, int(args.minutes * 60 * args.steps_per_s))
    cfg = TrainConfig(
        run_dir=work, batch_size=args.batch, lr=args.lr, warmup_steps=min(300, steps // 10),
        total_steps=steps, loader_workers=args.workers, eval_every=args.eval_every,
        checkpoint_minutes=1e9, log_every=args.log_every, val_size=args.val_size,
    )  # fmt: skip
    log = jsonl_logger(work / "log.jsonl", print)
    state = load_state(args.bundle / "state.pt", cfg)
    if args.v2:
        log({"event": "vocabulary", "added": grow_vocabulary(state, v2_tokens(state.tokens, cfg))})
    offset, state.step, state.best_bleu = state.step, 0, -1.0
    mixture, val, kinds, counts = bundle_data(
        args.bundle, state.tokens, cfg.max_tokens, args.val_size, cfg.seed
    )
    log(
        {
            "event": "data",
            "counts": counts,
            "val": len(val),
            "kinds": {k: len(v) for k, v in kinds.items()},
        }
    )
    stream = MixtureStream(
        mixture, InputSpec(), cfg.batch_size, cfg.seed + offset, augment, cfg.augment_max,
        cfg.clean_share, cfg.scale_jitter, pool_batches=4, degrade=capture,
    )  # fmt: skip
    deadline = time.time() + args.minutes * 60 - args.reserve_s  # training time, after set-up
    train_steps(state, cfg, stream, val, InputSpec(), deadline, log, args.device, kinds)
    run_steps = state.step
    spec = InputSpec()
    scores = evaluate(state.ema, val, spec, state.tokens, cfg.max_tokens + 2, device=args.device)
    log({"event": "val", "run_steps": run_steps, "val": scores})
    evaluate_kinds(state, cfg, scores, kinds, spec, log, args.device)
    state.step = offset + run_steps
    log(
        {
            "event": "end",
            "run_steps": run_steps,
            "step": state.step,
            "seconds": time.time() - started,
        }
    )
    save_state(state, work / "last.pt", cfg, InputSpec())
    bring_back(work, args.out, state.step)


def bring_back(work: Path, out: Path, step: int) -> None:
    """fp16 copies under 16 MiB each, and the log."""
    from scipix.training.bundle import compact_state

    payload = compact_state(work / "last.pt")
    payload["step"] = step
    torch.save(payload, out / "formula_gpu.pt")
    raw = torch.load(work / "last.pt", map_location="cpu", weights_only=False)["model"]
    torch.save(
        {k: v.half() if v.is_floating_point() else v for k, v in raw.items()},
        out / "formula_gpu_model.pt",
    )
    if (work / "best_mix.pt").exists():
        best = compact_state(work / "best_mix.pt")
        best["step"] = step
        torch.save(best, out / "formula_gpu_best_mix.pt")
    shutil.copy(work / "log.jsonl", out / "log.jsonl")


def merge(args: argparse.Namespace) -> None:
    args.run_dir.mkdir(parents=True, exist_ok=True)
    target = args.run_dir / "last.pt"
    if target.exists() and not args.force:
        sys.exit(f"{target} exists; pass --force to replace it")
    shutil.copy(args.checkpoint, target)
    print(f"{target}: resume with scipix train --run-dir {args.run_dir}, "
          f"or ship with scipix train export --checkpoint {target}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bundle")
    b.add_argument("--out", type=Path, default=ROOT / "gpu_bundle")
    b.add_argument("--state", type=Path, default=None)
    b.add_argument("--data-root", type=Path, default=ROOT.parent / "shared" / "data")
    b.add_argument("--cache-dir", type=Path, default=None)
    b.add_argument("--max-mib", type=float, default=36.0)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--wheels", action=argparse.BooleanOptionalAction, default=True)
    t = sub.add_parser("train")
    t.add_argument("--bundle", type=Path, default=ROOT / "gpu_bundle")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--work", default="/tmp/scipix_gpu_run")
    t.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    t.add_argument("--minutes", type=float, default=8.0)
    t.add_argument("--reserve-s", type=float, default=20.0, help="kept for the final save")
    t.add_argument("--batch", type=int, default=192)
    t.add_argument("--workers", type=int, default=14)
    t.add_argument("--lr", type=float, default=6e-4)
    t.add_argument("--steps-per-s", type=float, default=5.0, help="to size the cosine schedule")
    t.add_argument("--eval-every", type=int, default=600)
    t.add_argument("--log-every", type=int, default=50)
    t.add_argument("--val-size", type=int, default=300)
    t.add_argument("--v2", action="store_true", help="grow the vocabulary like mixture v2")
    m = sub.add_parser("merge")
    m.add_argument("--checkpoint", type=Path, required=True)
    m.add_argument("--run-dir", type=Path, default=ROOT / "runs" / "formula_gpu")
    m.add_argument("--force", action="store_true")
    args = parser.parse_args()
    {"bundle": bundle, "train": train, "merge": merge}[args.command](args)


if __name__ == "__main__":
    main()
