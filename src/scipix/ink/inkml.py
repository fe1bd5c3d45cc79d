"""InkML (W3C digital ink, as CROHME writes it): traces, symbol trace groups and the truth.

Parsed with :mod:`defusedxml`: a document that declares entities (the "billion laughs" bomb),
points at external entities or DTDs is refused, never expanded. Only what math ink needs is
read: each ``<trace>`` ("x y[, x y ...]"; extra channels such as time are ignored), the
``<annotation type="truth">`` of the document (the LaTeX, outer ``$`` stripped) and every
``<traceGroup>`` that holds ``<traceView traceDataRef=...>`` links (a symbol: its truth label and
the traces it is made of). Anything malformed is ``strokes_syntax_error``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from scipix.errors import StrokesSyntaxError
from scipix.ink.strokes import Ink, InkLimits, make_ink

NS = "{http://www.w3.org/2003/InkML}"
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_SEPARATOR = re.compile(r"\s*,\s*")
#: The most bytes an InkML document may have (CROHME files are 2-60 KB).
MAX_INKML_BYTES = 5_000_000


@dataclass(frozen=True)
class Symbol:
    """One symbol of the ink: its truth label (``x``, ``\\sum``, ``-``) and its strokes' indices."""

    label: str
    traces: tuple[int, ...]


@dataclass(frozen=True)
class InkDocument:
    """A parsed InkML document."""

    ink: Ink
    truth: str | None  # the LaTeX, without its outer $ (None when the file has none)
    symbols: tuple[Symbol, ...]
    writer: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _annotation(element: Element, kind: str) -> str | None:
    for child in _children(element, "annotation"):
        if child.get("type") == kind:
            return (child.text or "").strip()
    return None


def _trace_points(text: str, index: int) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    for point in _SEPARATOR.split(text.strip()):
        values = point.split()
        if len(values) < 2:
            raise StrokesSyntaxError(f"trace {index}: point {point!r} needs an x and a y")
        try:
            xs.append(float(values[0]))
            ys.append(float(values[1]))
        except ValueError:
            raise StrokesSyntaxError(f"trace {index}: {point!r} is not numbers") from None
    return xs, ys


def _root(data: bytes) -> Element:
    if len(data) > MAX_INKML_BYTES:
        raise StrokesSyntaxError(
            f"the InkML is larger than {MAX_INKML_BYTES} bytes",
            limit_name="max_inkml_bytes",
            limit_value=MAX_INKML_BYTES,
        )
    try:
        root: Element = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StrokesSyntaxError(f"unsafe InkML refused ({type(exc).__name__})") from None
    except (ParseError, ValueError) as exc:
        raise StrokesSyntaxError(f"the InkML is not well-formed XML: {exc}") from None
    if _local(root.tag) != "ink":
        raise StrokesSyntaxError(f"not InkML: the root element is <{_local(root.tag)}>, not <ink>")
    return root


def _symbols(root: Element, ids: dict[str, int]) -> tuple[Symbol, ...]:
    found: list[Symbol] = []
    for group in root.iter(NS + "traceGroup"):
        refs = [view.get("traceDataRef", "") for view in _children(group, "traceView")]
        label = _annotation(group, "truth")
        if not refs or label is None:
            continue
        indices = tuple(ids[ref] for ref in refs if ref in ids)
        if indices:
            found.append(Symbol(label, indices))
    return tuple(found)


def parse_inkml(data: bytes, limits: InkLimits | None = None) -> InkDocument:
    """Parse InkML bytes (:class:`StrokesSyntaxError` when malformed, unsafe or over limits)."""
    limits = limits or InkLimits()
    root = _root(data)
    traces = _children(root, "trace")
    if len(traces) > limits.max_strokes:
        raise StrokesSyntaxError(
            f"too many traces: at most {limits.max_strokes} are accepted",
            limit_name="max_strokes",
            limit_value=limits.max_strokes,
        )
    pairs: list[tuple[Sequence[float], Sequence[float]]] = []
    ids: dict[str, int] = {}
    for index, trace in enumerate(traces):
        ids[trace.get("id", trace.get(_XML_ID, str(index)))] = index
        pairs.append(_trace_points(trace.text or "", index))
    ink = make_ink(pairs, limits)
    truth = _annotation(root, "truth")
    if truth is not None:
        truth = truth.strip().strip("$").strip()
    return InkDocument(ink, truth or None, _symbols(root, ids), _annotation(root, "writer"))


def read_inkml(path: Path, limits: InkLimits | None = None) -> InkDocument:
    """Parse an InkML file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StrokesSyntaxError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_inkml(data, limits)
