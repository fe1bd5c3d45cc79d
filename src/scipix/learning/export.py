"""Corrections as training pairs: ``scipix learning export --out pairs/``.

Writes a paired set as the training data's own (``labels.tsv``: ``image name<TAB>LaTeX`` per line,
and ``images/``), so ``scipix train --pairs pairs/`` (``training/recipe.py``) mixes it in like the
other paired sets, and ``training.corpus.load_paired`` reads it back. Each image is the cleaned
page the correction was made on (what the recognizer read); a correction made without an image
(``POST /v3/corrections`` with only a ``request_id``) has none and is skipped (counted).
Exporting again into the same folder rewrites it: the set is the corrections kept now.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scipix.errors import InputError
from scipix.learning.store import LearningStore

LABELS = "labels.tsv"
IMAGES = "images"


def export_pairs(store: LearningStore, out: Path, scope: str | None = None) -> dict[str, Any]:
    """Write ``out/labels.tsv`` and ``out/images/correction-<id>.png``; returns counts."""
    out = Path(out)
    try:
        (out / IMAGES).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out / IMAGES}: {exc}") from exc
    lines: list[str] = []
    skipped = 0
    for c in store.corrections(scope):
        if c.image is None:
            skipped += 1
            continue
        name = f"correction-{c.id}.png"
        (out / IMAGES / name).write_bytes(c.image)
        latex = " ".join(c.latex.split())  # one line per pair
        lines.append(f"{name}\t{latex}")
    tmp = out / (LABELS + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(out / LABELS)
    return {"out": str(out), "pairs": len(lines), "skipped_without_image": skipped}
