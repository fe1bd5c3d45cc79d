"""Rate windows, usage counters and history: what /v3/ocr-usage and /v3/ocr-results read."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scipix.errors import RateLimitError
from scipix.server.ledger import HistoryEntry, Ledger, ResultFilter, UsageQuery, args_hash
from scipix.server.store import Database


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(Database.in_dir(tmp_path))


def entry(request_id: str, ts: float, **kw: object) -> HistoryEntry:
    values: dict[str, object] = {
        "request_id": request_id,
        "app_id": "app",
        "timestamp": ts,
        "endpoint": "/v3/text",
        "duration": 0.01,
        "request_args": {"formats": ["text"]},
        "result": {"request_id": request_id, "text": "\\( x^{2} \\)", "is_printed": True},
    }
    values.update(kw)
    return HistoryEntry(**values)  # type: ignore[arg-type]


def test_the_rate_limit_counts_per_minute_and_per_key(ledger: Ledger) -> None:
    now = 1_000_020.0
    for _ in range(3):
        ledger.admit("a", 3, now)
    with pytest.raises(RateLimitError) as err:
        ledger.admit("a", 3, now)
    body = err.value.to_mathpix()["error_info"]
    assert body["id"] == "http_max_requests" and body["limit_value"] == 3 and body["count"] == 4
    assert ledger.admit("b", 3, now) == 1  # another key has its own window
    assert ledger.admit("a", 3, now + 60) == 1  # the next minute starts again


def test_history_filters_and_pages_newest_first(ledger: Ledger) -> None:
    base = 1_700_000_000.0
    for i in range(5):
        ledger.record(entry(f"r{i}", base + i, tags=("even",) if i % 2 == 0 else ("odd",)))
    ledger.record(entry("hidden", base + 9, keep=False))
    ledger.record(entry("failed", base + 10, result={"error": "x", "error_info": {"id": "x"}}))
    found = ledger.results("app", ResultFilter())
    assert [r["image_id"] for r in found] == ["r4", "r3", "r2", "r1", "r0"]
    assert found[0]["timestamp"].endswith("Z") and found[0]["result"]["text"] == "\\( x^{2} \\)"
    page2 = ledger.results("app", ResultFilter(page=2, per_page=2))
    assert [r["image_id"] for r in page2] == ["r2", "r1"]
    even = ledger.results("app", ResultFilter(tags=("even",)))
    assert [r["image_id"] for r in even] == ["r4", "r2", "r0"]
    window = ledger.results("app", ResultFilter(from_ts=base + 1, to_ts=base + 3))
    assert [r["image_id"] for r in window] == ["r2", "r1"]
    assert ledger.results("app", ResultFilter(text="x^{2}", request_id="r3"))[0]["image_id"] == "r3"
    assert ledger.results("app", ResultFilter(text="y^{3}")) == []
    assert len(ledger.results("app", ResultFilter(detections={"is_printed": True}))) == 5
    assert ledger.results("app", ResultFilter(detections={"is_handwritten": True})) == []
    assert ledger.results("other", ResultFilter()) == []
    with_null = ledger.results("app", ResultFilter(include_null_results=True))
    assert with_null[0]["image_id"] == "failed"


def test_usage_groups_by_time_and_fields(ledger: Ledger) -> None:
    t = 1_700_000_000.0
    ledger.record(entry("a", t, request_args={"formats": ["text"]}))
    ledger.record(entry("b", t + 1, request_args={"formats": ["text"]}, keep=False))
    ledger.record(entry("c", t + 2, request_args={"formats": ["data"]}, usage_type="image-batch"))
    ledger.record(entry("d", t + 3, usage_type=None))  # a failed request costs nothing
    by_type = ledger.usage("app", UsageQuery())
    assert {(u["usage_type"], u["count"]) for u in by_type} == {("image", 2), ("image-batch", 1)}
    by_hash = ledger.usage("app", UsageQuery(group_by=("request_args_hash",), timespan="day"))
    counts = {u["request_args_hash"]: u["count"] for u in by_hash}
    assert counts == {args_hash({"formats": ["text"]}): 2, args_hash({"formats": ["data"]}): 1}
    assert ledger.usage("app", UsageQuery(from_ts=t + 86400 * 40)) == []


def test_a_correction_keeps_the_original_from_history(ledger: Ledger) -> None:
    ledger.record(entry("r1", time.time(), result={"latex_styled": "x^{2}"}))
    cid, original = ledger.add_correction("app", "x^{3}", "r1", b"\x89PNG")
    assert cid >= 1 and original == "x^{2}"
    _, given = ledger.add_correction("app", "y", None, None, original="z")
    assert given == "z"
