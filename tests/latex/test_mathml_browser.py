"""The golden MathML rendered natively by headless Chromium (Debian's ``chromium``).

Every formula must lay out to a box of sensible size with no ``merror``; the page's screenshot is
saved (to ``$SCIPIX_SCREENSHOT_DIR`` when set, else the test's tmp dir) for a look by eye.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
GOLDEN = Path(__file__).parent / "golden" / "mathml.jsonl"
SCREENSHOTS = os.environ.get("SCIPIX_SCREENSHOT_DIR")  # read before the root conftest clears it


def test_golden_mathml_renders_in_chromium(browser: Any, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
    cells = "".join(
        f"<tr><td><code>{html.escape(row['latex'])}</code></td><td>{row['mathml']}</td></tr>"
        for row in rows
    )
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.set_content(
        '<!doctype html><html><head><meta charset="utf-8"><style>body{font-size:20px}'
        "td{border-bottom:1px solid #ccc;padding:4px}</style></head>"
        f"<body><table>{cells}</table></body></html>"
    )
    boxes = page.eval_on_selector_all(
        "math",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.width, r.height, e.querySelectorAll('merror').length]; })",
    )
    assert len(boxes) == len(rows)
    for row, (width, height, errors) in zip(rows, boxes, strict=True):
        assert errors == 0, row["latex"]
        assert 10 < width < 1100, (row["latex"], width)
        assert 10 < height < 400, (row["latex"], height)
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "latex_golden_mathml.png"), full_page=True)
    page.close()
