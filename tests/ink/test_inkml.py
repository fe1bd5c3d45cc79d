"""InkML parsing: traces, symbol trace groups, truth; unsafe and malformed documents refused."""

from __future__ import annotations

import pytest

from scipix.errors import StrokesNoContentError, StrokesSyntaxError
from scipix.ink import InkLimits, parse_inkml, read_inkml

from .conftest import DATA

INK = '<ink xmlns="http://www.w3.org/2003/InkML">{}</ink>'


def test_sample_traces_symbols_and_truth() -> None:
    doc = read_inkml(DATA / "two_x_equals_one.inkml")
    assert doc.truth == "2x=1"
    assert doc.writer == "scipix-tests"
    assert len(doc.ink.strokes) == 7  # 2: 1 stroke, x: 2, =: 2, 1: 2 (glyphs.GLYPHS)
    assert [s.label for s in doc.symbols] == ["2", "x", "=", "1"]
    assert doc.symbols[1].traces == (1, 2)
    x0, y0, x1, y1 = doc.ink.bounds()
    assert x0 >= 0 and y0 >= 0 and x1 > 200 and y1 <= 61


def test_time_channel_and_whitespace_are_accepted() -> None:
    doc = parse_inkml(INK.format('<trace id="a">1 2 0.5,3 4 0.6 ,\n 5 6 0.7</trace>').encode())
    assert doc.ink.strokes[0].tolist() == [[1, 2], [3, 4], [5, 6]]
    assert doc.truth is None and doc.symbols == ()


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ink xmlns="http://www.w3.org/2003/InkML"><annotation type="truth">&lol3;</annotation>
<trace>1 2, 3 4</trace></ink>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE ink [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<ink xmlns="http://www.w3.org/2003/InkML"><annotation type="truth">&secret;</annotation>
<trace>1 2, 3 4</trace></ink>"""


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (BOMB, "unsafe"),
        (EXTERNAL, "unsafe"),
        (b"<ink><trace>1 2, 3", "well-formed"),
        (b"", "well-formed"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "root element"),
        (INK.format("<trace>1 2, 3</trace>").encode(), "needs an x and a y"),
        (INK.format("<trace>1 2, a b</trace>").encode(), "not numbers"),
        (INK.format("<trace>1 2, nan 4</trace>").encode(), "finite"),
        (INK.format("<trace>1 2, 1e9 4</trace>").encode(), "coordinate limit"),
    ],
)
def test_unsafe_and_malformed_inkml_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(StrokesSyntaxError, match=why) as caught:
        parse_inkml(data)
    assert caught.value.error_id == "strokes_syntax_error"


def test_no_traces_is_no_content() -> None:
    with pytest.raises(StrokesNoContentError):
        parse_inkml(INK.format('<annotation type="truth">x</annotation>').encode())


def test_limits_apply_to_inkml() -> None:
    traces = "".join(f"<trace>{i} 0, {i} 1</trace>" for i in range(5))
    with pytest.raises(StrokesSyntaxError) as caught:
        parse_inkml(INK.format(traces).encode(), InkLimits(max_strokes=4))
    assert caught.value.detail["limit_name"] == "max_strokes"
    with pytest.raises(StrokesSyntaxError) as caught:
        parse_inkml(INK.format(traces).encode(), InkLimits(max_points=9))
    assert caught.value.detail["limit_name"] == "max_points"
