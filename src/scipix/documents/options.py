"""What a document conversion should produce: :class:`DocumentOptions` (frozen, per call).

The fields mirror the options of Mathpix's ``POST /v3/pdf`` that change the output of this
package (``math_inline_delimiters``, ``math_display_delimiters``, ``page_ranges``); the rest of a
Mathpix body (``conversion_formats``, ``metadata``, ``rm_spaces`` …) is the server's business and
is ignored by :meth:`DocumentOptions.from_mathpix`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from scipix.errors import OptionsError
from scipix.schema import DISPLAY_DELIMITERS, INLINE_DELIMITERS, OptionsModel

#: Resolution (dots per inch) at which pages without a text layer are rendered and read.
DEFAULT_DPI = 200

_RANGE_PART = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$")


class DocumentOptions(OptionsModel):
    """Per-call options of a document conversion (frozen; unknown keys refused)."""

    math_inline_delimiters: tuple[str, str] = INLINE_DELIMITERS
    math_display_delimiters: tuple[str, str] = DISPLAY_DELIMITERS
    page_ranges: str | None = Field(
        None, description='Pages to read, 1-based, Mathpix-style: "2,4-6", "2 - -2" (-1 = last).'
    )
    dpi: int = Field(DEFAULT_DPI, ge=72, le=600, description="Resolution for pages read by OCR.")
    force_ocr: bool = Field(False, description="Read every page by OCR, ignoring its text layer.")

    @classmethod
    def from_mathpix(cls, body: Mapping[str, Any], **defaults: Any) -> DocumentOptions:
        """The options in a Mathpix ``/v3/pdf`` body (other keys ignored); ``defaults`` (such
        as ``dpi`` from settings) fill what the body leaves out."""
        known = {k: v for k, v in body.items() if k in cls.model_fields and v is not None}
        return cls.model_validate({**defaults, **known})

    def select_pages(self, num_pages: int) -> list[int]:
        """The 0-based page indices that ``page_ranges`` selects, in order, without repeats
        (every page when unset); raises OptionsError for a malformed range."""
        if not self.page_ranges or not self.page_ranges.strip():
            return list(range(num_pages))
        chosen: dict[int, None] = {}
        for part in self.page_ranges.split(","):
            match = _RANGE_PART.match(part)
            if match is None:
                raise OptionsError(
                    f'page_ranges: cannot read {part.strip()!r} (write e.g. "2,4-6" or "2 - -2")',
                    name="page_ranges",
                )
            first = _page_index(int(match.group(1)), num_pages)
            last = first if match.group(2) is None else _page_index(int(match.group(2)), num_pages)
            for index in range(max(first, 0), min(last, num_pages - 1) + 1):
                chosen[index] = None
        return list(chosen)


def _page_index(number: int, num_pages: int) -> int:
    """A 1-based page number (negative counts from the end: -1 is the last) as an index."""
    if number == 0:
        raise OptionsError("page_ranges: pages are numbered from 1", name="page_ranges")
    return number - 1 if number > 0 else num_pages + number
