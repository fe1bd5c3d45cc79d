"""What travels through the pipeline: one :class:`Job` per image, inside an :class:`Envelope`.

A job is *owned*: exactly one agent holds it at a time (it travels as ``Owned[Job]`` and the
sender's handle dies on send), so agents may fill in its fields without locks. Everything an
agent attaches to it is immutable (frozen dataclasses, read-only arrays), so later agents and the
caller can share those parts freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from scipix.errors import ScipixError
from scipix.imaging.components import Boxes
from scipix.imaging.decode import ImageSource
from scipix.imaging.layout import Line
from scipix.imaging.page import Page
from scipix.imaging.preprocess import Preprocessed
from scipix.pipeline.message import Owned, Shared, Tag
from scipix.pipeline.strategy import Cleaning
from scipix.pipeline.triage import LineKind
from scipix.recognition.reading import Reading
from scipix.recognition.text import Box, Word
from scipix.schema import RecognizeOptions, Result

__all__ = ["Box", "Envelope", "Ink", "Job", "Layout", "Reading", "Region", "Word"]


@dataclass(frozen=True)
class Region:
    """One piece of a line: a math region (for the recognizer) or a text region (already read)."""

    index: int
    kind: Literal["math", "text"]
    box: Box
    line: int
    text: str = ""
    confidence: float = 1.0
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Ink:
    """The ink Detect found on the cleaned page: its connected components (``boxes``) and, for
    each line of the layout, that line's components (``lines[i]`` is layout line ``i``). Later
    agents read these instead of finding them again in the mask."""

    boxes: Boxes
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Layout:
    """The regions of a page in reading order; ``lines`` groups region indices by line,
    ``kinds`` is each line's shape (``math``, ``text`` or ``unsure``: see ``triage.py``),
    ``read`` the lines the text OCR has read (never read twice), ``stacked`` the lines whose
    glyphs stand in rows one above the other (``rows.stacked``: math, never prose) and ``ink``
    the components the layout was made from."""

    regions: tuple[Region, ...]
    lines: tuple[tuple[int, ...], ...]
    kinds: tuple[LineKind, ...] = ()
    read: frozenset[int] = frozenset()
    stacked: frozenset[int] = frozenset()
    ink: Ink = field(kw_only=True)

    @property
    def single_formula(self) -> bool:
        return len(self.regions) == 1 and self.regions[0].kind == "math"


@dataclass
class Job:
    """One image's way through the agents (mutable, but only ever held by one agent)."""

    seq: int
    tag: Tag
    source: ImageSource | Page | None  # a Page: already decoded (the result cache's lookup)
    options: RecognizeOptions
    shared_prep: Shared[Preprocessed] | None = None
    shared_layout: Shared[Layout] | None = None
    readings: dict[int, Reading] = field(default_factory=dict)
    result: Result | None = None
    version: str | None = None
    image_size: tuple[int, int] | None = None  # (width, height) of the decoded image
    flipped: bool = False  # turned 180° after recognition showed the page upside down
    flip_evidence: float = 0.0  # the turned reading's share of the two readings' probability
    cleaning: Cleaning | None = None  # how the page was cleaned (pipeline/strategy.py)
    timings: dict[str, float] = field(default_factory=dict)
    handwritten: bool | None = None  # known without the style probe (pen strokes: True)
    scope: str | None = None  # whose corrections apply (an API key's id; learning/)

    # The cleaned page and its layout are immutable once made: they are held as Shared values
    # (read-only arrays, frozen dataclasses), which later agents and the caller may read freely.

    @property
    def prep(self) -> Preprocessed | None:
        return self.shared_prep.value if self.shared_prep is not None else None

    @prep.setter
    def prep(self, value: Preprocessed | None) -> None:
        self.shared_prep = Shared(value) if value is not None else None

    @property
    def layout(self) -> Layout | None:
        return self.shared_layout.value if self.shared_layout is not None else None

    @layout.setter
    def layout(self, value: Layout | None) -> None:
        self.shared_layout = Shared(value) if value is not None else None


@dataclass
class Envelope:
    """A job in transit, or the error that stopped it (errors travel as data)."""

    seq: int
    tag: Tag
    job: Owned[Job] | None
    error: ScipixError | None = None
    image_size: tuple[int, int] | None = None

    @classmethod
    def of(cls, job: Job) -> Envelope:
        return cls(job.seq, job.tag, Owned(job))
