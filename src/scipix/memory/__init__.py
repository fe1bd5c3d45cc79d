"""The memory (AgentDB): a vector index of readings, with payloads, in one directory.

Stable public API (other packages — learning, server, CLI, replication — build on exactly this)::

    from scipix.memory import MemoryStore, Hit, Entry, image_embedding, latex_embedding

    store = MemoryStore.open(directory: Path, settings: MemorySettings | None = None)
    store.close()                                   # also: with MemoryStore.open(...) as store:
    store.add(kind: str, vector, payload: dict, *, scope: str, key: str | None = None) -> int
        # kind: [a-z][a-z0-9_]* ("image", "latex", "correction", ...); one vector size per kind
        # (fixed by the first add). With key: upsert — the entry of the same (kind, scope, key)
        # is replaced in place, same id. Returns the entry id.
    store.delete(id: int) -> bool                   # a tombstone stays (for replication)
    store.get(id: int) -> Entry | None              # live entries only
    store.find(kind, scope, key) -> Entry | None    # by upsert key
    store.search(kind, vector, k, *, scope: str | None, where: dict | None = None,
                 min_score: float | None = None) -> list[Hit]
        # Hit(id, score, payload): score = cosine similarity, best first. scope=None searches
        # every scope. where={"field": value or [values]}: equality on top-level payload fields.
        # A small scope (<= 1024 entries) is scanned exactly; else HNSW + post-filter.
    store.add_many(kind, vectors: (n, d) array, payloads: list[dict], *, scope) -> list[int]
        # one transaction, one index batch (no upsert keys)
    store.count(kind=None, scope=None) -> int ; store.kinds() -> {kind: dim}
    store.last_change(kind, scope=None) -> float    # max updated (deletions too), 0 if none
    store.stats() -> dict                           # per kind: dim, entries, scopes, tombstones
    store.purge(kind, *, older_than: float | None = None, keep: int | None = None) -> int
        # hard delete (TTL / size caps of caches)
    store.persist()                                 # save changed indexes now (close does too)

    image_embedding(scipix: Scipix, image: ImageSource) -> np.ndarray    # float32, L2-normed
    gray_embedding(recognizer: FormulaRecognizer, gray) -> np.ndarray    # same, decoded image
    latex_embedding(latex: str, dim: int = 256) -> np.ndarray            # float32, L2-normed
    ink_thumbnail(gray) -> Thumbnail        # near-duplicate check (memory.embedding/thumbnail)

Built on the store (each its own module): the result cache (:mod:`scipix.memory.cache`,
kinds ``result`` and ``reading``; ``Scipix.recognize`` uses it), formula/image search
(:mod:`scipix.memory.search`), frequent sub-expressions (:mod:`scipix.memory.patterns`).
Kinds in use: ``result`` (image embeddings, cached results), ``reading`` (LaTeX embeddings),
``correction`` (the learning loop's correction memory; a change there makes the scope's cached
results stale).

``settings`` is the ``memory`` section (:class:`scipix.settings.model.MemorySettings`):
``connectivity``, ``expansion_add``, ``expansion_search``, ``dtype`` (f32/f16/i8) shape the
HNSW index; a kind of at least ``reduce_from`` entries is indexed projected on its
``reduce_dims`` principal axes (:mod:`scipix.memory.projection`: fitted on the stored vectors,
persisted, refitted when they drift) and an approximate index (projected, i8 or f16) gives
``rerank`` candidates per result to a re-rank by the kind's vector file (the scores returned
are exact f32 cosines from SQLite); ``persist_every`` how often it is
saved; ``dir`` where the service keeps its store
(unset: ``<runtime.data_dir>/memory``, :func:`memory_dir`).

Durability: SQLite (WAL) holds every entry with its vector; the usearch index files are a cache
saved atomically. A process killed at any moment loses no committed entry, and the next open
replays what the index file lacks; a corrupt or missing index file is rebuilt from SQLite with a
``RuntimeWarning``. Several processes may open one directory: each replays the others' commits
before it searches.

Replication hook ("sync-ready", for the CRDT layer of issue 20)::

    store.entries(kind=None, *, since: int = 0, tombstones: bool = False) -> Iterator[Entry]
        # in change order; Entry(id, uid, kind, scope, key, payload, vector, created, updated,
        # deleted, seq): uid is stable across stores, seq the local change number (resume from
        # the last seq seen)
    store.merge(entry: Entry) -> bool               # last writer (updated) wins per uid

Layout of a directory: ``memory.sqlite`` (+ ``-wal``/``-shm``), ``<kind>.<seq>.usearch`` and
``<kind>.vectors`` (the full vectors as float16 rows, memory-mapped, that the re-rank reads:
:mod:`scipix.memory.vectors`; a cache of SQLite like the index, rewritten with a warning when
it is missing, short or corrupt).
"""

from scipix.memory.embedding import gray_embedding, image_embedding, latex_embedding
from scipix.memory.entry import Entry, Hit
from scipix.memory.store import MemoryStore, memory_dir

__all__ = [
    "Entry",
    "Hit",
    "MemoryStore",
    "gray_embedding",
    "image_embedding",
    "latex_embedding",
    "memory_dir",
]
