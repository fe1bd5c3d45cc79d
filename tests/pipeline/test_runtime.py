"""Runtimes: input order, errors as data, back-pressure, early stop."""

from __future__ import annotations

import random
import threading
import time

import pytest

from scipix.errors import ImageDecodeError, ScipixError
from scipix.pipeline import Job, LocalRuntime, Tag, run_inline
from scipix.schema import RecognizeOptions


def job(i: int) -> Job:
    return Job(seq=i, tag=Tag(f"r{i}"), source=i, options=RecognizeOptions())  # type: ignore[arg-type]


class Square:
    name = "square"

    def process(self, job: Job) -> Job:
        time.sleep(random.random() * 0.005)
        value = job.source
        if value == 3:
            raise ImageDecodeError("item 3 is bad")
        if value == 5:
            raise RuntimeError("a bug")
        job.source = value * value  # type: ignore[operator]
        return job


class Count:
    name = "count"

    def __init__(self) -> None:
        self.seen = 0
        self.lock = threading.Lock()

    def process(self, job: Job) -> Job:
        with self.lock:
            self.seen += 1
        return job


@pytest.mark.parametrize("workers", [1, 3])
def test_results_in_input_order_with_errors_as_data(workers: int) -> None:
    counter = Count()
    out = list(
        LocalRuntime(workers, queue_size=4).run([Square(), counter], (job(i) for i in range(40)))
    )
    assert [e.tag.id for e in out] == [f"r{i}" for i in range(40)]
    assert out[3].error is not None and out[3].error.error_id == "image_decode_error"
    assert out[5].error is not None and out[5].error.error_id == "sys_exception"
    assert "square" in out[5].error.message
    good = [e for e in out if e.error is None]
    assert len(good) == 38 and counter.seen == 38  # failed items skip later agents
    assert all(e.job is not None and e.job.take().source == e.seq**2 for e in good)


def test_back_pressure_bounds_what_is_read_ahead() -> None:
    read = []

    def source():  # type: ignore[no-untyped-def]
        for i in range(100):
            read.append(i)
            yield job(i + 10)

    runtime = LocalRuntime(workers=1, queue_size=4)
    results = runtime.run([Count()], source())
    next(results)
    time.sleep(0.3)
    assert len(read) <= runtime.max_in_flight + 2  # not all 100
    results.close()  # the consumer stops early: threads wind down


def test_inline_runs_in_order_and_raises_the_first_error() -> None:
    assert run_inline([Square(), Count()], job(4)).source == 16
    with pytest.raises(ImageDecodeError):
        run_inline([Square()], job(3))
    with pytest.raises(ScipixError, match="Internal error in the square stage"):
        run_inline([Square()], job(5))


def test_a_bug_keeps_its_cause_and_is_logged_with_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("ERROR", logger="scipix.pipeline"), pytest.raises(ScipixError) as caught:
        run_inline([Square()], job(5))
    error = caught.value
    assert error.error_id == "sys_exception" and error.http_status == 500
    assert isinstance(error.__cause__, RuntimeError)  # chained, for a debugger or a log
    assert "a bug" not in error.message and "RuntimeError" not in error.message
    assert "r5" in error.message  # the request id, to find the log line
    (record,) = [r for r in caplog.records if r.name == "scipix.pipeline"]
    assert "r5" in record.getMessage() and record.exc_info is not None
    assert record.exc_info[1] is error.__cause__


def test_stats_are_shared_by_all_workers() -> None:
    from scipix.pipeline.runtime import new_stats

    stats = new_stats()
    list(LocalRuntime(3, queue_size=4).run([Square(), Count()], (job(i) for i in range(30)), stats))
    with stats.lock() as table:
        assert (table["square"].done, table["square"].failed) == (28, 2)
        assert table["count"].done == 28 and table["count"].failed == 0
        assert table["square"].mean_ms > 0
