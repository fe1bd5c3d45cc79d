"""ONNX Runtime sessions for the formula model, tuned for latency on a few shared cores.

- Graph optimizations at ``ORT_ENABLE_ALL`` (constant folding of the float16 weight casts,
  fusions, the NCHWc layout for the convolutions), operators run one after another
  (``ORT_SEQUENTIAL``, one inter-op thread): the graphs are chains.
- Intra-op threads do not spin while they wait: on a machine shared with other work a spinning
  thread burns the core another process (or the other worker) needs, and the decoder's steps
  are too short to gain from it (``spinning=True`` turns it back on).
- The decoder gets its own thread count: its steps are small matrix products over a few
  beam rows, for which one thread is as fast as two and leaves the other core to another
  worker; the convolutional encoder uses ``threads`` for large inputs (pages) and one thread
  for a formula crop (``small_input``): handing a few milliseconds of work to sleeping threads
  costs more than it saves (on 2 busy cores one thread read the shipped formulas in 114 ms
  p50 / 30 ms CPU, two threads in 142 / 40).
- The decoder for one image at the default beam runs on a session whose row count is fixed
  (``fixed``): the shape arithmetic of the exported graph folds away (219 -> 141 nodes, a step
  0.69 -> 0.53 ms CPU, the same outputs); other row counts use the general session. Its
  ``cross_k``/``cross_v`` rows are apart from the beam's (``cross_rows``, ``graph.py``): the
  encoder's one row is fed and broadcast (a step 0.40 -> 0.38 ms CPU, bit for bit the same).
- With a ``cache_dir`` the optimized graph is written once (named by the model file's size,
  modification time, ONNX Runtime's version and the CPU's features, so a new model, runtime or
  CPU makes a new one) and later sessions load it with the optimizations already applied: a
  shorter cold start. A damaged cached graph is dropped and written again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from scipix.errors import ModelError
from scipix.recognition.graph import cross_rows_apart

if TYPE_CHECKING:
    import onnxruntime as ort

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionConfig:
    """How the encoder and decoder sessions run (see the module docstring)."""

    threads: int = 0  # encoder intra-op threads; 0 = ONNX Runtime's default (all cores)
    decoder_threads: int = 1  # 0 = the same as ``threads``
    spinning: bool = False
    cache_dir: Path | None = None  # where optimized graphs are kept; None = optimize at load
    #: inputs of at most this many pixels (batch x height x width) go to a one-thread encoder
    small_input: int = 64 * 1024
    #: dimensions fixed to a size (ONNX Runtime's free-dimension overrides), e.g. the decoder's
    #: rows ``(("n", 3),)``: shape computations fold to constants, fewer nodes run per step
    fixed: tuple[tuple[str, int], ...] = ()
    #: the decoder's cross_k/cross_v take one row for all beam rows (``graph.py``)
    cross_rows: bool = False

    def for_decoder(self) -> SessionConfig:
        return self.with_threads(self.decoder_threads or self.threads)

    def with_threads(self, threads: int) -> SessionConfig:
        return replace(self, threads=threads, decoder_threads=threads)


def session_options(config: SessionConfig) -> ort.SessionOptions:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = config.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    spin = "1" if config.spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    for name, size in config.fixed:
        options.add_free_dimension_override_by_name(name, size)
    return options


def cached_graph(
    model: Path, cache_dir: Path, fixed: tuple[tuple[str, int], ...] = (), cross_rows: bool = False
) -> Path:
    """Where the optimized graph of ``model`` (with ``fixed`` dimensions, ``cross_rows``
    apart) is kept."""
    import onnxruntime as ort

    stat = model.stat()
    key = f"{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{ort.__version__}|{fixed}"
    key += "|cross-rows" if cross_rows else ""
    key += f"|{platform.machine()}|{cpu_features()}"
    digest = hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
    return cache_dir / f"{model.stem}-{digest}.onnx"


def cpu_features() -> str:
    """The CPU's instruction set extensions (the optimized graph's layout depends on them)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next((line for line in info if line.startswith("flags")), "")
    except OSError:  # not Linux
        return platform.processor()


def open_session(model: Path, config: SessionConfig) -> ort.InferenceSession:
    """A CPU session for ``model``; raises ModelError when the file cannot be loaded."""
    import onnxruntime as ort

    options = session_options(config)
    source: Path | bytes = model
    if config.cache_dir is not None:
        cached = cached_graph(model, config.cache_dir, config.fixed, config.cross_rows)
        if cached.is_file():
            source = cached
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        elif writable(config.cache_dir):
            # written beside its final name, then renamed: a reader never sees half a file
            options.optimized_model_filepath = str(cached.with_suffix(f".{os.getpid()}.tmp"))
            options.log_severity_level = 3  # not the warning that the graph suits this CPU
    if source == model and config.cross_rows:
        source = rows_apart(model)
    try:
        loaded = source if isinstance(source, bytes) else str(source)
        session = ort.InferenceSession(loaded, options, ["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises untyped errors for unreadable files
        if isinstance(source, Path) and source != model:  # a damaged cached graph: again
            log.warning("cached graph %s unreadable (%s); optimizing %s", source, exc, model)
            source.unlink(missing_ok=True)
            return open_session(model, config)
        if options.optimized_model_filepath:  # the cache could not be written: go without
            Path(options.optimized_model_filepath).unlink(missing_ok=True)
            return open_session(model, replace(config, cache_dir=None))
        raise ModelError(f"cannot load the formula model {model}: {exc}") from exc
    written = options.optimized_model_filepath
    if written and Path(written).is_file():
        cached = cached_graph(
            model, config.cache_dir or model.parent, config.fixed, config.cross_rows
        )
        Path(written).replace(cached)
    return session


def rows_apart(model: Path) -> Path | bytes:
    """``model`` with its cross keys/values rows apart (``graph.py``), or the file as it is
    when it does not have them as expected (its cross inputs then take every row)."""
    try:
        changed = cross_rows_apart(model.read_bytes())
    except OSError as exc:
        raise ModelError(f"cannot read the formula model {model}: {exc}") from exc
    if changed is None:
        log.warning("%s has no cross_k/cross_v inputs as expected: fed per row", model)
        return model
    return changed


def takes_one_cross_row(session: ort.InferenceSession) -> bool:
    """Whether ``session``'s cross_k input has rows of its own (``cross_rows``)."""
    found = {i.name: i.shape for i in session.get_inputs()}.get("cross_k")
    return found is not None and len(found) == 5 and found[1] == "c"


def writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)
