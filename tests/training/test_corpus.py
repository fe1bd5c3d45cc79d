"""Corpora and paired sets: normalized, counted, deduplicated, split by hash; the vocabulary."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from scipix.errors import InputError
from scipix.training.corpus import (
    BOS,
    EOS,
    PAD,
    SPECIALS,
    UNK,
    Vocab,
    build_vocab,
    load_corpora,
    load_paired,
    split_of,
)


def write_corpora(root: Path) -> Path:
    train = root / "train"
    train.mkdir(parents=True)
    (train / "alpha.txt").write_text(
        "x^2+1\n"
        "x^{2}+1\n"  # the same formula after normalization
        "\\frac{a}{b\n"  # does not parse
        "\n"
        "\\frac12\n"
    )
    (train / "beta.txt").write_text(
        "\\frac{1}{2}\n\\sqrt{y}\n" + "".join(f"a_{{{i}}}\n" for i in range(200))
    )
    (root / "bench").mkdir()
    (root / "bench" / "secret.txt").write_text("\\int z\n")
    return root


def test_corpora_are_normalized_deduplicated_and_counted(tmp_path: Path) -> None:
    corpus = load_corpora(write_corpora(tmp_path))
    assert corpus.stats["alpha"] == {
        "read": 4,
        "unparsable": 1,
        "duplicates": 1,
        "train": corpus.stats["alpha"]["train"],
        "val": corpus.stats["alpha"]["val"],
    }
    assert corpus.stats["alpha"]["train"] + corpus.stats["alpha"]["val"] == 2
    assert corpus.stats["beta"]["duplicates"] == 1  # \frac{1}{2} was already in alpha
    formulas = corpus.train + corpus.val
    assert len(formulas) == 2 + 201
    latexes = {f.latex for f in formulas}
    assert "x^{2}+1" in latexes and "\\frac{1}{2}" in latexes
    assert not any("\\int" in f.latex for f in formulas), "read outside train/"
    one = next(f for f in formulas if f.latex == "\\frac{1}{2}")
    assert one.tokens == ("\\frac", "{", "1", "}", "{", "2", "}") and one.source == "alpha"


def test_split_is_deterministic_and_about_the_fraction(tmp_path: Path) -> None:
    root = write_corpora(tmp_path)
    first, second = load_corpora(root), load_corpora(root / "train")
    assert [f.latex for f in first.val] == [f.latex for f in second.val]
    assert all(split_of(f.latex) == "val" for f in first.val)
    names = [f"z_{{{i}}}" for i in range(4000)]
    share = sum(split_of(n, 0.1) == "val" for n in names) / len(names)
    assert 0.08 < share < 0.12


def test_missing_corpora_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no formula corpora"):
        load_corpora(tmp_path)


def test_paired_set_yields_image_paths_and_normalized_labels(tmp_path: Path) -> None:
    folder = tmp_path / "hand"
    (folder / "images").mkdir(parents=True)
    image = np.full((20, 40), 255, np.uint8)
    image[5:15, 10:12] = 0
    labels = []
    for i in range(40):
        cv2.imwrite(str(folder / "images" / f"{i}.png"), image)
        labels.append(f"{i}.png\tx _ {{ {i} }}")
    labels += ["gone.png\tx", "0.png\t\\frac{", "no tab here"]
    (folder / "labels.tsv").write_text("\n".join(labels) + "\n")
    split = load_paired(folder)
    assert split.stats["read"] == 42
    assert split.stats["missing_images"] == 1 and split.stats["unparsable"] == 1
    pairs = split.train + split.val
    assert len(pairs) == 40
    path, latex = pairs[0]
    assert path.is_file() and latex.startswith("x_{")
    assert {latex for _, latex in split.val} == {
        latex for _, latex in pairs if split_of(latex) == "val"
    }
    with pytest.raises(InputError):
        load_paired(tmp_path / "nothing")


def test_vocabulary_reserves_specials_and_cuts_rare_tokens() -> None:
    vocab = build_vocab([["x", "^", "{", "2", "}"], ["x", "+", "y"], ["x", "^", "{", "3", "}"]], 2)
    assert vocab.tokens[:4] == SPECIALS == ("<pad>", "<bos>", "<eos>", "<unk>")
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    assert vocab.tokens[4] == "x"  # the most frequent first
    assert "y" not in vocab and "^" in vocab
    ids = vocab.encode(["x", "y"], add_special=True)
    assert ids == [BOS, vocab.id("x"), UNK, EOS]
    assert vocab.decode([BOS, vocab.id("x"), UNK, EOS, vocab.id("x"), PAD]) == ["x", "<unk>"]
    assert Vocab.from_json(vocab.to_json()) == vocab
    assert build_vocab([["b", "a"], ["a", "b"]]).tokens[4:] == ("a", "b")  # ties by name
