"""A GPU run's bundle: what a machine with no TeX and no network needs to continue training.

``make_bundle`` (here) writes a folder of at most ``max_mib``:

- ``state.pt``: the model to continue (EMA weights in fp16, vocabulary, configs, step);
- ``shards/``: dataset-cache shards (``training/cache.py`` format) with a sample of the paired
  sets (source ``paired/<set>``), their held-out split (``val/<set>``), and of the render caches
  (v1 and, when built, v2 with its ``val/`` renders);
- ``formulas.tsv.gz``: normalized training formulas (held-out ones left out) and their model
  tokens, which the GPU machine renders live with matplotlib's mathtext in its data-loader
  workers (tokens stored, so no LaTeX parsing is needed there);
- ``wheels/`` (written by ``scripts/gpu_train.py bundle``): the few pure-Python packages the GPU
  image lacks;
- ``manifest.json``: what went in.

``bundle_data`` (there) turns it back into a training mixture: the paired sets, the renders,
live mathtext renders (infinite variety: every draw a new font, size and augmentation) and the
capture kinds of mixture v2 over all of them.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from scipix.training.cache import DatasetCache, SampleMeta, write_shard
from scipix.training.capture import KINDS
from scipix.training.corpus import load_corpora, load_paired
from scipix.training.dataset import Mixture, Sample

MIB = 1024 * 1024
PAIRED = ("im2latex_val", "crohme", "hand")
#: Share of the bundle's image budget per part (the state and formulas come first).
BUDGET = {
    "paired/im2latex_val": 0.38,
    "paired/crohme": 0.12,
    "paired/hand": 0.05,
    "val/im2latex_val": 0.05,
    "rendered": 0.25,
    "v2": 0.15,
}
#: The GPU run's mixture (live mathtext renders make up for the small image sample).
GPU_MIXTURE: dict[str, float] = {
    "im2latex_val": 0.14,
    "crohme": 0.04,
    "hand": 0.02,
    "rendered": 0.12,
    "live": 0.24,
    "structure": 0.04,
    "photo": 0.14,
    "screen_photo": 0.05,
    "screenshot": 0.14,
    "low_res": 0.07,
}


def compact_state(source: Path) -> dict[str, Any]:
    """A checkpoint reduced to fp16 EMA weights + what resuming needs (``load_state`` reads it)."""
    payload = torch.load(source, map_location="cpu", weights_only=False)
    ema = payload.get("ema", payload.get("model"))
    keep = ("tokens", "model_config", "input_spec", "step", "train_config", "best_bleu")
    out = {k: payload[k] for k in keep if k in payload}
    out["ema"] = {k: v.half() if v.is_floating_point() else v for k, v in ema.items()}
    return out


def _png(image: np.ndarray) -> bytes:
    return bytes(cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes())


def _record(
    latex: str, source: str, image: np.ndarray, key: str, meta: SampleMeta | None
) -> dict[str, Any]:
    height, width = image.shape[:2]
    made = (meta.renderer, meta.engine, meta.font, meta.dpi) if meta else ("paired", "-", "-", 0)
    return {
        "key": key, "latex": latex, "source": source, "renderer": made[0], "engine": made[1],
        "font": made[2], "dpi": made[3], "height": height, "width": width,
    }  # fmt: skip


class _ShardFiller:
    """Writes (image, label) pairs into one shard until a byte budget is spent."""

    def __init__(self, path: Path, budget: int) -> None:
        self.path, self.budget, self.used = path, budget, 0
        self.records: list[dict[str, Any]] = []
        self.blobs: list[bytes] = []

    def add(
        self, latex: str, source: str, image: np.ndarray, meta: SampleMeta | None = None
    ) -> bool:
        blob = _png(image)
        if self.used + len(blob) > self.budget:
            return False
        key = f"{source}/{len(self.records)}"
        self.records.append(_record(latex, source, image, key, meta))
        self.blobs.append(blob)
        self.used += len(blob)
        return True

    def close(self) -> int:
        if self.records:
            write_shard(self.path, self.records, self.blobs)
        return len(self.records)


def _fill_paired(
    out: Path, data_root: Path, budget: int, rng: np.random.Generator
) -> dict[str, int]:
    counts = {}
    for name in PAIRED:
        split = load_paired(data_root / "train" / name)
        for side, items in (("paired", split.train), ("val", split.val)):
            part = f"{side}/{name}"
            if part not in BUDGET:
                continue
            filler = _ShardFiller(out / f"{side}-{name}.shard", int(budget * BUDGET[part]))
            for i in rng.permutation(len(items)):
                path, latex = items[int(i)]
                image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
                if image is not None and not filler.add(latex, part, image):
                    break
            counts[part] = filler.close()
    return counts


def _fill_cache(
    out: Path, name: str, cache: DatasetCache, budget: int, rng: np.random.Generator
) -> int:
    filler = _ShardFiller(out / f"{name}.shard", budget)
    for i in rng.permutation(len(cache)):
        meta = cache.meta(int(i))
        source = meta.source if meta.source.startswith(("val/", "structure/")) else name
        if meta.renderer == "mathjax" and not meta.source.startswith(("val/", "structure/")):
            source = "mathjax"
        if not filler.add(cache.label(int(i)), source, cache.image(int(i)), meta):
            break
    return filler.close()


def make_bundle(
    out: Path,
    state_path: Path,
    data_root: Path,
    cache_dir: Path,
    max_mib: float = 36.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Write the bundle folder ``out`` (see the module docstring); returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "shards").mkdir(exist_ok=True)
    torch.save(compact_state(state_path), out / "state.pt")
    corpus = load_corpora(data_root / "train")
    rows = sorted({f"{f.latex}\t{' '.join(f.tokens)}" for f in corpus.train if "\t" not in f.latex})
    lines = "\n".join(rows) + "\n"
    (out / "formulas.tsv.gz").write_bytes(gzip.compress(lines.encode("utf-8"), 9))
    fixed = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    budget = int(max_mib * MIB) - fixed - 3 * MIB  # room for the wheels
    rng = np.random.default_rng(seed)
    counts = _fill_paired(out / "shards", data_root, budget, rng)
    counts["rendered"] = _fill_cache(
        out / "shards", "rendered", DatasetCache(cache_dir), int(budget * BUDGET["rendered"]), rng
    )
    if (cache_dir / "v2").is_dir():
        v2 = DatasetCache(cache_dir / "v2")
        counts["v2"] = _fill_cache(out / "shards", "v2", v2, int(budget * BUDGET["v2"]), rng)
    manifest = {
        "state": str(state_path),
        "step": int(torch.load(out / "state.pt", weights_only=False).get("step", 0)),
        "formulas": lines.count("\n"),
        "images": counts,
        "mib": round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / MIB, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


# -- on the GPU machine -----------------------------------------------------------------------


@dataclass(frozen=True)
class LiveRender:
    """A sample image made when drawn: mathtext in a random font at a random size (picklable,
    so data-loader workers render in parallel)."""

    latex: str

    def __call__(self) -> np.ndarray:
        from scipix.training.mathtext import MATHTEXT_FONTS, MathtextRenderer

        rng = np.random.default_rng()
        font = MATHTEXT_FONTS[int(rng.integers(len(MATHTEXT_FONTS)))]
        outcome = MathtextRenderer(font).render_one(self.latex, int(rng.integers(70, 160)))
        if outcome.image is None:
            raise ValueError(outcome.error or "mathtext failed")
        return outcome.image


def live_formulas(path: Path, tokens: Sequence[str], max_tokens: int) -> list[Sample]:
    """Samples rendered when drawn, for the stored formulas mathtext can draw whose tokens the
    vocabulary ``tokens`` holds."""
    from scipix.training.mathtext import to_mathtext

    index = {t: i for i, t in enumerate(tokens)}
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    found = []
    for line in text.splitlines():
        latex, _, spelled = line.partition("\t")
        names = spelled.split()
        if not names or len(names) > max_tokens or to_mathtext(latex) is None:
            continue
        ids = tuple(index.get(t, -1) for t in names)
        if -1 not in ids:
            found.append(Sample(LiveRender(latex), ids))
    return found


def bundle_data(
    folder: Path, tokens: Sequence[str], max_tokens: int, val_size: int, seed: int
) -> tuple[Mixture, list[Sample], dict[str, list[Sample]], dict[str, int]]:
    """The GPU run's mixture, im2latex validation set, per-kind validation sets and counts."""
    from scipix.training.mixture_v2 import kind_samples, val_sets
    from scipix.training.recipe import encoder_for

    encode = encoder_for(tokens, max_tokens)
    cache = DatasetCache(folder / "shards")
    groups: dict[str, list[Sample]] = {}
    for i in range(len(cache)):
        source = cache.meta(i).source
        ids = encode(cache.label(i))
        if ids is None:
            continue
        group = source.split("/", 1)[-1] if source.startswith("paired/") else source
        group = "structure" if source.startswith("structure/") else group
        clean = source in ("paired/im2latex_val", "val/im2latex_val")
        groups.setdefault(group, []).append(Sample(partial(cache.image, i), ids, clean=clean))
    val = groups.pop("val/im2latex_val", [])[:val_size]
    for key in [k for k in groups if k.startswith("val/")]:
        groups.pop(key)
    renders = groups.get("rendered", []) + groups.get("mathjax", []) + groups.get("structure", [])
    groups["rendered"] = groups.get("rendered", []) + groups.pop("mathjax", [])
    groups["live"] = live_formulas(folder / "formulas.tsv.gz", tokens, max_tokens)
    for sample in groups["live"][:20]:  # matplotlib's font cache: built here, before the fork
        try:
            sample.load()
            break
        except ValueError:
            continue
    pool: Sequence[Sample] = renders + groups["live"][: 4 * len(renders) + 1000]
    for kind in KINDS:
        groups[kind] = kind_samples(pool, kind)
    sources = tuple(
        (name, GPU_MIXTURE.get(name, 0.0), groups.get(name, [])) for name in GPU_MIXTURE
    )
    kinds = val_sets(cache, encode, val_size // 5, seed)
    return Mixture(sources), val, kinds, {name: len(s) for name, s in groups.items()}
