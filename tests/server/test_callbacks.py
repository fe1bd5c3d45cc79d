"""Callbacks of ``/v3/pdf`` against a live server and a local HTTP receiver (loopback allowed by
these settings): a finished document is POSTed, signed as Mathpix signs (mpxpy's own
``verify_signature`` checks it), retried after a failure, and a receiver that never answers
leaves the document as it is. Bad callbacks are refused at upload with ``opts_bad_callback``;
callbacks are off by default and never reach loopback unless allowed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mpxpy.mathpix_client import MathpixClient
from mpxpy.webhooks import verify_signature

from scipix.server.callbacks import Callback, CallbackSender
from scipix.server.state import RecognitionService
from scipix.server.store import Database
from scipix.settings import ServerSettings

from .conftest import Credentials, build_app, live_server, new_key
from .test_pdf_api import empty_pages, submit, text_pages, wait

SECRET = "s3cret-for-tests"
Server = tuple[str, Credentials]


class Receiver:
    """A local HTTP endpoint that records what it is sent and answers ``codes`` in turn."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.end_headers()
                if code == 200:
                    receiver.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver([500])  # the first delivery fails: the second must come
    yield found
    found.close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, recognizer: RecognitionService
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("callbacks") / "data"
    key = new_key(data_dir, "cb", rate_limit_per_minute=100_000)
    app = build_app(
        data_dir,
        recognizer,
        callbacks=True,
        callback_allow_private=True,
        callback_secret=SECRET,
        callback_backoff_s=0.05,
    )
    with live_server(app) as url:
        yield url, key


def test_a_failed_document_is_delivered_signed_after_a_retry(
    server: Server, receiver: Receiver
) -> None:
    url, key = server
    headers = {"X-Token": "abc"}
    options = {"callback_url": receiver.url, "callback_headers": headers}
    pdf_id = submit(url, key, b"<html>not a pdf</html>", **options)["pdf_id"]
    assert wait(url, key, pdf_id)[-1]["status"] == "error"
    assert receiver.arrived.wait(10)
    assert len(receiver.got) == 2  # 500, then delivered
    sent, body = receiver.got[-1]
    assert sent["X-Token"] == "abc" and sent["Content-Type"] == "application/json"
    assert verify_signature(sent["Mathpix-Signature"], body, SECRET)
    assert not verify_signature(sent["Mathpix-Signature"], body + b" ", SECRET)
    delivered = json.loads(body)
    assert (delivered["event"], delivered["pdf_id"], delivered["status"]) == (
        "file.error",
        pdf_id,
        "error",
    )
    assert delivered["error_info"]["id"] == "pdf_decode_error"
    listed = httpx.get(f"{url}/v3/pdf-results", headers=key.headers, params={"pdf_id": pdf_id})
    assert listed.json()["pdfs"][0]["request_args"]["callback_headers"] == {"X-Token": "***"}


def test_mpxpy_callback_url_delivers_the_completed_status(
    server: Server, receiver: Receiver, tmp_path: Path, needs_model: RecognitionService
) -> None:
    url, key = server
    path = tmp_path / "one.pdf"
    path.write_bytes(text_pages(1))
    mpx = MathpixClient(app_id=key.app_id, app_key=key.app_key, api_url=url)
    pdf = mpx.pdf_new(file_path=str(path), convert_to_md=True, callback_url=receiver.url)
    assert pdf.wait_until_complete(timeout=60)
    assert receiver.arrived.wait(10)
    delivered = json.loads(receiver.got[-1][1])
    assert delivered["event"] == "file.completed" and delivered["num_pages_completed"] == 1
    assert delivered["conversion_status"] == {"md": {"status": "completed"}}


def test_a_receiver_that_never_answers_leaves_the_document_alone(server: Server) -> None:
    url, key = server
    dead = Receiver([503, 503, 503, 503])
    try:
        callback = {"post": dead.url, "reply": {"mine": 7}}
        pdf_id = submit(url, key, b"%PDF-1.4 broken", callback=callback)["pdf_id"]
        assert wait(url, key, pdf_id)[-1]["error_info"]["id"] == "pdf_decode_error"
        deadline = time.monotonic() + 10
        while len(dead.got) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # no fourth attempt comes
    finally:
        dead.close()
    assert len(dead.got) == 3  # server.callback_attempts, then given up
    assert json.loads(dead.got[0][1])["mine"] == 7  # the callback object's reply is merged
    status = httpx.get(f"{url}/v3/pdf/{pdf_id}", headers=key.headers).json()
    assert status["status"] == "error"


