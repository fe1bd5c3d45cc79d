"""The result cache on the real model: the same image (or a re-encoded, rescaled copy) is
recognized once, a different formula or another scope is not served, a correction or the TTL
makes a cached result stale."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from scipix.memory.cache import CORRECTION_KIND, KIND
from scipix.memory.search import READING
from scipix.service import Scipix
from scipix.settings import Settings

QUADRATIC = Path(__file__).resolve().parents[2] / "examples" / "quadratic.png"


def text_png(text: str) -> bytes:
    image = Image.new("L", (360, 90), 255)
    ImageDraw.Draw(image).text((16, 18), text, fill=0, font=ImageFont.load_default(size=44))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def copy_of(path: Path, scale: float, fmt: str) -> bytes:
    image = Image.open(path).convert("RGB")
    size = (round(image.width * scale), round(image.height * scale))
    buf = io.BytesIO()
    image.resize(size, Image.Resampling.BICUBIC).save(buf, fmt, quality=70)
    return buf.getvalue()


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scipix]:
    settings = Settings(runtime={"data_dir": tmp_path_factory.mktemp("data")})  # type: ignore[arg-type]
    with Scipix(settings) as service:
        yield service


def test_the_same_image_twice_is_recognized_once(sp: Scipix) -> None:
    first = sp.recognize(QUADRATIC, scope="t1")
    assert first.cached is None and first.latex
    again = sp.recognize(QUADRATIC.read_bytes(), scope="t1")
    assert again.cached is True and again.latex == first.latex
    assert again.request_id != first.request_id
    assert "cached" in again.to_mathpix() and "cached" not in first.to_mathpix()
    assert sp.recognize(QUADRATIC, scope="someone else").cached is None  # per scope
    store = sp.memory_store()
    assert store is not None and store.count(READING, "t1") == 1


def test_a_re_encoded_or_rescaled_copy_is_served_and_another_formula_is_not(sp: Scipix) -> None:
    first = sp.recognize(QUADRATIC, scope="t2")
    for scale, fmt in ((1.0, "JPEG"), (0.8, "JPEG"), (1.25, "PNG")):
        copy = sp.recognize(copy_of(QUADRATIC, scale, fmt), scope="t2")
        assert copy.cached is True and copy.latex == first.latex, (scale, fmt)
    other = sp.recognize(text_png("y = a + 2"), scope="t2")
    assert other.cached is None and other.latex != first.latex


def test_a_correction_in_the_scope_makes_cached_results_stale(sp: Scipix) -> None:
    sp.recognize(QUADRATIC, scope="t3")
    assert sp.recognize(QUADRATIC, scope="t3").cached is True
    store = sp.memory_store()
    assert store is not None
    store.add(CORRECTION_KIND, np.ones(8, np.float32), {"correction_id": 1}, scope="t3")
    assert sp.recognize(QUADRATIC, scope="t3").cached is None  # recognized again
    assert sp.recognize(QUADRATIC, scope="t3").cached is True  # and cached anew


def test_expired_results_are_not_served_and_purged(sp: Scipix) -> None:
    cache = sp.result_cache()
    assert cache is not None
    sp.recognize(QUADRATIC, scope="t4")
    cache.ttl_s = 0.05
    try:
        time.sleep(0.1)
        assert sp.recognize(QUADRATIC, scope="t4").cached is None
        time.sleep(0.1)
        assert cache.purge() >= 1
        assert cache.store.count(KIND, "t4") == 0
    finally:
        cache.ttl_s = sp.settings.memory.cache_ttl_s


def test_with_the_cache_off_results_are_remembered_but_never_served(tmp_path: Path) -> None:
    from scipix.imaging.page import Page
    from scipix.memory import MemoryStore
    from scipix.memory.cache import ResultCache
    from scipix.schema import Result
    from scipix.settings.model import MemorySettings

    gray = np.full((40, 120), 255, np.uint8)
    gray[15:25, 10:110] = 0
    page = Page(gray, "hash", "array")
    vector = np.ones(16, np.float32)
    calls: list[int] = []

    def recognize() -> Result:
        calls.append(1)
        return Result(latex_styled="x+1")

    with MemoryStore.open(tmp_path / "m") as store:
        cache = ResultCache(store, MemorySettings(cache=False))
        for _ in range(2):
            result = cache.recognize("s", "ctx", lambda: page, lambda g: vector, recognize)
            assert result.cached is None
        assert len(calls) == 2 and store.count(READING, "s") == 1
        served = ResultCache(store, MemorySettings())
        assert served.recognize("s", "ctx", lambda: page, lambda g: vector, recognize).cached
        assert len(calls) == 2


def test_a_cached_hit_leaves_a_trajectory_marked_cache(sp: Scipix) -> None:
    first = sp.recognize(QUADRATIC, scope="t6")
    hit = sp.recognize(QUADRATIC.read_bytes(), scope="t6")
    assert hit.cached is True and sp.learning is not None
    kept = sp.learning.store.trajectory(hit.request_id)
    original = sp.learning.store.trajectory(first.request_id)
    assert kept is not None and original is not None and original.source == "model"
    assert (kept.source, kept.strategy, kept.nbest, kept.scope) == ("cache", "cache", (), "t6")
    assert kept.chosen == first.latex and kept.input_hash == original.input_hash


def test_a_hash_only_correction_replaces_the_cached_result(sp: Scipix) -> None:
    from scipix.learning.loop import same_reading

    first = sp.recognize(QUADRATIC, scope="t7")
    assert sp.recognize(QUADRATIC, scope="t7").cached is True
    fixed = "x^{2}-5x+6=1"
    sp.correct(fixed, scope="t7", request_id=first.request_id)  # no image: by its hash only
    after = sp.recognize(QUADRATIC, scope="t7")
    assert after.cached is None and after.corrected is True
    assert after.latex is not None and same_reading(after.latex, fixed)
    again = sp.recognize(QUADRATIC, scope="t7")  # the corrected result is what is cached now
    assert again.cached is True and again.latex == after.latex
    assert sp.recognize(QUADRATIC, scope="t8").corrected is None  # another scope: untouched


def test_recognize_many_serves_from_the_cache_in_input_order(sp: Scipix) -> None:
    other, third = text_png("y = a + 2"), text_png("q = 3 b")
    first = list(sp.recognize_many([QUADRATIC, other], scope="t9"))
    assert [r.cached for r in first] == [None, None]
    mixed = list(sp.recognize_many([QUADRATIC, third, b"not an image", other], scope="t9"))
    assert [r.cached for r in mixed] == [True, None, None, True]
    assert mixed[0].latex == first[0].latex and mixed[3].latex == first[1].latex
    assert mixed[2].error_info is not None and mixed[1].latex
    assert sp.recognize(third, scope="t9").cached is True  # the batch's miss was filed
    assert sp.learning is not None
    kept = sp.learning.store.trajectory(mixed[3].request_id)
    assert kept is not None and kept.source == "cache"
