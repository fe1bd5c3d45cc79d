"""Training hyper-parameters (their own TOML file, not runtime settings)."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from scipix.errors import ConfigError


@dataclass(frozen=True)
class SourceWeight:
    """One data source of the training mixture and its share of the samples drawn."""

    name: str  # im2latex_val | crohme | hand | rendered
    weight: float


@dataclass(frozen=True)
class TrainConfig:
    run_dir: Path = Path("runs/formula")
    data_root: Path = Path("../shared/data")
    cache_dir: Path | None = None  # rendered-sample cache; None = ~/.cache/scipix/data
    sources: tuple[SourceWeight, ...] = (
        SourceWeight("im2latex_val", 0.45),
        SourceWeight("rendered", 0.45),
        SourceWeight("crohme", 0.07),
        SourceWeight("hand", 0.03),
    )
    seed: int = 17
    # model
    d_model: int = 256
    channels: tuple[int, int, int, int] = (32, 64, 128, 256)
    enc_layers: int = 1
    dec_layers: int = 3
    heads: int = 8
    ff: int = 1024
    dropout: float = 0.1
    max_tokens: int = 160  # longer labels are skipped
    min_count: int = 2  # vocabulary frequency cut-off
    # optimisation
    batch_size: int = 24
    lr: float = 8e-4
    weight_decay: float = 0.01
    warmup_steps: int = 400
    total_steps: int = 60_000  # the cosine schedule's length (resumes continue it)
    min_lr_ratio: float = 0.05
    label_smoothing: float = 0.1
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    bf16: bool = True  # autocast matrix work to bfloat16 (about 1.35x faster on AVX-512 CPUs)
    augment_max: float = 0.7  # augmentation level drawn from [0, augment_max]
    clean_share: float = 0.35  # share of samples left without augmentation
    scale_jitter: float = 0.2  # extra random resize of a prepared sample, ±
    # book-keeping
    threads: int = 2
    loader_workers: int = 1
    val_size: int = 300
    eval_every: int = 1000
    checkpoint_minutes: float = 10.0
    log_every: int = 25
    # exported corrections (scipix learning export) mixed in, each with this share
    pairs: tuple[Path, ...] = ()
    pairs_weight: float = 0.05
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        data["data_root"] = str(self.data_root)
        data["cache_dir"] = str(self.cache_dir) if self.cache_dir else None
        data["pairs"] = [str(p) for p in self.pairs]
        return data


def load_train_config(path: Path | None, **overrides: Any) -> TrainConfig:
    """Defaults, then a TOML file (flat keys; ``[[sources]]`` tables), then ``overrides``."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}", path=str(path)) from exc
    data.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown training keys: {', '.join(unknown)}")
    for key in ("run_dir", "data_root", "cache_dir"):
        if data.get(key) is not None:
            data[key] = Path(data[key])
    if "sources" in data:
        data["sources"] = tuple(SourceWeight(**s) for s in data["sources"])
    if "pairs" in data:
        data["pairs"] = tuple(Path(p) for p in data["pairs"])
    if "channels" in data:
        data["channels"] = tuple(data["channels"])
    return TrainConfig(**data)
