"""The formula recognizer in PyTorch: a compact CNN encoder and a Transformer decoder.

Encoder: four convolution stages (stride 8 overall) over a grayscale crop (ink 1.0 on 0.0),
a 1x1 projection to ``d_model``, 2-D sinusoidal positions, optional Transformer encoder layers.
Decoder: pre-LayerNorm Transformer with causal self-attention and cross-attention, tied input
and output embeddings. ``step`` decodes one token with cached keys/values; it is what the ONNX
decoder runs at inference (``recognition/`` never imports torch).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    d_model: int = 256
    channels: tuple[int, int, int, int] = (32, 64, 128, 256)
    enc_layers: int = 1
    dec_layers: int = 3
    heads: int = 8
    ff: int = 1024
    dropout: float = 0.1
    max_len: int = 256
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        data = dict(data)
        data["channels"] = tuple(data["channels"])
        return cls(**data)


def sinusoid(length: int, dim: int) -> Tensor:
    """(length, dim) sinusoidal table, sin and cos interleaved (traceable: no in-place writes)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    angles = pos * div
    return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).reshape(-1, dim)


def positions_2d(height: int, width: int, dim: int, device: torch.device) -> Tensor:
    """(height*width, dim): half the channels encode the row, half the column."""
    half = dim // 2
    rows = sinusoid(height, half).to(device)
    cols = sinusoid(width, half).to(device)
    grid = torch.cat(
        [
            rows[:, None, :].expand(height, width, half),
            cols[None, :, :].expand(height, width, half),
        ],
        dim=-1,
    )
    return grid.reshape(height * width, dim)


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with a residual shortcut, then 2x2 max pooling."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.max_pool2d(F.relu(y + self.short(x)), 2)


class Encoder(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        c0, c1, c2, c3 = cfg.channels
        self.stem = nn.Sequential(
            nn.Conv2d(1, c0, 3, padding=1, bias=False),
            nn.BatchNorm2d(c0),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(c0, c1, 3, padding=1, bias=False),
            nn.BatchNorm2d(c1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.block1 = ConvBlock(c1, c2)
        self.block2 = ConvBlock(c2, c3)
        self.proj = nn.Conv2d(c3, cfg.d_model, 1)
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg.enc_layers)])
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, images: Tensor) -> Tensor:
        """(B, 1, H, W) -> memory (B, H/8 * W/8, d_model)."""
        x = self.proj(self.block2(self.block1(self.stem(images))))
        _, d, h, w = x.shape
        x = x.flatten(2).transpose(1, 2) + positions_2d(h, w, d, x.device)[None]
        for layer in self.layers:
            x = layer(x)
        out: Tensor = self.norm(x)
        return out


class Attention(nn.Module):
    def __init__(self, d_model: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dh = heads, d_model // heads
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def split(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.dh).transpose(1, 2)

    def keys_values(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k, v = self.kv(x).chunk(2, dim=-1)
        return self.split(k), self.split(v)

    def attend(self, x: Tensor, k: Tensor, v: Tensor, causal: bool) -> Tensor:
        q = self.split(self.q(x))
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=causal)
        b, _, t, _ = y.shape
        out: Tensor = self.out(y.transpose(1, 2).reshape(b, t, self.heads * self.dh))
        return out


def feed_forward(cfg: ModelConfig) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(cfg.d_model, cfg.ff),
        nn.GELU(),
        nn.Dropout(cfg.dropout),
        nn.Linear(cfg.ff, cfg.d_model),
    )


