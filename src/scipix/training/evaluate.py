"""Evaluation: a recognizer (or a file of its predictions) against labelled images.

Scores, all over model tokens after normalization with the LaTeX core: exact match, corpus
BLEU-4, token edit similarity, and rendered match (prediction and label typeset by TeX, cropped,
blank columns removed, compared as images: the im2latex "match -ws"). Broken down by label
length and by construct, with per-image latency when a recognizer runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from scipix.errors import LatexError, ScipixError
from scipix.latex import NormalizeOptions, model_tokens
from scipix.latex.tokenizer import tokenize
from scipix.training.metrics import (
    LENGTH_BUCKETS,
    bleu4,
    constructs_of,
    edit_similarity,
    exact_match,
    images_match,
    length_bucket,
)
from scipix.training.render import TexRenderer, tex_available


class RecognitionLike(Protocol):
    @property
    def latex(self) -> str: ...

    @property
    def confidence(self) -> float: ...


class RecognizerLike(Protocol):
    """What evaluation needs of a recognizer (``scipix.recognition.FormulaRecognizer``)."""

    def recognize(
        self, images: Sequence[npt.NDArray[np.uint8]], beam_width: int | None = None
    ) -> Sequence[RecognitionLike]: ...


@dataclass(frozen=True)
class EvalPair:
    name: str
    image: Path
    label: str


@dataclass(frozen=True)
class Prediction:
    latex: str
    latency_s: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class ItemScore:
    name: str
    label_tokens: tuple[str, ...]
    prediction_tokens: tuple[str, ...]
    parsed: bool  # the prediction normalized without error
    exact: bool
    edit: float
    rendered: bool | None  # None: not measured (no TeX, or the label does not render)
    latency_s: float | None
    constructs: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class Summary:
    n: int
    exact: float
    bleu4: float
    edit: float
    rendered: float | None

    @classmethod
    def of(cls, items: Sequence[ItemScore]) -> Summary:
        if not items:
            return cls(0, 0.0, 0.0, 0.0, None)
        rendered = [i.rendered for i in items if i.rendered is not None]
        return cls(
            n=len(items),
            exact=float(np.mean([i.exact for i in items])),
            bleu4=bleu4(
                [list(i.label_tokens) for i in items], [list(i.prediction_tokens) for i in items]
            ),
            edit=float(np.mean([i.edit for i in items])),
            rendered=float(np.mean(rendered)) if rendered else None,
        )

    def to_dict(self) -> dict[str, Any]:
        rendered = None if self.rendered is None else round(self.rendered, 4)
        return {
            "n": self.n,
            "exact": round(self.exact, 4),
            "bleu4": round(self.bleu4, 4),
            "edit": round(self.edit, 4),
            "rendered": rendered,
        }


@dataclass
class EvalReport:
    overall: Summary
    by_length: dict[str, Summary]
    by_construct: dict[str, Summary]
    latency_ms: dict[str, float] | None
    counts: dict[str, int]
    items: list[ItemScore] = field(repr=False, default_factory=list)

    def to_dict(self, items: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "overall": self.overall.to_dict(),
            "by_length": {k: v.to_dict() for k, v in self.by_length.items()},
            "by_construct": {k: v.to_dict() for k, v in self.by_construct.items()},
            "latency_ms": self.latency_ms,
            "counts": self.counts,
        }
        if items:
            data["items"] = [
                {
                    "name": i.name,
                    "label": " ".join(i.label_tokens),
                    "prediction": " ".join(i.prediction_tokens),
                    "exact": i.exact,
                    "edit": round(i.edit, 4),
                    "rendered": i.rendered,
                    "error": i.error,
                }
                for i in self.items
            ]
        return data

    def table(self) -> str:
        """A short plain-text table: overall, then each length bucket and construct."""
        lines = [f"{'':<16}{'n':>6}{'exact':>8}{'BLEU-4':>8}{'edit':>8}{'render':>8}"]
        rows = [("overall", self.overall)]
        rows += [(f"len {k}", v) for k, v in self.by_length.items()]
        rows += [(k, v) for k, v in self.by_construct.items()]
        for name, s in rows:
            rendered = "-" if s.rendered is None else f"{s.rendered:.3f}"
            lines.append(
                f"{name:<16}{s.n:>6}{s.exact:>8.3f}{s.bleu4:>8.3f}{s.edit:>8.3f}{rendered:>8}"
            )
        if self.latency_ms:
            lat = self.latency_ms
            lines.append(
                f"latency per image: mean {lat['mean']:.1f} ms, p50 {lat['p50']:.1f} ms,"
                f" p95 {lat['p95']:.1f} ms"
            )
        lines.append(", ".join(f"{k} {v}" for k, v in self.counts.items()))
        return "\n".join(lines)


def read_labels(path: Path, images: Path | None = None, limit: int | None = None) -> list[EvalPair]:
    """``NAME<TAB>LATEX`` lines; images in ``images`` (default: ``images/`` beside the file)."""
    folder = images if images is not None else path.parent / "images"
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, label = line.partition("\t")
        if not sep:
            raise ScipixError(f"{path}:{number}: expected NAME<TAB>LATEX")
        pairs.append(EvalPair(name.strip(), folder / name.strip(), label.strip()))
        if limit is not None and len(pairs) >= limit:
            break
    return pairs


#: How labels and predictions are compared: every lossy rewrite of training labels, and spaces
#: inside ``\\text{..}`` ignored (the im2latex labels are space-tokenized).
EVAL_OPTIONS = NormalizeOptions.for_labels(drop_text_spaces=True)


def tokens_of(latex: str, options: NormalizeOptions | None) -> tuple[tuple[str, ...], bool]:
    """Model tokens of the normalized form (``options=None``: :data:`EVAL_OPTIONS`), and whether
    it normalized; when it does not, its raw tokens (a near-miss still earns BLEU and edit)."""
    try:
        return tuple(model_tokens(latex, options or EVAL_OPTIONS)), True
    except LatexError:
        return tuple(t.text for t in tokenize(latex) if t.kind not in ("space", "comment")), False


def rendered_matches(
    labels: Sequence[str], predictions: Sequence[str], jobs: int = 1, chunk: int = 32
) -> list[bool | None]:
    """Typeset each (label, prediction) pair with TeX and compare the images.

    None where the label itself does not render (or TeX is missing); False where only the
    prediction does not.
    """
    if not tex_available() or not labels:
        return [None] * len(labels)
    renderer = TexRenderer("cm", margin=0)
    sources = list(labels) + list(predictions)
    pieces = [sources[i : i + chunk] for i in range(0, len(sources), chunk)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        outcomes = [o for part in pool.map(lambda p: renderer.render(p, 120), pieces) for o in part]
    results: list[bool | None] = []
    for label, prediction in zip(outcomes[: len(labels)], outcomes[len(labels) :], strict=True):
        if label.image is None:
            results.append(None)
        else:
            results.append(
                prediction.image is not None and images_match(label.image, prediction.image)
            )
    return results


def score(
    pairs: Sequence[EvalPair],
    predictions: Mapping[str, Prediction],
    options: NormalizeOptions | None = None,
    render_match: bool = True,
    jobs: int = 1,
) -> EvalReport:
    """Score ``predictions`` (by image name) against ``pairs``; a missing one counts as empty."""
    counts = {"images": len(pairs), "missing": 0, "failed": 0, "unparsable": 0, "bad_labels": 0}
    items: list[ItemScore] = []
    to_render: list[int] = []
    for pair in pairs:
        prediction = predictions.get(pair.name)
        if prediction is None:
            counts["missing"] += 1
            prediction = Prediction("", error="no prediction")
        elif prediction.error is not None:
            counts["failed"] += 1
        label_tokens, label_ok = tokens_of(pair.label, options)
        counts["bad_labels"] += not label_ok
        tokens, parsed = tokens_of(prediction.latex, options)
        counts["unparsable"] += not parsed and prediction.error is None
        exact = exact_match(label_tokens, tokens)
        if not exact and parsed and label_ok:
            to_render.append(len(items))
        items.append(
            ItemScore(
                pair.name,
                label_tokens,
                tokens,
                parsed,
                exact,
                edit_similarity(label_tokens, tokens),
                True if exact else None,
                prediction.latency_s,
                constructs_of(label_tokens),
                prediction.error,
            )
        )
    if render_match and tex_available():
        _fill_rendered(items, to_render, pairs, predictions, jobs)
    else:
        items = [_replace_rendered(i, None) for i in items]
    return _report(items, counts)


def _fill_rendered(
    items: list[ItemScore],
    indices: list[int],
    pairs: Sequence[EvalPair],
    predictions: Mapping[str, Prediction],
    jobs: int,
) -> None:
    """Render the non-exact pairs; what is neither exact nor rendered stays False."""
    labels = [pairs[i].label for i in indices]
    guesses = [predictions[pairs[i].name].latex for i in indices]
    found = dict(zip(indices, rendered_matches(labels, guesses, jobs), strict=True))
    for k, item in enumerate(items):
        if not item.exact:
            items[k] = _replace_rendered(item, found.get(k, False if item.label_tokens else None))


def _replace_rendered(item: ItemScore, value: bool | None) -> ItemScore:
    return replace(item, rendered=value)


def _report(items: list[ItemScore], counts: dict[str, int]) -> EvalReport:
    by_length: dict[str, list[ItemScore]] = {}
    by_construct: dict[str, list[ItemScore]] = {}
    for item in items:
        by_length.setdefault(length_bucket(len(item.label_tokens)), []).append(item)
        for construct in item.constructs:
            by_construct.setdefault(construct, []).append(item)
    order = [length_bucket(b) for b in (*LENGTH_BUCKETS, LENGTH_BUCKETS[-1] + 1)]
    latencies = [i.latency_s for i in items if i.latency_s is not None]
    latency = None
    if latencies:
        ms = np.array(latencies) * 1000.0
        latency = {
            "mean": float(ms.mean()),
            "p50": float(np.percentile(ms, 50)),
            "p95": float(np.percentile(ms, 95)),
        }
    return EvalReport(
        overall=Summary.of(items),
        by_length={k: Summary.of(by_length[k]) for k in order if k in by_length},
        by_construct={k: Summary.of(v) for k, v in sorted(by_construct.items())},
        latency_ms=latency,
        counts=counts,
        items=items,
    )


def recognize_all(
    recognizer: RecognizerLike,
    pairs: Sequence[EvalPair],
    beam_width: int | None = None,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Prediction]:
    """Run the recognizer over every image, in batches; a batch that fails is retried image by
    image, so one bad image costs only itself."""
    predictions: dict[str, Prediction] = {}
    for start in range(0, len(pairs), batch_size):
        batch = pairs[start : start + batch_size]
        images: list[tuple[EvalPair, npt.NDArray[np.uint8]]] = []
        for pair in batch:
            image = cv2.imread(str(pair.image), cv2.IMREAD_GRAYSCALE)
            if image is None:
                predictions[pair.name] = Prediction("", error=f"cannot read {pair.image}")
            else:
                images.append((pair, np.asarray(image, dtype=np.uint8)))
        predictions.update(_recognize_batch(recognizer, images, beam_width))
        if progress is not None:
            progress(min(start + batch_size, len(pairs)), len(pairs))
    return predictions


def _recognize_batch(
    recognizer: RecognizerLike,
    images: list[tuple[EvalPair, npt.NDArray[np.uint8]]],
    beam_width: int | None,
) -> dict[str, Prediction]:
    if not images:
        return {}
    started = time.perf_counter()
    try:
        results = recognizer.recognize([im for _, im in images], beam_width=beam_width)
    except ScipixError as exc:
        if len(images) == 1:
            return {images[0][0].name: Prediction("", error=f"{exc.error_id}: {exc.message}")}
        found: dict[str, Prediction] = {}
        for item in images:
            found.update(_recognize_batch(recognizer, [item], beam_width))
        return found
    per_image = (time.perf_counter() - started) / len(images)
    return {
        pair.name: Prediction(r.latex, per_image)
        for (pair, _), r in zip(images, results, strict=True)
    }


def evaluate(
    recognizer: RecognizerLike,
    pairs: Sequence[EvalPair],
    *,
    beam_width: int | None = None,
    batch_size: int = 8,
    options: NormalizeOptions | None = None,
    render_match: bool = True,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Recognize every image of ``pairs`` and score the results (see :func:`score`)."""
    predictions = recognize_all(recognizer, pairs, beam_width, batch_size, progress)
    return score(pairs, predictions, options, render_match, jobs)