@pytest.mark.parametrize(
    "options",
    [
        {"callback_url": "ftp://127.0.0.1/hook"},
        {"callback_url": "http:///nohost"},
        {"callback_url": "http://127.0.0.1:1/h", "callback_headers": {"Host": "evil"}},
        {"callback_url": "http://127.0.0.1:1/h", "callback_headers": {"Mathpix-Signature": "x"}},
        {"callback_url": "http://127.0.0.1:1/h", "callback_headers": {"X-A": "1\r\nX-B: 2"}},
        {"callback_url": "http://127.0.0.1:1/h", "callback_events": ["file.deleted"]},
        {"callback_headers": {"X-A": "1"}},
        {"callback": {"post": 5}},
        {"callback": {"post": "http://127.0.0.1:1/h", "evil": 1}},
        {"webhook_url": "http://127.0.0.1:1/h"},
        {"callback_url": "http://no-such-host.invalid/h"},
    ],
)
def test_bad_callbacks_are_refused_at_upload(server: Server, options: dict[str, Any]) -> None:
    url, key = server
    files = {"file": ("doc.pdf", empty_pages(1), "application/pdf")}
    form = {"options_json": json.dumps(options)}
    response = httpx.post(f"{url}/v3/pdf", headers=key.headers, files=files, data=form)
    assert response.status_code == 200
    assert response.json()["error_info"]["id"] == "opts_bad_callback", response.json()


def test_callbacks_are_off_by_default_and_loopback_needs_permission(
    tmp_path: Path, recognizer: RecognitionService
) -> None:
    key = new_key(tmp_path / "data")
    hook = {"callback_url": "http://127.0.0.1:9/hook"}
    for settings, reason in (
        ({}, "server.callbacks"),
        ({"callbacks": True}, "private, loopback"),
        ({"callbacks": True, "callback_hosts": ["hooks.example.com"]}, "callback_hosts"),
    ):
        with live_server(build_app(tmp_path / "data", recognizer, **settings)) as url:
            body = {"url": "http://127.0.0.1:9/doc.pdf", **hook}
            refused = httpx.post(f"{url}/v3/pdf", headers=key.headers, json=body).json()
        assert refused["error_info"]["id"] == "opts_bad_callback"
        assert reason in refused["error"] and refused["error_info"]["post"] == hook["callback_url"]


def test_a_batch_callback_gets_the_results_with_its_reply(
    server: Server, receiver: Receiver
) -> None:
    url, key = server
    callback = {"post": receiver.url, "reply": {"mine": "yes"}, "headers": {"X-T": "1"}}
    body = {"urls": {"bad": "data:image/png;base64,AAAA"}, "callback": callback}
    batch_id = httpx.post(f"{url}/v3/batch", headers=key.headers, json=body).json()["batch_id"]
    assert receiver.arrived.wait(10)
    sent, raw = receiver.got[-1]
    delivered = json.loads(raw)
    assert (delivered["event"], delivered["batch_id"], delivered["keys"]) == (
        "batch.completed",
        batch_id,
        ["bad"],
    )
    assert delivered["results"]["bad"]["error_info"]["id"] == "image_decode_error"
    assert delivered["mine"] == "yes" and sent["X-T"] == "1"
    clash = {"urls": {"a": "data:,"}, "callback": {"post": receiver.url, "reply": {"batch_id": 1}}}
    refused = httpx.post(f"{url}/v3/batch", headers=key.headers, json=clash).json()
    assert refused["error_info"]["id"] == "opts_bad_callback"


def test_a_delivery_left_by_a_stopped_server_is_made_by_the_next(tmp_path: Path) -> None:
    """The outbox is in the database: what one server stored and could not deliver before it
    stopped (here: never started delivering) the next one delivers, retried after a 500, and
    then it is gone from the outbox."""
    settings = ServerSettings(
        callbacks=True, callback_allow_private=True, callback_backoff_s=0.05, callback_secret=SECRET
    )
    got = Receiver([500])
    db = Database(tmp_path / "server.sqlite3")
    try:
        first = CallbackSender(settings, db)
        callback = Callback(url=got.url, headers={"X-Token": "abc"}, reply={"mine": 7})
        anyio.run(first.send, callback, "file.completed", {"pdf_id": "p1", "status": "completed"})
        assert first.pending() == 1 and not got.got

        async def next_server() -> None:
            second = CallbackSender(settings, Database(tmp_path / "server.sqlite3"))
            second.start()
            with anyio.fail_after(10):
                while second.pending():
                    await anyio.sleep(0.02)
            await second.close()

        anyio.run(next_server)
        assert len(got.got) == 2  # 500, then delivered
        sent, body = got.got[-1]
        assert sent["X-Token"] == "abc" and verify_signature(
            sent["Mathpix-Signature"], body, SECRET
        )
        assert json.loads(body) == {
            "pdf_id": "p1",
            "status": "completed",
            "mine": 7,
            "event": "file.completed",
        }
    finally:
        got.close()
        db.close()
