"""Which cleaning a picture gets (``preprocessing.mode = "auto"``), and when it is read again.

The Preprocess agent asks :class:`PictureCleaner` to prepare each page: in auto mode the picture
is classified (``imaging/picture.py``), cleaned by its kind's strategy (:data:`FIRST`,
``imaging/cleaning.py``) and then pre-processed as usual, with the enhancement switches (CLAHE,
denoise, binarize) left off; in manual mode (or when the call sets one of those switches itself)
the switches alone decide, as before. The :class:`Cleaning` record travels with the job: when
the first reading of a formula is unsure (its confidence below ``second_below``) and was quick
enough (``budget_ms``), the Recognize agent reads the page cleaned by its kind's second
strategy (:data:`SECOND`) too and keeps the reading with the higher mean token probability.

A classifier or cleaning failure on a strange picture never reaches the user: it is logged as a
warning and the page takes the default path (``plain``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from scipix.errors import ScipixError
from scipix.imaging.cleaning import Strategy, clean
from scipix.imaging.enhance import PageInk
from scipix.imaging.page import Page, read_only
from scipix.imaging.picture import KindGuess, PictureClassifier
from scipix.imaging.preprocess import PreprocessConfig, Preprocessed, preprocess
from scipix.recognition.reading import Reading
from scipix.schema import PictureKind, PreprocessingReport, RecognizeOptions

log = logging.getLogger(__name__)

Mode = Literal["auto", "manual"]
#: The strategy each kind of picture is cleaned with first, and the one a second reading tries
#: (None: none is made), chosen on pictures of the ``tune`` half of the held-out formulas (two
#: draws, 100 and 60 of each condition; ``training/picture.py``): a clean render is read as it is
#: (flattening lost 2 of 60, and changed 2 of 100 readings, one each way); flattening reads
#: screenshots better (tinted and dark backgrounds: 5 readings right that plain got wrong and 1
#: the other way; 9 and 4 in the other draw), photos (2 % → 34 % exact) and scans (33 % → 48 %),
#: and costs nothing on handwriting. Binarizing is the most useful second opinion; handwriting,
#: read unsure nearly always, gained nothing from one.
FIRST: dict[PictureKind, Strategy] = {
    "render": "plain",
    "screenshot": "flatten",
    "paper": "flatten",
    "handwriting": "flatten",
}
SECOND: dict[PictureKind, Strategy | None] = {
    "render": "binarize",
    "screenshot": "binarize",
    "paper": "binarize",
    "handwriting": None,
}
#: What a second reading tries when the picture could not be classified.
SECOND_UNCLASSIFIED: Strategy = "binarize"
#: A second reading is kept only when its mean token probability beats the first's by this.
WIN_MARGIN = 0.0
#: The decoded page is kept for a second reading only up to this size (a batch of large photos
#: waiting between the agents would otherwise hold every one of them twice).
SECOND_READING_MAX_PIXELS = 4_000_000
#: The per-call switches that, when a call sets any of them, make that call manual.
ENHANCE_SWITCHES = ("clahe", "denoise", "binarize")


@dataclass(frozen=True)
class CleaningPolicy:
    """Settings' ``[preprocessing]`` ``mode``, ``second_reading_below`` (0: never) and
    ``second_reading_budget_ms``."""

    mode: Mode = "auto"
    second_below: float = 0.0
    budget_ms: float = 0.0


@dataclass(frozen=True)
class Cleaning:
    """How a job's page was cleaned: the picture's ``kind`` (None: manual mode, or the
    classifier failed) and its ``probability``, the ``strategy`` whose page the job now holds,
    whether a ``second_reading`` was made; and what a second reading needs: the decoded
    ``source`` page, the pre-processing ``config`` and the ``policy`` (auto mode only)."""

    strategy: Strategy | Literal["manual"]
    kind: PictureKind | None = None
    probability: float | None = None
    second_reading: bool = False
    source: Page | None = None
    config: PreprocessConfig | None = None
    policy: CleaningPolicy | None = None

    @property
    def alternative(self) -> Strategy | None:
        """The strategy a second reading would try (None in manual mode)."""
        if self.strategy == "manual" or self.source is None:
            return None
        other = SECOND[self.kind] if self.kind is not None else SECOND_UNCLASSIFIED
        return other if other != self.strategy else None

    def wants_second_reading(self, confidence: float, first_ms: float) -> bool:
        """Whether a first reading this unsure, that took this long, is read again."""
        policy = self.policy
        if policy is None or self.alternative is None or self.second_reading:
            return False
        return confidence < policy.second_below and first_ms <= policy.budget_ms

    def report(self) -> PreprocessingReport:
        probability = round(self.probability, 4) if self.probability is not None else None
        return PreprocessingReport(
            kind=self.kind,
            kind_confidence=probability,
            strategy=self.strategy,
            second_reading=self.second_reading,
        )


def mean_rate(readings: Sequence[Reading]) -> float:
    """The mean per-token probability of ``readings`` (0 for none)."""
    return float(np.mean([r.confidence_rate for r in readings])) if readings else 0.0


def keeps_second(first: Sequence[Reading], second: Sequence[Reading]) -> bool:
    """Whether the second reading wins: more probable per token by at least :data:`WIN_MARGIN`
    (the first stays on a tie: it is the kind's own strategy)."""
    return bool(second) and mean_rate(second) > mean_rate(first) + WIN_MARGIN


def cleaned_page(source: Page, strategy: Strategy, config: PreprocessConfig) -> Preprocessed:
    """``source`` cleaned by ``strategy``, then pre-processed by ``config`` (whose enhancement
    switches are off: the strategy did that work)."""
    gray = source.gray if strategy == "plain" else read_only(clean(source.gray, strategy))
    return preprocess(replace(source, gray=gray), config)


def load_classifier() -> PictureClassifier | None:
    """The shipped picture classifier; None (every picture ``plain``, and a warning) when it
    cannot be read."""
    try:
        return PictureClassifier.load()
    except (OSError, ValueError) as exc:
        log.warning("no picture classifier (%s): every picture is read as decoded first", exc)
        return None


class PictureCleaner:
    """Chooses and applies the cleaning of each page (see the module docstring). Stateless
    between calls: safe to share between threads."""

    def __init__(self, classifier: PictureClassifier | None, policy: CleaningPolicy) -> None:
        self.classifier = classifier
        self.policy = policy

    def is_auto(self, options: RecognizeOptions) -> bool:
        """Auto mode, unless the call set an enhancement switch itself."""
        chosen = options.preprocessing.model_dump(exclude_none=True)
        return self.policy.mode == "auto" and not any(s in chosen for s in ENHANCE_SWITCHES)

    def classify(self, page: Page) -> tuple[KindGuess | None, PageInk | None]:
        """The picture's kind; None (and a warning) when the classifier fails or is missing;
        and the page's ink when the classifier measured it at full size."""
        if self.classifier is None:
            return None, None
        try:
            return self.classifier.classify_page(page.gray)
        except Exception as exc:  # a strange picture must not fail the request
            log.warning(
                "picture classifier failed on a %dx%d image: %r", page.width, page.height, exc
            )
            return None, None

    def prepare(
        self, page: Page, config: PreprocessConfig, options: RecognizeOptions
    ) -> tuple[Preprocessed, Cleaning]:
        """The pre-processed page and how it was cleaned. Raises what :func:`preprocess`
        raises on the page as decoded (a blank page), nothing else of the cleaning's."""
        if not self.is_auto(options):
            return preprocess(page, config), Cleaning("manual")
        config = replace(config, clahe=False, denoise=False, binarize=False)
        guess, ink = self.classify(page)
        strategy: Strategy = FIRST[guess.kind] if guess is not None else "plain"
        policy = self.policy
        keep = policy.second_below > 0 and page.width * page.height <= SECOND_READING_MAX_PIXELS
        cleaning = Cleaning(
            strategy,
            guess.kind if guess is not None else None,
            guess.probability if guess is not None else None,
            source=page if keep else None,
            config=config,
            policy=policy,
        )
        if strategy != "plain":
            try:
                return cleaned_page(page, strategy, config), cleaning
            except ScipixError as exc:
                log.info(
                    "cleaning %r found no content (%s); the page is read as decoded", strategy, exc
                )
            except Exception as exc:  # an OpenCV error on a strange picture
                log.warning("cleaning %r failed (%r); the page is read as decoded", strategy, exc)
            cleaning = replace(cleaning, strategy="plain")
        return preprocess(page, config, ink), cleaning
