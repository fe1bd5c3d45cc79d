"""The result cache: an image seen before is answered from the memory, marked ``cached: true``.

Two ways to match, within one scope (an API key on the server, ``local`` elsewhere) and one
*context* (the model version, the effective options and the settings that change a reading):

- **exact**: the BLAKE3 hash of the decoded pixels (so the same picture in another file or
  container matches too);
- **near-duplicate**: a single-formula result whose image embedding
  (:func:`~scipix.memory.embedding.gray_embedding`) is near the new image's (cosine at least
  :data:`EMBEDDING_GATE`: the candidates) and whose ink thumbnail
  (:func:`~scipix.memory.embedding.ink_thumbnail`: content cropped and squeezed, aspect ratio
  within 10 %) correlates with the new one's at least ``memory.near_duplicate``. The encoder's
  embedding alone cannot tell a rescaled copy from another formula (copies fall to 0.74, other
  formulas reach 0.975); the thumbnails can. Both thresholds were chosen on held-out data
  (``benchmarks/memory_cache.py``); ``near_duplicate`` 0 turns it off.

Entries are kind ``result`` in the store, keyed by ``<context>:<hash>`` and carrying the
Mathpix-shaped result; they expire after ``memory.cache_ttl_s`` and at most
``memory.cache_max_entries`` are kept (the oldest go first). Each result's LaTeX is also filed as
a ``reading`` (its LaTeX embedding and canonical form) for `scipix memory search` and
`scipix memory patterns`, under the same cap. With ``memory.cache`` off results are still
remembered, never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from scipix.errors import LatexError, ScipixError, StoreError
from scipix.imaging.decode import pixel_hash
from scipix.imaging.page import Gray, Page
from scipix.memory.embedding import ink_thumbnail, latex_embedding
from scipix.memory.index import Vector
from scipix.memory.search import READING, RESULT, canonical
from scipix.memory.store import MemoryStore
from scipix.memory.thumbnail import Thumbnail
from scipix.schema import Result, new_request_id
from scipix.settings.model import MemorySettings

log = logging.getLogger(__name__)

KIND = RESULT
#: The scope of calls made in-process (CLI, Python); the server uses each API key's id.
LOCAL_SCOPE = "local"
#: The kind under which the learning loop files corrections (``scipix.learning.recall.KIND``): a
#: correction (or its removal) in a scope makes the scope's earlier cached results stale.
CORRECTION_KIND = "correction"
#: The image-embedding cosine a near-duplicate's candidates need (the candidate search; the
#: thumbnails decide): chosen on held-out data by ``benchmarks/memory_cache.py``.
EMBEDDING_GATE = 0.722
#: Candidates checked for a near-duplicate (the embedding ranks copies poorly: many other
#: formulas may come before the original, so the thumbnails of many are compared).
NEIGHBOURS = 64
#: Every this many remembered results the expired and the oldest beyond the cap are purged.
PURGE_EVERY = 64


@dataclass(frozen=True)
class Lookup:
    """What :meth:`ResultCache.lookup` found: the ``hit`` (None: recognize it), and what
    :meth:`ResultCache.keep` files the new result under (``key`` None: the image could not be
    decoded or the memory failed, nothing is filed); ``input_hash`` is the decoded page's hash
    (the trajectory's)."""

    hit: Result | None = None
    key: CacheKey | None = None
    embedding: Vector | None = None
    thumb: Thumbnail | None = None
    input_hash: str | None = None


@dataclass(frozen=True)
class CacheKey:
    """Where a result is filed: its scope, context and pixel hash."""

    scope: str
    context: str
    pixels: str

    @property
    def key(self) -> str:
        return f"{self.context}:{self.pixels}"


def context_of(*parts: object) -> str:
    """A short stable hash of what must match for a cached result to be valid (strings and
    pydantic models: the model version, the call's options, settings sections)."""
    texts = [p.model_dump_json() if isinstance(p, BaseModel) else str(p) for p in parts]
    text = json.dumps(texts, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


class ResultCache:
    """Results by pixel hash and by image embedding (see the module docstring)."""

    def __init__(
        self,
        store: MemoryStore,
        settings: MemorySettings,
        corrected_at: Callable[[str], float] | None = None,
    ) -> None:
        """``corrected_at(scope)``: when the learning loop last took a correction that applies
        to ``scope`` (hash-only ones too); results filed before it are stale."""
        self.store = store
        self.corrected_at = corrected_at
        self.ttl_s = settings.cache_ttl_s
        self.max_entries = settings.cache_max_entries
        self.threshold = settings.near_duplicate
        self.serve = settings.cache
        self.latex_dim = settings.latex_dim
        self._added = 0

    def exact(self, key: CacheKey) -> Result | None:
        """The result filed under ``key``, unless it expired."""
        if not self.serve:
            return None
        entry = self.store.find(KIND, key.scope, key.key)
        if entry is None or not self._fresh(key.scope, entry.updated):
            return None
        return self._revive(entry.payload)

    def near(self, key: CacheKey, embedding: Vector, thumb: Thumbnail) -> Result | None:
        """The result of a single-formula image in the same scope and context whose embedding
        is at least ``EMBEDDING_GATE`` close and whose ink thumbnail matches ``thumb`` (aspect
        within 10 %, correlation at least ``near_duplicate``); None when off or none does."""
        if self.threshold <= 0 or not self.serve:
            return None
        where = {"context": key.context, "single": True}
        hits = self.store.search(
            KIND, embedding, NEIGHBOURS, scope=key.scope, where=where, min_score=EMBEDDING_GATE
        )
        for hit in hits:
            filed = Thumbnail.decode(str(hit.payload.get("thumb", "")))
            if filed is not None and thumb.similarity(filed) >= self.threshold:
                if self._fresh(key.scope, float(hit.payload.get("time", 0.0))):
                    return self._revive(hit.payload)
                return None
        return None

    def _fresh(self, scope: str, filed: float) -> bool:
        """Filed within the TTL and after the scope's last correction."""
        if filed < time.time() - self.ttl_s:
            return False
        if self.corrected_at is not None and filed <= self.corrected_at(scope):
            return False
        return filed > self.store.last_change(CORRECTION_KIND, scope)

    def remember(self, key: CacheKey, embedding: Vector, thumb: Thumbnail, result: Result) -> None:
        """File a successful ``result`` (failures are not cached)."""
        if not result.ok:
            return
        payload = {
            "context": key.context,
            "pixels": key.pixels,
            "single": result.latex_styled is not None,
            "latex": result.latex,
            "thumb": thumb.encode(),
            "time": time.time(),
            "result": result.model_dump(mode="json", exclude_none=True),
        }
        result_id = self.store.add(KIND, embedding, payload, scope=key.scope, key=key.key)
        self._remember_reading(key, result_id, result)
        self._added += 1
        if self._added % PURGE_EVERY == 1:
            self.purge()

    def _remember_reading(self, key: CacheKey, result_id: int, result: Result) -> None:
        """File the reading's LaTeX (kind ``reading``) for `scipix memory search` / patterns."""
        latex = result.latex
        if not latex:
            return
        try:
            normal: str | None = canonical(latex)
        except LatexError:
            normal = None
        vector = latex_embedding(latex, self.latex_dim)
        if not vector.any():
            return
        payload = {
            "latex": latex,
            "normal": normal,
            "request_id": result.request_id,
            "pixels": key.pixels,
            "result_id": result_id,
            "time": time.time(),
        }
        self.store.add(READING, vector, payload, scope=key.scope, key=key.key)

    def purge(self) -> int:
        """Drop the expired results and the oldest beyond the cap (readings: beyond the cap);
        how many went."""
        expired = self.store.purge(KIND, older_than=time.time() - self.ttl_s, keep=self.max_entries)
        return expired + self.store.purge(READING, keep=self.max_entries)

    @staticmethod
    def _revive(payload: dict[str, object]) -> Result | None:
        data = payload.get("result")
        if not isinstance(data, dict):
            return None
        result = Result.model_validate(data)
        return result.model_copy(update={"request_id": new_request_id(), "cached": True})

    def lookup(
        self,
        scope: str,
        context: str,
        decode: Callable[[], Page],
        embed: Callable[[Gray], Vector],
    ) -> Lookup:
        """The cached result for the same (or a near-identical) image in ``scope`` and
        ``context``, and what to file a new result under; ``decode`` and ``embed`` give the
        image's page and embedding. An image that cannot be decoded or embedded gives an empty
        :class:`Lookup` (recognition reports the error its own way); a memory that fails is
        logged, never failing the request."""
        try:
            page = decode()
            key = CacheKey(scope, context, pixel_hash(page.gray))
            thumb = ink_thumbnail(page.gray)
            hit = self.exact(key)
            if hit is not None:
                return Lookup(hit, key, None, thumb, page.hash)
            embedding = embed(page.gray)
            return Lookup(self.near(key, embedding, thumb), key, embedding, thumb, page.hash)
        except (ScipixError, sqlite3.Error) as exc:
            if isinstance(exc, StoreError | sqlite3.Error):
                log.warning("result cache unavailable: %s", exc)
            return Lookup()

    def keep(self, found: Lookup, result: Result) -> None:
        """File ``result``, read for a missed :meth:`lookup` (logged when the memory fails)."""
        if found.hit is not None or found.key is None or found.embedding is None:
            return
        assert found.thumb is not None  # set with the embedding
        try:
            self.remember(found.key, found.embedding, found.thumb, result)
        except (StoreError, sqlite3.Error, OSError) as exc:
            log.warning("result not cached: %s", exc)

    def recognize(
        self,
        scope: str,
        context: str,
        decode: Callable[[], Page],
        embed: Callable[[Gray], Vector],
        recognize: Callable[[], Result],
    ) -> Result:
        """``recognize()``'s result, or the cached one (:meth:`lookup`, then :meth:`keep`)."""
        found = self.lookup(scope, context, decode, embed)
        if found.hit is not None:
            return found.hit
        result = recognize()
        self.keep(found, result)
        return result
