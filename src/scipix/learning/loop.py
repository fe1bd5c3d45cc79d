"""``LearningLoop``: what the service learns from, and what it asks of it per request.

It owns the learning database (trajectories and corrections, :mod:`scipix.learning.store`), the
correction memory (:mod:`scipix.learning.recall`), the calibration of the model in use
(:mod:`scipix.learning.calibration`) and what strategies paid for which kind of picture
(:mod:`scipix.learning.strategies`). Corrections are scoped: by default each API key's
corrections apply to that key's requests only (``learning.scope = "key"``; the CLI's scope is
:data:`LOCAL_SCOPE`), so a flood of poisoned corrections from one key never changes what another
key is told; ``"shared"`` pools them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from scipix.errors import LatexError, StoreError
from scipix.latex import NormalizeOptions, check, model_tokens
from scipix.learning.calibration import CALIBRATION_FILE, Calibrator, packaged_calibration
from scipix.learning.recall import CorrectionMemory, Fingerprint, Gray, png_bytes, thumbnail
from scipix.learning.store import Correction, LearningStore, Trajectory

if TYPE_CHECKING:
    from scipix.memory import MemoryStore
    from scipix.recognition import FormulaRecognizer
    from scipix.schema import Result
    from scipix.settings.model import LearningSettings

log = logging.getLogger(__name__)

#: The scope of corrections made without an API key (the CLI, the Python API).
LOCAL_SCOPE = "local"
SHARED_SCOPE = "shared"
#: A correction's LaTeX is at most this long (as ``/v3/corrections`` accepts).
MAX_LATEX_CHARS = 20_000
#: How readings are compared for "exactly right" (as ``scipix eval`` compares them).
SAME_OPTIONS = NormalizeOptions.for_labels(drop_text_spaces=True)


def same_reading(a: str, b: str) -> bool:
    """Whether two LaTeX strings are the same reading (same normalized tokens)."""
    try:
        return model_tokens(a, SAME_OPTIONS) == model_tokens(b, SAME_OPTIONS)
    except LatexError:
        return a.split() == b.split()


def checked_latex(latex: str) -> str:
    """``latex`` stripped, or LatexError (``math_syntax``) when it is blank, too long or not
    valid LaTeX (the validator's first problem)."""
    text = latex.strip()
    if not text:
        raise LatexError("the corrected LaTeX is empty", name="latex")
    if len(text) > MAX_LATEX_CHARS:
        raise LatexError(f"the corrected LaTeX is longer than {MAX_LATEX_CHARS} characters")
    check(text)
    return text


class LearningLoop:
    """See the module docstring. Thread-safe; opens its stores on first use."""

    def __init__(
        self,
        settings: LearningSettings,
        data_dir: Path,
        recognizer: Callable[[], FormulaRecognizer],
        memory: Callable[[], MemoryStore | None],
    ) -> None:
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.recognizer = recognizer
        self._memory = memory
        self._lock = threading.Lock()
        self._store: LearningStore | None = None
        self._recall: CorrectionMemory | None = None
        self._calibrators: dict[str, Calibrator | None] = {}

    # -- stores ------------------------------------------------------------------------------

    @property
    def store(self) -> LearningStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = LearningStore.in_dir(
                        self.data_dir, self.settings.max_trajectories
                    )
        return self._store

    def recall(self) -> CorrectionMemory | None:
        """The correction memory (None when the memory store is off: exact hits only)."""
        if self._recall is None:
            memory = self._memory()
            if memory is None:
                return None
            with self._lock:
                if self._recall is None:
                    self._recall = CorrectionMemory(self.store, memory)
        return self._recall

    def scope_of(self, scope: str | None) -> str:
        """The scope whose corrections apply to a caller (see the module docstring)."""
        if self.settings.scope == "shared":
            return SHARED_SCOPE
        return scope or LOCAL_SCOPE

    # -- calibration ---------------------------------------------------------------------------

    @property
    def calibration_path(self) -> Path:
        """Where ``scipix learning calibrate`` writes a calibration refitted from verdicts."""
        return self.data_dir / CALIBRATION_FILE

    def calibrator(self, version: str) -> Calibrator | None:
        """The calibration for model ``version``: the one refitted here, else the shipped one."""
        if version not in self._calibrators:
            found = Calibrator.load(self.calibration_path, version)
            if found is None:
                found = Calibrator.load(packaged_calibration(), version)
            self._calibrators[version] = found
        return self._calibrators[version]

    def reload_calibration(self) -> None:
        self._calibrators.clear()

    # -- corrections ---------------------------------------------------------------------------

    def fingerprint(self, gray: Gray) -> Fingerprint:
        from scipix.memory import gray_embedding

        thumb, aspect = thumbnail(gray)
        return Fingerprint(gray_embedding(self.recognizer(), gray), thumb, aspect)

    def correct(
        self,
        latex: str,
        scope: str | None,
        page: Gray | None = None,
        input_hash: str | None = None,
        request_id: str | None = None,
        original: str | None = None,
    ) -> Correction:
        """Keep a verdict: ``latex`` is what the image shows. ``page`` is the cleaned page (its
        fingerprint lets near-identical images find the correction); without one, a
        ``request_id`` whose trajectory is kept gives the input's hash (exact hits only).
        Raises LatexError (``math_syntax``) for invalid LaTeX."""
        text = checked_latex(latex)
        where = self.scope_of(scope)
        if request_id is not None and (input_hash is None or original is None):
            trajectory = self.store.trajectory(request_id)
            if trajectory is not None and trajectory.scope == where:
                input_hash = input_hash or trajectory.input_hash
                original = original or trajectory.chosen
        fingerprint = self.fingerprint(page) if page is not None else None
        record = Correction(
            id=0,
            scope=where,
            latex=text,
            created_at=0.0,
            request_id=request_id,
            input_hash=input_hash,
            original_latex=original,
            image=png_bytes(page) if page is not None else None,
            thumb=fingerprint.thumb_bytes() if fingerprint is not None else None,
        )
        correction_id = self.store.add_correction(record)
        recall = self.recall() if fingerprint is not None else None
        if recall is not None:
            recall.remember(correction_id, where, fingerprint)
        stored = self.store.correction(correction_id)
        assert stored is not None  # just written
        return stored

    def corrected_at(self, scope: str | None) -> float:
        """When a correction that applies to a caller in ``scope`` was last taken (hash-only
        ones too), 0 if never: the result cache serves nothing filed before it."""
        return self.store.last_correction(self.scope_of(scope))

    def record_cached(
        self, result: Result, scope: str | None, input_hash: str, version: str, latency_ms: float
    ) -> None:
        """Record a result served from the result cache: a cheap trajectory (no n-best, no
        strategies), ``strategy`` and ``source`` ``cache``; a store failure is only logged."""
        value = result.confidence_raw if result.confidence_raw is not None else result.confidence
        trajectory = Trajectory(
            request_id=result.request_id,
            scope=self.scope_of(scope),
            input_hash=input_hash,
            model_version=version,
            kind=None,
            strategy="cache",
            tried=(),
            nbest=(),
            chosen=result.latex if result.latex is not None else (result.text or ""),
            raw_confidence=float(value or 0.0),
            confidence=float(result.confidence or 0.0),
            latency_ms=latency_ms,
            source="cache",
        )
        try:
            self.store.record(trajectory)
        except StoreError as exc:
            log.warning("trajectory of %s not recorded: %s", result.request_id, exc)

    def find_correction(self, scope: str, input_hash: str, page: Gray) -> Correction | None:
        """The correction that answers this input in ``scope`` (exact hash, else near-identical
        page), or None; cheap when the scope has no corrections."""
        if not self.store.has_corrections(scope):
            return None
        found = self.store.by_hash(scope, input_hash)
        if found is not None:
            return found
        recall = self.recall()
        if recall is None:
            return None
        return recall.near(scope, self.fingerprint(page))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