class EncoderLayer(nn.Module):
    """Pre-LayerNorm self-attention over the feature map's positions."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg.d_model, cfg.heads, cfg.dropout)
        self.ff = feed_forward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm1(x)
        k, v = self.attn.keys_values(h)
        x = x + self.drop(self.attn.attend(h, k, v, causal=False))
        out: Tensor = x + self.drop(self.ff(self.norm2(x)))
        return out


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = Attention(d, cfg.heads, cfg.dropout)
        self.cross_attn = Attention(d, cfg.heads, cfg.dropout)
        self.ff = feed_forward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor, cross_k: Tensor, cross_v: Tensor) -> Tensor:
        h = self.norm1(x)
        k, v = self.self_attn.keys_values(h)
        x = x + self.drop(self.self_attn.attend(h, k, v, causal=True))
        x = x + self.drop(self.cross_attn.attend(self.norm2(x), cross_k, cross_v, causal=False))
        out: Tensor = x + self.drop(self.ff(self.norm3(x)))
        return out

    def step(
        self, x: Tensor, cross_k: Tensor, cross_v: Tensor, past_k: Tensor, past_v: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One new position (B, 1, d) against cached keys/values (B, heads, T, dh)."""
        h = self.norm1(x)
        k, v = self.self_attn.keys_values(h)
        k, v = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
        x = x + self.self_attn.attend(h, k, v, causal=False)
        x = x + self.cross_attn.attend(self.norm2(x), cross_k, cross_v, causal=False)
        return x + self.ff(self.norm3(x)), k, v


class Decoder(nn.Module):
    pos: Tensor

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        nn.init.normal_(self.embed.weight, std=cfg.d_model**-0.5)  # unit-scale tied logits
        self.register_buffer("pos", sinusoid(cfg.max_len + 1, cfg.d_model), persistent=False)
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.dec_layers)])
        self.norm = nn.LayerNorm(cfg.d_model)
        self.scale = math.sqrt(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def cross_cache(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        """Cross-attention keys and values of every layer: (L, B, heads, S, dh) each."""
        kvs = [layer.cross_attn.keys_values(memory) for layer in self.blocks()]
        return torch.stack([k for k, _ in kvs]), torch.stack([v for _, v in kvs])

    def blocks(self) -> list[DecoderLayer]:
        return [cast(DecoderLayer, layer) for layer in self.layers]

    def logits(self, x: Tensor) -> Tensor:
        return F.linear(self.norm(x), self.embed.weight)

    def forward(self, tokens: Tensor, memory: Tensor) -> Tensor:
        """Teacher forcing: (B, T) tokens -> (B, T, vocab) logits."""
        t = tokens.shape[1]
        x = self.drop(self.embed(tokens) * self.scale + self.pos[:t][None])
        cross_k, cross_v = self.cross_cache(memory)
        for i, layer in enumerate(self.layers):
            x = layer(x, cross_k[i], cross_v[i])
        return self.logits(x)

    def step(
        self,
        tokens: Tensor,
        position: Tensor,
        cross_k: Tensor,
        cross_v: Tensor,
        past_k: Tensor,
        past_v: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """(N, 1) tokens at ``position`` -> (N, vocab) log-probs and the grown caches."""
        x = self.embed(tokens) * self.scale + self.pos[position][None, None]
        new_k, new_v = [], []
        for i, layer in enumerate(self.blocks()):
            x, k, v = layer.step(x, cross_k[i], cross_v[i], past_k[i], past_v[i])
            new_k.append(k)
            new_v.append(v)
        logp = F.log_softmax(self.logits(x)[:, -1], dim=-1)
        return logp, torch.stack(new_k), torch.stack(new_v)


class FormulaModel(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def forward(self, images: Tensor, tokens: Tensor) -> Tensor:
        out: Tensor = self.decoder(tokens, self.encoder(images))
        return out

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


class EncoderExport(nn.Module):
    """What ``encoder.onnx`` computes: image -> pooled embedding and cross-attention caches."""

    def __init__(self, model: FormulaModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        memory = self.model.encoder(images)
        cross_k, cross_v = self.model.decoder.cross_cache(memory)
        embedding = F.normalize(memory.mean(dim=1), dim=-1)
        return embedding, cross_k, cross_v


class DecoderExport(nn.Module):
    """What ``decoder.onnx`` computes: one decoding step with key/value caches."""

    def __init__(self, model: FormulaModel) -> None:
        super().__init__()
        self.decoder = model.decoder

    def forward(
        self,
        tokens: Tensor,
        position: Tensor,
        cross_k: Tensor,
        cross_v: Tensor,
        past_k: Tensor,
        past_v: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        return self.decoder.step(tokens, position, cross_k, cross_v, past_k, past_v)
