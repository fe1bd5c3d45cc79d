"""Recognition through the result cache: one image (:func:`cached_one`) or many in input order
(:func:`cached_many`), with the same semantics: a hit is served with ``cached: true`` and
reported to ``on_hit`` (the learning loop records a cheap trajectory marked ``cache``); a miss is
recognized and its result filed."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from scipix.errors import ScipixError
from scipix.imaging.decode import DecodeLimits, ImageSource, decode_image
from scipix.imaging.page import Page
from scipix.memory.cache import LOCAL_SCOPE, Lookup, ResultCache, context_of
from scipix.memory.embedding import gray_embedding
from scipix.schema import RecognizeOptions, Result

if TYPE_CHECKING:
    from scipix.service import Scipix

#: ``on_hit(lookup, latency_ms)``: told of each result served from the cache.
OnHit = Callable[[Lookup, float], None]


def cached_one(
    cache: ResultCache,
    look: Callable[[], Lookup],
    recognize: Callable[[], Result],
    on_hit: OnHit,
) -> Result:
    """The cached result of ``look()``, else ``recognize()``'s, filed."""
    started = time.perf_counter()
    found = look()
    if found.hit is not None:
        on_hit(found, (time.perf_counter() - started) * 1000.0)
        return found.hit
    result = recognize()
    cache.keep(found, result)
    return result


def cached_many(
    cache: ResultCache,
    images: Iterable[ImageSource],
    look: Callable[[ImageSource], Lookup],
    recognize: Callable[[Iterable[ImageSource]], Iterator[Result]],
    on_hit: OnHit,
) -> Iterator[Result]:
    """Results of ``images`` in input order: hits from the cache, the misses through
    ``recognize`` (one result per image it is given, in the same order; it may pull its input
    on another thread), each filed as it comes."""
    hits: dict[int, Result] = {}
    pending: deque[tuple[int, Lookup]] = deque()

    def misses() -> Iterator[ImageSource]:
        for index, image in enumerate(images):
            started = time.perf_counter()
            found = look(image)
            if found.hit is not None:
                on_hit(found, (time.perf_counter() - started) * 1000.0)
                hits[index] = found.hit
            else:
                pending.append((index, found))
                yield image

    served = 0
    for result in recognize(misses()):
        index, found = pending.popleft()
        # every image before ``index`` was looked up before it was handed on: the rest are hits
        while served < index:
            yield hits.pop(served)
            served += 1
        cache.keep(found, result)
        yield result
        served = index + 1
    for index in sorted(hits):
        yield hits[index]


def decode_once(scipix: Scipix, image: ImageSource, opts: RecognizeOptions) -> ImageSource | Page:
    """``image`` decoded as ``scipix``'s Preprocess agent decodes it, for the cache lookup and
    then the pipeline (which takes a :class:`Page` as it is): one decode per call. An image that
    cannot be decoded is returned as it came: the pipeline reports why, as before."""
    limits, exif = _decoding(scipix, opts)
    try:
        return decode_image(image, limits, exif)
    except ScipixError:
        return image


def _decoding(scipix: Scipix, opts: RecognizeOptions) -> tuple[DecodeLimits, bool]:
    from scipix.pipeline.agents import PreprocessAgent

    agent = scipix.agents[0]
    assert isinstance(agent, PreprocessAgent)
    return agent.defaults.limits, agent.defaults.for_options(opts).exif_orientation


def cache_lookup(
    scipix: Scipix, cache: ResultCache, opts: RecognizeOptions, scope: str | None
) -> Callable[[ImageSource | Page], Lookup]:
    """How ``scipix``'s result cache looks an image up for calls with ``opts`` in ``scope``:
    decoded as its Preprocess agent decodes (a :class:`Page` from :func:`decode_once` is taken
    as it is), in the context of the model version, the options and the settings that change a
    reading."""
    limits, exif = _decoding(scipix, opts)
    settings = scipix.settings
    contexts: list[str] = []

    def decode(image: ImageSource | Page) -> Page:
        return image if isinstance(image, Page) else decode_image(image, limits, exif)

    def look(image: ImageSource | Page) -> Lookup:
        if not contexts:  # the model version: an unloadable model is each image's error
            try:
                version = scipix.version
            except ScipixError:
                return Lookup()
            contexts.append(context_of(version, opts, settings.ocr, settings.preprocessing))
        return cache.lookup(
            scope or LOCAL_SCOPE,
            contexts[0],
            lambda: decode(image),
            lambda gray: gray_embedding(scipix.formula_recognizer(), gray),
        )

    return look


def trajectory_of_hit(scipix: Scipix, scope: str | None) -> OnHit:
    """What a result served from the cache leaves: a trajectory marked ``cache`` (learning on)."""

    def record(found: Lookup, latency_ms: float) -> None:
        learning = scipix.learning
        if learning is not None and found.hit is not None:
            version = scipix.version
            learning.record_cached(found.hit, scope, found.input_hash or "", version, latency_ms)

    return record
