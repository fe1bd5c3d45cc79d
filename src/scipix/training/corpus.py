"""Formula corpora and paired image sets, normalized, deduplicated and split; the vocabulary.

Reads only ``<data_root>/train/``: the ``*.txt`` corpora (one formula a line) and the paired sets
``im2latex_val``, ``crohme``, ``hand`` (``labels.tsv`` + ``images/``). Never the benchmarks.
A formula that the renderers cannot typeset is still a formula here; the cache counts those.
Every formula is normalized with the LaTeX core; one that does not parse is dropped and counted.
The train/validation split is a hash of the normalized formula, so it is the same on every
machine and run, and a formula is on the same side in the corpora and in the image sets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from scipix.errors import InputError, LatexError
from scipix.latex import NormalizeOptions, detokenize, model_tokens

SPECIALS: tuple[str, ...] = ("<pad>", "<bos>", "<eos>", "<unk>")
PAD, BOS, EOS, UNK = 0, 1, 2, 3
PAIRED_SETS: tuple[str, ...] = ("im2latex_val", "crohme", "hand")
#: Sources written with a space between all tokens (im2latex style): the spaces inside their
#: ``\\text{..}`` are tokenization, not content, so they are dropped (``drop_text_spaces``).
SPACE_TOKENIZED = frozenset({"im2latex_val", "arxiv_texnet", "hand"})
DEFAULT_VAL_FRACTION = 0.04


@dataclass(frozen=True)
class Formula:
    latex: str  # normalized
    tokens: tuple[str, ...]
    source: str


@dataclass
class Corpus:
    train: list[Formula]
    val: list[Formula]
    #: per source: read, unparsable, duplicates, train, val
    stats: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class PairedSplit:
    """One paired image set: (image path, normalized label) pairs on each side."""

    train: list[tuple[Path, str]]
    val: list[tuple[Path, str]]
    stats: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("read", "unparsable", "missing_images", "train", "val"), 0
        )
    )


def split_of(latex: str, val_fraction: float = DEFAULT_VAL_FRACTION) -> Literal["train", "val"]:
    """``val`` for a fixed ``val_fraction`` of all formulas, chosen by a hash of ``latex``."""
    digest = hashlib.blake2b(latex.encode("utf-8"), digest_size=8).digest()
    return "val" if int.from_bytes(digest, "little") / 2**64 < val_fraction else "train"


def label_options(options: NormalizeOptions | None = None, source: str = "") -> NormalizeOptions:
    """The options for one source's labels: ``options`` (default: every lossy rewrite a label
    wants), with ``drop_text_spaces`` for a space-tokenized source."""
    chosen = options if options is not None else NormalizeOptions.for_labels()
    if source in SPACE_TOKENIZED and not chosen.drop_text_spaces:
        chosen = dataclasses.replace(chosen, drop_text_spaces=True)
    return chosen


def normalized(raw: str, options: NormalizeOptions | None = None) -> tuple[str, tuple[str, ...]]:
    """The canonical form of ``raw`` and its model tokens; LatexError when it does not parse.

    ``options=None`` means :meth:`NormalizeOptions.for_labels`.
    """
    tokens = tuple(model_tokens(raw, label_options(options)))
    if not tokens:
        raise LatexError("empty formula")
    return detokenize(tokens), tokens


def _corpus_dir(data_root: Path) -> Path:
    """``data_root/train`` (the data folder was given) or ``data_root`` itself (train/ was)."""
    for folder in (data_root / "train", data_root):
        if folder.is_dir() and any(folder.glob("*.txt")):
            return folder
    raise InputError(f"no formula corpora (*.txt) in {data_root} or {data_root / 'train'}")


def load_corpora(
    data_root: Path,
    options: NormalizeOptions | None = None,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    sources: Sequence[str] | None = None,
) -> Corpus:
    """Every ``train/*.txt`` corpus (or only ``sources``), normalized, deduplicated, split.

    ``data_root`` is the data folder (holding ``train/``) or ``train/`` itself; ``options=None``
    means :meth:`NormalizeOptions.for_labels` (see :func:`label_options`).

    A formula seen in an earlier source (sources in name order) counts as a duplicate of the
    later one.
    """
    files = sorted(_corpus_dir(data_root).glob("*.txt"))
    if sources is not None:
        files = [f for f in files if f.stem in sources]
    corpus = Corpus([], [])
    seen: set[str] = set()
    for path in files:
        stats = dict.fromkeys(("read", "unparsable", "duplicates", "train", "val"), 0)
        source_options = label_options(options, path.stem)
        for raw in path.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            stats["read"] += 1
            try:
                latex, tokens = normalized(raw, source_options)
            except LatexError:
                stats["unparsable"] += 1
                continue
            if latex in seen:
                stats["duplicates"] += 1
                continue
            seen.add(latex)
            side = split_of(latex, val_fraction)
            stats[side] += 1
            (corpus.val if side == "val" else corpus.train).append(
                Formula(latex, tokens, path.stem)
            )
        corpus.stats[path.stem] = stats
    return corpus


def load_paired(
    set_dir: Path,
    options: NormalizeOptions | None = None,
    val_fraction: float = DEFAULT_VAL_FRACTION,
) -> PairedSplit:
    """One paired set (``labels.tsv`` + ``images/``): (image path, normalized label) pairs,
    split by the label's hash. A label that does not parse or a missing image is counted."""
    labels = set_dir / "labels.tsv"
    if not labels.is_file():
        raise InputError(f"no {labels} (a paired set is labels.tsv + images/)")
    set_options = label_options(options, set_dir.name)
    result = PairedSplit([], [])
    stats = result.stats
    for line in labels.read_text(encoding="utf-8").splitlines():
        image_name, sep, raw = line.partition("\t")
        if not sep:
            continue
        stats["read"] += 1
        image = set_dir / "images" / image_name.strip()
        if not image.is_file():
            stats["missing_images"] += 1
            continue
        try:
            latex, _ = normalized(raw, set_options)
        except LatexError:
            stats["unparsable"] += 1
            continue
        side = split_of(latex, val_fraction)
        stats[side] += 1
        (result.val if side == "val" else result.train).append((image, latex))
    return result


def generated_formulas(
    n: int, seed: int = 0, options: NormalizeOptions | None = None
) -> list[Formula]:
    """``n`` normalized formulas from the random grammar (drawn until ``n`` parse)."""
    from scipix.training.generator import FormulaGenerator

    generator, rng = FormulaGenerator(), np.random.default_rng(seed)
    found: list[Formula] = []
    for _ in range(4 * n + 10):
        if len(found) >= n:
            break
        try:
            latex, tokens = normalized(generator.formula(rng), options)
        except LatexError:
            continue
        found.append(Formula(latex, tokens, "generator"))
    return found


def sample_formulas(
    n: int,
    source: str,
    data_root: Path,
    seed: int = 0,
    options: NormalizeOptions | None = None,
) -> list[Formula]:
    """``n`` training formulas from ``generator``, the ``corpus`` train split, or ``mixed``."""
    from_generator = n if source == "generator" else n // 2 if source == "mixed" else 0
    formulas = generated_formulas(from_generator, seed, options) if from_generator else []
    if source in ("corpus", "mixed"):
        train = load_corpora(data_root, options).train
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(train), size=min(n - from_generator, len(train)), replace=False)
        formulas += [train[int(i)] for i in sorted(picks)]
    return formulas


@dataclass(frozen=True)
class Vocab:
    """Token <-> id, with ``<pad>=0, <bos>=1, <eos>=2, <unk>=3`` reserved."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.tokens[: len(SPECIALS)] != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        object.__setattr__(self, "_ids", {t: i for i, t in enumerate(self.tokens)})

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    @property
    def _index(self) -> dict[str, int]:
        ids: dict[str, int] = self.__dict__["_ids"]
        return ids

    def id(self, token: str) -> int:
        return self._index.get(token, UNK)

    def encode(self, tokens: Iterable[str], add_special: bool = False) -> list[int]:
        """Ids of ``tokens`` (unknown ones as ``<unk>``), wrapped in ``<bos>``/``<eos>`` on
        request."""
        ids = [self._index.get(t, UNK) for t in tokens]
        return [BOS, *ids, EOS] if add_special else ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``: stops at ``<eos>``, skips ``<pad>`` and ``<bos>``."""
        out: list[str] = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            out.append(self.tokens[i] if 0 <= i < len(self.tokens) else SPECIALS[UNK])
        return out

    def to_json(self) -> str:
        return json.dumps({"tokens": list(self.tokens)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        return cls(tuple(json.loads(text)["tokens"]))


def build_vocab(token_lists: Iterable[Sequence[str]], min_count: int = 1) -> Vocab:
    """Every token seen at least ``min_count`` times, most frequent first (ties by name)."""
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    kept = sorted(
        (t for t, c in counts.items() if c >= min_count and t not in SPECIALS),
        key=lambda t: (-counts[t], t),
    )
    return Vocab(SPECIALS + tuple(kept))
