"""``Scipix``: the one façade the CLI, the server and the MCP server share.

Built once per process; it owns the settings, the models (loaded lazily, once, thread-safely) and
the five-agent pipeline (Preprocess → Detect → Recognize → Generate → Validate)::

    from scipix import Scipix

    with Scipix() as sp:
        print(sp.recognize("formula.png").latex)
        for result in sp.recognize_many(["a.png", "b.jpg"], workers=2):
            print(result.to_mathpix())

``recognize`` raises :class:`~scipix.errors.ScipixError` subclasses on bad input;
``recognize_many`` never raises for one bad image: its result carries ``error``/``error_info``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scipix.errors import ScipixError, StoreError
from scipix.imaging.decode import DecodeLimits, ImageSource, decode_image
from scipix.imaging.page import Page
from scipix.imaging.preprocess import PreprocessConfig, Preprocessed, preprocess
from scipix.learning.agent import LearnAgent
from scipix.learning.loop import LearningLoop, checked_latex
from scipix.learning.recall import upright
from scipix.learning.store import Correction
from scipix.memory.cache import ResultCache
from scipix.memory.serving import (
    cache_lookup,
    cached_many,
    cached_one,
    decode_once,
    trajectory_of_hit,
)
from scipix.pipeline.agents import PreprocessAgent, PreprocessDefaults, RecognizeAgent
from scipix.pipeline.detect import DetectAgent
from scipix.pipeline.generate import GenerateAgent, ValidateAgent
from scipix.pipeline.job import Envelope, Job
from scipix.pipeline.message import Tag
from scipix.pipeline.runtime import Agent, LocalRuntime, RunStats, Runtime, run_inline
from scipix.pipeline.strategy import CleaningPolicy, PictureCleaner, load_classifier
from scipix.recognition.text import TextRecognizer
from scipix.schema import (
    ErrorInfo,
    PreprocessSteps,
    PreprocessSwitches,
    RecognizeOptions,
    Result,
    new_request_id,
)
from scipix.settings import Settings, get_settings

if TYPE_CHECKING:
    from scipix.ink import Ink
    from scipix.memory import MemoryStore
    from scipix.recognition import FormulaRecognizer

__all__ = ["ImageSource", "Scipix"]

log = logging.getLogger(__name__)

#: Drawn ink is upright, straight and clean: no rotation or skew checks, no cleaning strategy
#: (setting the switches keeps the picture classifier and its second readings out), as the
#: model's handwriting training images were read.
INK_PREPROCESSING = {
    "auto_rotate": False,
    "deskew": False,
    "clahe": False,
    "denoise": False,
    "binarize": False,
}


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def intra_op_threads(threads: int, workers: int, cores: int | None = None) -> int:
    """``threads`` when set (> 0), else ``max(1, cores // workers)``."""
    if threads > 0:
        return threads
    return max(1, (cores if cores is not None else available_cores()) // max(1, workers))


class Scipix:
    """Scientific OCR: images in, Mathpix-shaped results out (see the module docstring)."""

    def __init__(
        self,
        settings: Settings | None = None,
        recognizer: FormulaRecognizer | None = None,
        text: TextRecognizer | None = None,
        workers: int | None = None,
    ) -> None:
        """``recognizer``, ``text``: an already loaded formula recognizer and text OCR to share
        (default: load the model named by ``settings.ocr.model_dir`` and the packaged text OCR
        on first use). ``workers``: how many recognitions will run at once (default
        ``performance.workers``); with ``runtime.threads`` 0 the cores are shared among them
        (see :attr:`threads`)."""
        self.settings = settings if settings is not None else get_settings()
        self.workers = workers if workers is not None else self.settings.performance.workers
        self._lock = threading.Lock()
        self._formula: FormulaRecognizer | None = recognizer
        self._text: TextRecognizer | None = text
        self._closed = False
        self._memory: MemoryStore | None = None
        self._cache: ResultCache | None = None
        self._cache_failed = False
        self.learning = self._learning_loop()
        self.agents = self._build_agents()

    # -- models (lazy, loaded once) ------------------------------------------------------------

    def formula_recognizer(self) -> FormulaRecognizer:
        """The formula recognizer, loaded on first use (raises ModelError when unavailable)."""
        if self._formula is None:
            with self._lock:
                if self._formula is None:
                    from scipix.recognition import BeamConfig, FormulaRecognizer, SessionConfig

                    ocr = self.settings.ocr
                    beam = BeamConfig(
                        beam_width=ocr.beam_width,
                        n_best=ocr.n_best,
                        max_tokens=ocr.max_tokens,
                        length_penalty=ocr.length_penalty,
                    )
                    sessions = SessionConfig(self.threads, cache_dir=self.graph_cache)
                    self._formula = FormulaRecognizer.load(
                        ocr.model_dir, beam=beam, sessions=sessions
                    )
        return self._formula

    def text_recognizer(self) -> TextRecognizer:
        """The packaged text OCR, loaded on first use."""
        if self._text is None:
            with self._lock:
                if self._text is None:
                    self._text = TextRecognizer(threads=self.threads, cache_dir=self.graph_cache)
        return self._text

    @property
    def graph_cache(self) -> Path:
        """Where the models' optimized ONNX graphs are kept (a shorter cold start, session.py)."""
        return self.settings.runtime.cache_dir / "onnx"

    @property
    def threads(self) -> int:
        """ONNX Runtime's intra-op threads per model: ``runtime.threads`` when set, else the
        cores shared among the workers, so that N workers do not each start a thread per core."""
        return intra_op_threads(self.settings.runtime.threads, self.workers)

    def warm_up(self) -> None:
        """Load the models now rather than on the first request (a server calls this once, at
        start): the formula recognizer and, when ``ocr.text_ocr`` is on, the text OCR, which
        also reads one small line (its first call is slower than later ones). Raises
        :class:`~scipix.errors.ModelError` when a model cannot be loaded."""
        self._check_open()
        self.formula_recognizer()
        if self.settings.ocr.text_ocr:
            self.text_recognizer().warm_up()

    @property
    def version(self) -> str:
        return self.formula_recognizer().version

    def _build_agents(self) -> list[Agent]:
        pre, ocr = self.settings.preprocessing, self.settings.ocr
        switches = pre.model_dump(include=set(PreprocessSteps.model_fields))
        defaults = PreprocessDefaults(
            PreprocessConfig(**switches),
            DecodeLimits(max_pixels=pre.max_pixels, max_bytes=pre.max_bytes),
        )
        text = self.text_recognizer if ocr.text_ocr else None
        batch_size = self.settings.performance.batch_size
        policy = CleaningPolicy(pre.mode, pre.second_reading_below, pre.second_reading_budget_ms)
        classifier = load_classifier() if pre.mode == "auto" else None
        agents: list[Agent] = [
            PreprocessAgent(defaults, PictureCleaner(classifier, policy)),
            DetectAgent(text),
            RecognizeAgent(self.formula_recognizer, text, ocr.low_confidence, batch_size),
            GenerateAgent(),
            ValidateAgent(ocr.low_confidence, ocr.confidence_threshold),
        ]
        if self.learning is not None:  # between Generate and Validate (learning/agent.py)
            agents.insert(len(agents) - 1, LearnAgent(self.learning, self.formula_recognizer))
        if self.settings.distributed.attest:
            from scipix.trust.worker import AttestAgent, key_path, own_key

            own_key(self.settings)  # made now (and trusted here) rather than by a worker
            agents.append(AttestAgent(key_path(self.settings)))
        return agents

    # -- recognition ---------------------------------------------------------------------------

    def effective_options(self, options: RecognizeOptions | None) -> RecognizeOptions:
        """The call's options, with settings filling what the caller left unset (``n_best`` at
        most the caller's ``beam_width``)."""
        opts = options if options is not None else RecognizeOptions()
        ocr = self.settings.ocr
        update: dict[str, Any] = {}
        n_best = opts.n_best
        if "n_best" not in opts.model_fields_set:
            n_best = ocr.n_best if opts.beam_width is None else min(ocr.n_best, opts.beam_width)
            update["n_best"] = n_best
        if opts.beam_width is None:
            update["beam_width"] = max(ocr.beam_width, n_best)
        if "math_inline_delimiters" not in opts.model_fields_set:
            update["math_inline_delimiters"] = ocr.math_inline_delimiters
        if "math_display_delimiters" not in opts.model_fields_set:
            update["math_display_delimiters"] = ocr.math_display_delimiters
        return opts.model_copy(update=update) if update else opts

    def _job(
        self,
        seq: int,
        image: ImageSource | Page,
        options: RecognizeOptions,
        scope: str | None = None,
    ) -> Job:
        return Job(seq=seq, tag=Tag(new_request_id()), source=image, options=options, scope=scope)

    def recognize(
        self, image: ImageSource, options: RecognizeOptions | None = None, scope: str | None = None
    ) -> Result:
        """Recognize one image (a path, bytes, a PIL image or an array); raises ScipixError.
        ``scope``: whose corrections apply and whose cached results may answer (the server
        passes the API key's id): the same image again (or a near-identical copy) comes from
        the result cache with ``cached: true`` (``memory.cache``)."""
        self._check_open()
        opts = self.effective_options(options)
        cache = self.result_cache()
        if cache is None:
            return self._recognize(image, opts, scope)
        look = cache_lookup(self, cache, opts, scope)
        page = decode_once(self, image, opts)  # the lookup's decoded page goes on to the pipeline
        recognize = lambda: self._recognize(page, opts, scope)  # noqa: E731
        return cached_one(cache, lambda: look(page), recognize, trajectory_of_hit(self, scope))

    def _recognize(
        self, image: ImageSource | Page, opts: RecognizeOptions, scope: str | None
    ) -> Result:
        job = run_inline(self.agents, self._job(0, image, opts, scope))
        assert job.result is not None  # Generate always sets it
        return job.result

    def result_cache(self) -> ResultCache | None:
        """The memory of readings and results (``memory.enabled``; ``memory.cache``: whether
        it also answers), None when the memory is off or cannot be opened (logged once;
        recognition goes on without it)."""
        if self._cache is None and not self._cache_failed:
            try:
                store = self.memory_store()
            except StoreError as exc:
                log.warning("memory off: %s", exc.message)
                self._cache_failed = True
                return None
            if store is not None:
                learning = self.learning
                corrected = learning.corrected_at if learning is not None else None
                self._cache = ResultCache(store, self.settings.memory, corrected)
        return self._cache

    def recognize_ink(self, ink: Ink, options: RecognizeOptions | None = None) -> Result:
        """Recognize pen strokes (``/v3/strokes``, InkML): drawn the way the model's handwriting
        training images look, then read like an image; ``is_handwritten`` is true without the
        style probe. Raises ScipixError."""
        from scipix.ink import draw_ink  # pen strokes only: an image's cold start skips it

        self._check_open()
        opts = self.effective_options(options)
        switches = {**INK_PREPROCESSING, **opts.preprocessing.model_dump(exclude_none=True)}
        opts = opts.model_copy(update={"preprocessing": PreprocessSwitches(**switches)})
        job = self._job(0, draw_ink(ink), opts)
        job.handwritten = True
        job = run_inline(self.agents, job)
        assert job.result is not None  # Generate always sets it
        return job.result

    def recognize_many(
        self,
        images: Iterable[ImageSource],
        options: RecognizeOptions | None = None,
        workers: int | None = None,
        stats: RunStats | None = None,
        runtime: Runtime | None = None,
        scope: str | None = None,
    ) -> Iterator[Result]:
        """Recognize many images on ``workers`` threads per stage; results in input order,
        failures as results with ``error``/``error_info`` (the batch always goes on).
        ``stats`` (``pipeline.runtime.new_stats()``) collects per-agent counts and times.
        ``runtime``: another runtime than local threads (``pipeline.ray_runtime.RayRuntime``).
        ``scope`` and the result cache as in :meth:`recognize` (hits are not in ``stats``)."""
        self._check_open()
        opts = self.effective_options(options)
        perf = self.settings.performance
        run = runtime or LocalRuntime(workers or self.workers, perf.queue_size)

        def recognize(sources: Iterable[ImageSource]) -> Iterator[Result]:
            jobs = (self._job(i, image, opts, scope) for i, image in enumerate(sources))
            for envelope in run.run(self.agents, jobs, stats):
                yield self._result(envelope)

        cache = self.result_cache()
        if cache is None:
            yield from recognize(images)
            return
        look = cache_lookup(self, cache, opts, scope)
        yield from cached_many(cache, images, look, recognize, trajectory_of_hit(self, scope))

    @staticmethod
    def _result(envelope: Envelope) -> Result:
        if envelope.error is not None:
            result = Result.from_error(envelope.error, envelope.tag.id)
            if envelope.image_size is not None:
                result.image_width, result.image_height = envelope.image_size
            return result
        assert envelope.job is not None
        job = envelope.job.take()
        if job.result is None:  # cannot happen after Generate; reported rather than hidden
            info = ErrorInfo(id="sys_exception", message="no result was produced")
            return Result(request_id=envelope.tag.id, error=info.message, error_info=info)
        return job.result

    def preprocess(
        self, image: ImageSource, options: RecognizeOptions | None = None
    ) -> Preprocessed:
        """Only decode and clean an image (what the Preprocess agent does), for inspection."""
        agent = self.agents[0]
        assert isinstance(agent, PreprocessAgent)
        opts = self.effective_options(options)
        config = agent.defaults.for_options(opts)
        page = decode_image(image, agent.defaults.limits, config.exif_orientation)
        if agent.cleaner is not None:
            return agent.cleaner.prepare(page, config, opts)[0]
        return preprocess(page, config)

    # -- learning (learning/) ----------------------------------------------------------------

    def _learning_loop(self) -> LearningLoop | None:
        learning = self.settings.learning
        if not learning.enabled:
            return None
        data_dir = self.settings.runtime.data_dir
        return LearningLoop(learning, data_dir, self.formula_recognizer, self.memory_store)

    def memory_store(self) -> MemoryStore | None:
        """The memory store (``memory`` settings), opened on first use; None when it is off."""
        if self._memory is None and self.settings.memory.enabled:
            from scipix.memory import MemoryStore, memory_dir

            with self._lock:
                if self._memory is None:
                    self._memory = MemoryStore.open(memory_dir(self.settings), self.settings.memory)
        return self._memory

    def correct(
        self,
        latex: str,
        image: ImageSource | None = None,
        scope: str | None = None,
        request_id: str | None = None,
        original: str | None = None,
    ) -> Correction:
        """Keep a correction: ``latex`` is what ``image`` (or the image of ``request_id``)
        shows; a near-identical image in the same scope is then answered with it. Raises
        LatexError (``math_syntax``) for invalid LaTeX, InputError for a bad image."""
        self._check_open()
        if self.learning is None:
            raise ScipixError("learning.enabled is off: corrections are not kept")
        page, input_hash = None, None
        if image is not None:
            checked_latex(latex)  # refused before the image is read
            prep = self.preprocess(image)
            page, input_hash = upright(prep.page.gray, prep.rotation), prep.page.hash
        return self.learning.correct(latex, scope, page, input_hash, request_id, original)

    # -- life cycle ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ScipixError("this Scipix was closed; create a new one")

    def close(self) -> None:
        """Release the models (a closed service refuses further calls)."""
        with self._lock:
            self._closed = True
            self._formula = None
            self._text = None
            if self.learning is not None:
                self.learning.close()
            if self._memory is not None:
                self._memory.close()
                self._memory = None

    def __enter__(self) -> Scipix:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pipeline_agents(settings: Settings) -> list[Agent]:
    """The agents of a Scipix built from ``settings``: a Ray worker's own pipeline (its models
    load in the worker, on first use)."""
    return Scipix(settings, workers=1).agents
