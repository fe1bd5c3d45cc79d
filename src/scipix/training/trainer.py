"""The training loop: resumable, time-boxed, with EMA weights and greedy validation.

State lives in ``run_dir``: ``last.pt`` (model, EMA, optimizer, step, vocabulary, configs),
``best.pt`` (EMA weights of the best validation BLEU), ``log.jsonl`` (one JSON object per log
line). ``train(cfg, hours=...)`` resumes from ``last.pt`` when it exists, else from the weights
shipped in the package (``weights/formula.state.pt``) when their vocabulary matches, else
starts from scratch.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch.utils.data import DataLoader

from scipix.recognition.preprocess import InputSpec, prepare_image
from scipix.training.config import TrainConfig
from scipix.training.dataset import BOS, EOS, PAD, MixtureStream, Sample, collate
from scipix.training.metrics import bleu4, edit_similarity
from scipix.training.model import FormulaModel, ModelConfig

Logger = Callable[[dict[str, Any]], None]


@dataclass
class TrainState:
    model: FormulaModel
    ema: FormulaModel
    optimizer: torch.optim.Optimizer
    step: int
    tokens: list[str]  # the vocabulary, id -> token
    best_bleu: float = -1.0
    best_mix: float = -1.0  # mean BLEU over im2latex_val and the per-kind held-out sets


def model_config(cfg: TrainConfig, vocab_size: int) -> ModelConfig:
    return ModelConfig(
        vocab_size=vocab_size,
        d_model=cfg.d_model,
        channels=cfg.channels,
        enc_layers=cfg.enc_layers,
        dec_layers=cfg.dec_layers,
        heads=cfg.heads,
        ff=cfg.ff,
        dropout=cfg.dropout,
        max_len=cfg.max_tokens + 2,
    )


def learning_rate(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.total_steps - cfg.warmup_steps))
    floor = cfg.min_lr_ratio
    return cfg.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def new_state(cfg: TrainConfig, tokens: list[str]) -> TrainState:
    torch.manual_seed(cfg.seed)
    model = FormulaModel(model_config(cfg, len(tokens)))
    ema = copy.deepcopy(model).eval()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return TrainState(model, ema, optimizer, 0, tokens)


def save_state(state: TrainState, path: Path, cfg: TrainConfig, spec: InputSpec) -> None:
    """Atomically write a full checkpoint (a crash mid-write keeps the previous one)."""
    payload = {
        "model": state.model.state_dict(),
        "ema": state.ema.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "step": state.step,
        "tokens": state.tokens,
        "best_bleu": state.best_bleu,
        "best_mix": state.best_mix,
        "model_config": state.model.cfg.to_dict(),
        "train_config": cfg.to_dict(),
        "input_spec": spec.to_dict(),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_state(path: Path, cfg: TrainConfig) -> TrainState:
    payload = torch.load(path, map_location="cpu", weights_only=False)
    mcfg = ModelConfig.from_dict(payload["model_config"])
    model, ema = FormulaModel(mcfg), FormulaModel(mcfg)
    ema_weights = payload.get("ema", payload.get("model"))
    ema.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in ema_weights.items()}
    )
    # A shipped state holds only (fp16) EMA weights: training continues from them.
    model.load_state_dict(payload.get("model", ema.state_dict()))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if "optimizer" in payload:
        optimizer.load_state_dict(payload["optimizer"])
    return TrainState(
        model,
        ema.eval(),
        optimizer,
        int(payload.get("step", 0)),
        list(payload["tokens"]),
        float(payload.get("best_bleu", -1.0)),
        float(payload.get("best_mix", -1.0)),
    )


@torch.no_grad()
def update_ema(ema: FormulaModel, model: FormulaModel, decay: float) -> None:
    for e, p in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
        if e.dtype.is_floating_point:
            e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        else:
            e.copy_(p)


@torch.no_grad()
def greedy_decode(model: FormulaModel, images: torch.Tensor, max_len: int) -> list[list[int]]:
    """Greedy decoding with the key/value cache (the ONNX decoder's algorithm, beam 1)."""
    model.eval()
    memory = model.encoder(images)
    cross_k, cross_v = model.decoder.cross_cache(memory)
    n = images.shape[0]
    layers, _, heads, _, dh = cross_k.shape
    past_k = cross_k.new_zeros(layers, n, heads, 0, dh)
    past_v = cross_k.new_zeros(layers, n, heads, 0, dh)
    token = torch.full((n, 1), BOS, dtype=torch.long, device=images.device)
    out: list[list[int]] = [[] for _ in range(n)]
    done = torch.zeros(n, dtype=torch.bool)
    for t in range(max_len):
        logp, past_k, past_v = model.decoder.step(
            token, torch.tensor(t), cross_k, cross_v, past_k, past_v
        )
        token = logp.argmax(dim=-1, keepdim=True)
        for i in torch.nonzero(~done).flatten().tolist():
            if int(token[i]) == EOS:
                done[i] = True
            else:
                out[i].append(int(token[i]))
        if bool(done.all()):
            break
    return out


def evaluate(
    model: FormulaModel,
    val: Sequence[Sample],
    spec: InputSpec,
    tokens: list[str],
    max_len: int,
    batch_size: int = 32,
    device: str = "cpu",
) -> dict[str, float]:
    """Greedy BLEU-4, exact match and edit similarity on the validation samples."""
    prepared = [(prepare_image(s.load(), spec), s.ids) for s in val]
    prepared.sort(key=lambda item: item[0].shape[1])
    refs: list[list[str]] = []
    hyps: list[list[str]] = []
    for i in range(0, len(prepared), batch_size):
        chunk = prepared[i : i + batch_size]
        images, _ = collate([im for im, _ in chunk], [ids for _, ids in chunk], spec)
        preds = greedy_decode(model, images.to(device), max_len)
        for (_, ids), pred in zip(chunk, preds, strict=True):
            refs.append([tokens[j] for j in ids])
            hyps.append([tokens[j] for j in pred if j < len(tokens)])
    exact = float(np.mean([r == h for r, h in zip(refs, hyps, strict=True)]))
    edit = float(np.mean([edit_similarity(r, h) for r, h in zip(refs, hyps, strict=True)]))
    return {"bleu": bleu4(refs, hyps), "exact": exact, "edit": edit, "n": float(len(refs))}


def train_steps(
    state: TrainState,
    cfg: TrainConfig,
    stream: MixtureStream,
    val: Sequence[Sample],
    spec: InputSpec,
    deadline: float,
    log: Logger,
    device: str = "cpu",
    val_kinds: Mapping[str, Sequence[Sample]] | None = None,
) -> None:
    """Run optimisation steps until ``deadline`` (time.time()), evaluating and checkpointing.

    With ``val_kinds`` (mixture v2's held-out sets per kind), each evaluation also scores them
    and ``best_mix.pt`` keeps the EMA weights of the best mean BLEU over all sets.
    """
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    loader = DataLoader(
        stream,
        batch_size=None,
        num_workers=cfg.loader_workers,
        persistent_workers=cfg.loader_workers > 0,
        prefetch_factor=4 if cfg.loader_workers > 0 else None,
        pin_memory=device == "cuda",
    )
    model = state.model.to(device).train()
    state.ema.to(device)
    last_save = time.time()
    window: list[float] = []
    seen, started = 0, time.time()
    for images_cpu, tokens_cpu in loader:
        images = images_cpu.to(device, non_blocking=True)
        tokens = tokens_cpu.to(device, non_blocking=True)
        for group in state.optimizer.param_groups:
            group["lr"] = learning_rate(cfg, state.step)
        with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            logits = model(images, tokens[:, :-1])
        loss = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]),
            tokens[:, 1:].reshape(-1),
            ignore_index=PAD,
            label_smoothing=cfg.label_smoothing,
        )
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        state.optimizer.step()
        update_ema(state.ema, model, cfg.ema_decay if state.step > 1000 else 0.99)
        state.step += 1
        seen += images.shape[0]
        window.append(float(loss.detach()))
        if state.step % cfg.log_every == 0:
            rate = seen / (time.time() - started)
            log(
                {
                    "step": state.step,
                    "loss": float(np.mean(window)),
                    "lr": learning_rate(cfg, state.step),
                    "samples_per_s": round(rate, 2),
                    "shape": list(images.shape),
                }
            )
            window.clear()
        if state.step % cfg.eval_every == 0:
            scores = evaluate(state.ema, val, spec, state.tokens, cfg.max_tokens + 2, device=device)
            log({"step": state.step, "val": scores})
            if scores["bleu"] > state.best_bleu:
                state.best_bleu = scores["bleu"]
                save_state(state, cfg.run_dir / "best.pt", cfg, spec)
            if val_kinds:
                evaluate_kinds(state, cfg, scores, val_kinds, spec, log, device)
            model.train()
        if time.time() - last_save > cfg.checkpoint_minutes * 60:
            save_state(state, cfg.run_dir / "last.pt", cfg, spec)
            last_save = time.time()
        if time.time() >= deadline or (cfg.run_dir / "STOP").exists():
            break
    save_state(state, cfg.run_dir / "last.pt", cfg, spec)


def evaluate_kinds(
    state: TrainState,
    cfg: TrainConfig,
    main: dict[str, float],
    val_kinds: Mapping[str, Sequence[Sample]],
    spec: InputSpec,
    log: Logger,
    device: str,
) -> float:
    """Score each held-out kind, log them, keep ``best_mix.pt``; returns the mean BLEU."""
    kinds = {
        name: evaluate(state.ema, val, spec, state.tokens, cfg.max_tokens + 2, device=device)
        for name, val in val_kinds.items()
        if val
    }
    mix = float(np.mean([main["bleu"], *(s["bleu"] for s in kinds.values())]))
    log({"step": state.step, "val_kinds": kinds, "val_mix_bleu": mix})
    if mix > state.best_mix:
        state.best_mix = mix
        save_state(state, cfg.run_dir / "best_mix.pt", cfg, spec)
    return mix


def jsonl_logger(path: Path, echo: Callable[[str], None] | None = None) -> Logger:
    def log(record: dict[str, Any]) -> None:
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
        line = json.dumps(record)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        if echo is not None:
            echo(line)

    return log
