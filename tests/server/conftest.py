"""Fixtures for the server tests: an app on a fresh database, keys, images, a live server.

Recognition needs the lead's model in ``src/scipix/weights/``: the ``recognizer`` fixture builds
the real :class:`scipix.service.Scipix` once per session, and tests that need recognition skip
(saying why) while there is no model. Everything else (errors, auth, limits, keys, usage,
history, batches of bad items) runs without one.
"""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from scipix.errors import ModelError
from scipix.server.app import create_app
from scipix.server.keys import KeyStore
from scipix.server.state import RecognitionService
from scipix.server.store import Database
from scipix.settings import Settings


def make_settings(data_dir: Path, **server: Any) -> Settings:
    return Settings(runtime={"data_dir": data_dir}, server=server)  # type: ignore[arg-type]


def png_bytes(width: int = 120, height: int = 48, text: str = "x + 1") -> bytes:
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).text((10, 15), text, fill=0)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


@dataclass(frozen=True)
class Credentials:
    app_id: str
    app_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"app_id": self.app_id, "app_key": self.app_key}


def new_key(data_dir: Path, name: str = "test", **kw: Any) -> Credentials:
    db = Database.in_dir(data_dir)
    try:
        new = KeyStore(db).create(name, **kw)
    finally:
        db.close()
    return Credentials(new.key.app_id, new.app_key)


@pytest.fixture(scope="session")
def recognizer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecognitionService]:
    """The real ``Scipix``, shared by the session's apps (its model loads on first use)."""
    from scipix.service import Scipix

    service = Scipix(make_settings(tmp_path_factory.mktemp("svc")))
    yield service
    service.close()


@pytest.fixture(scope="session")
def model_missing(recognizer: RecognitionService) -> str | None:
    """Why recognition cannot run here, or None when the model loads."""
    try:
        recognizer.formula_recognizer()  # type: ignore[attr-defined]
    except ModelError as exc:
        return exc.message
    return None


@pytest.fixture
def needs_model(recognizer: RecognitionService, model_missing: str | None) -> RecognitionService:
    if model_missing is not None:
        pytest.skip(f"no recognition model yet (the lead ships one): {model_missing}")
    return recognizer


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def key(data_dir: Path) -> Credentials:
    return new_key(data_dir)


def build_app(data_dir: Path, recognizer: RecognitionService | None, **server: Any) -> FastAPI:
    """An app on ``data_dir`` (``recognizer=None``: the app builds its own ``Scipix``)."""
    return create_app(make_settings(data_dir, **server), service=recognizer)


@pytest.fixture
def client(data_dir: Path, recognizer: RecognitionService) -> Iterator[TestClient]:
    with TestClient(build_app(data_dir, recognizer)) as test_client:
        yield test_client


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """``app`` on uvicorn at ``http://127.0.0.1:<ephemeral port>`` in a thread of this process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@pytest.fixture
def live_url(data_dir: Path, recognizer: RecognitionService) -> Iterator[str]:
    with live_server(build_app(data_dir, recognizer)) as url:
        yield url


def formula_png(latex: str, dpi: int = 200) -> bytes:
    """A clean rendering of ``latex`` (matplotlib mathtext, as the training data uses)."""
    mathtext = pytest.importorskip("scipix.training.mathtext")
    if not mathtext.mathtext_available():
        pytest.skip("matplotlib (the [train] extra) is needed to render formulas")
    outcome = mathtext.MathtextRenderer().render_one(latex, dpi)
    assert outcome.image is not None, outcome.error
    buf = io.BytesIO()
    Image.fromarray(outcome.image).save(buf, "PNG")
    return buf.getvalue()


def same_latex(got: str | None, expected: str) -> bool:
    """Equal up to spaces (``x^{2} + 1`` is ``x^{2}+1``)."""
    return got is not None and "".join(got.split()) == "".join(expected.split())
