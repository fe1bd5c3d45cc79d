"""An allow-list HTML sanitizer for the HTML that scipix writes (pandoc's HTML5 with MathML).

Text read from a document is never trusted: a page that says ``<script>`` or a link to
``javascript:`` must not become live markup in ``.html`` downloads. Pandoc is already told not to
pass raw HTML through; this is the second wall. Only known elements survive (text structure,
tables, code, images and MathML), with only known attributes; every ``on*`` handler, ``style``
and unknown attribute is dropped; ``href``/``src`` keep only ``http``, ``https``, ``mailto``,
fragment and relative URLs (and ``data:image/`` for images); the content of ``script``,
``style``, ``iframe``, ``object``, ``template``, ``svg`` and similar is dropped entirely.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TEXT_TAGS = _words(
    "a abbr b blockquote br caption cite code col colgroup dd del div dl dt em figcaption figure"
    " h1 h2 h3 h4 h5 h6 header hr i img ins kbd li mark ol p pre q s section small span strong"
    " sub sup table tbody td tfoot th thead tr u ul"
)
_MATHML_TAGS = _words(
    "math maction annotation menclose merror mfenced mfrac mi mmultiscripts mn mo mover mpadded"
    " mphantom mprescripts mroot mrow ms mspace msqrt mstyle msub msubsup msup mtable mtd mtext"
    " mtr munder munderover none semantics"
)
ALLOWED_TAGS = _TEXT_TAGS | _MATHML_TAGS
#: Dropped together with everything inside them.
_DROP_CONTENT = _words(
    "script style iframe object embed template noscript svg frame frameset applet title"
    " textarea select option xmp noembed plaintext"
)
_VOID = _words("br col hr img mspace mprescripts none")
_GLOBAL_ATTRS = frozenset({"id", "class", "title", "lang", "dir"})
_TAG_ATTRS = {
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span", "width"},
    "ol": {"start", "type"},
    "li": {"value"},
}
_MATHML_ATTRS = _words(
    "display xmlns mathvariant stretchy fence separator form lspace rspace accent accentunder"
    " columnalign rowalign columnspacing rowspacing columnlines rowlines frame displaystyle"
    " scriptlevel linethickness notation open close separators width height depth largeop"
    " movablelimits symmetric minsize maxsize encoding align"
)
_SAFE_URL = re.compile(r"^(?:https?:|mailto:|#|/(?!/)|\./|\.\./|[^:/?#]+(?:[/?#]|$))", re.I)
_DATA_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def safe_url(value: str, image: bool = False) -> bool:
    """Whether ``value`` may stay in an ``href`` (or, ``image``, an ``src``)."""
    squeezed = _CONTROL.sub("", html.unescape(value))
    if image and _DATA_IMAGE.match(value.strip()):
        return True
    return bool(_SAFE_URL.match(squeezed))


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self._dropping: list[str] = []  # open elements whose content is dropped
        self._open: list[str] = []

    def _attrs(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        allowed = _GLOBAL_ATTRS | _TAG_ATTRS.get(tag, set())
        if tag in _MATHML_TAGS:
            allowed = allowed | _MATHML_ATTRS
        kept = []
        for name, value in attrs:
            name = name.lower()
            if name not in allowed or (value is None and name in ("href", "src")):
                continue
            value = value or ""
            if name in ("href", "src") and not safe_url(value, image=name == "src"):
                continue
            kept.append(f' {name}="{html.escape(html.unescape(value), quote=True)}"')
        return "".join(kept)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if self._dropping or tag in _DROP_CONTENT:
            if tag not in _VOID:
                self._dropping.append(tag)
            return
        if tag not in ALLOWED_TAGS:
            return
        self.out.append(f"<{tag}{self._attrs(tag, attrs)}>")
        if tag not in _VOID:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if self._dropping or tag in _DROP_CONTENT or tag not in ALLOWED_TAGS:
            return
        self.out.append(f"<{tag}{self._attrs(tag, attrs)} />")

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if self._dropping:
            if tag == self._dropping[-1]:
                self._dropping.pop()
            return
        if tag in self._open:
            while self._open:
                closing = self._open.pop()
                self.out.append(f"</{closing}>")
                if closing == tag:
                    break

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.out.append(html.escape(data, quote=False))

    def handle_entityref(self, name: str) -> None:
        if not self._dropping:
            self.out.append(html.escape(html.unescape(f"&{name};"), quote=False))

    def handle_charref(self, name: str) -> None:
        if not self._dropping:
            self.out.append(html.escape(html.unescape(f"&#{name};"), quote=False))

    def close(self) -> None:
        super().close()
        self.out.extend(f"</{tag}>" for tag in reversed(self._open))
        self._open.clear()


def sanitize_html(fragment: str) -> str:
    """``fragment`` with only allowed elements, attributes and URLs (comments dropped)."""
    parser = _Sanitizer()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.out)
