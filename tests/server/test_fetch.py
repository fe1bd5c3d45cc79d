"""The src-URL guard: off by default, no private addresses, bounded in size and time.

Only loopback servers are contacted; private and reserved addresses are refused before any
connection is attempted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import pytest

from scipix.errors import ImageDownloadError
from scipix.server.fetch import fetch_image, is_public
from scipix.settings import ServerSettings

PAYLOAD = b"\x89PNG fake image bytes" * 10


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/image.png":
            self._send(200, PAYLOAD)
        elif self.path == "/big":
            self._send(200, b"x" * 50_000)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"1000\r\n" + b"y" * 0x1000 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, PAYLOAD)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/image.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"no")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url: str, **settings: object) -> bytes:
    config = ServerSettings(**settings)  # type: ignore[arg-type]
    return anyio.run(fetch_image, url, config)


def test_fetching_is_off_unless_enabled(origin: str) -> None:
    with pytest.raises(ImageDownloadError, match="allow_url_fetch"):
        fetch(f"{origin}/image.png")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/a.png",
        "http://192.168.1.10/a.png",
        "http://172.16.0.5/a.png",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:9/a.png",
        "http://0.0.0.0/a.png",
        "http://[::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://[fd00::1]/a.png",
        "http://localhost:9/a.png",
    ],
)
def test_private_and_loopback_addresses_are_refused(url: str) -> None:
    with pytest.raises(ImageDownloadError, match="private") as err:
        fetch(url, allow_url_fetch=True)
    assert err.value.to_mathpix()["error_info"]["url"] == url


@pytest.mark.parametrize("url", ["ftp://example.org/a.png", "file:///etc/passwd", "http:///x"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(ImageDownloadError):
        fetch(url, allow_url_fetch=True)


def test_public_addresses_pass_the_check() -> None:
    import ipaddress

    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert not is_public(ipaddress.ip_address("100.64.0.1"))  # carrier-grade NAT


def test_an_allowed_loopback_url_is_fetched_and_redirects_followed(origin: str) -> None:
    allowed = {"allow_url_fetch": True, "allow_private_urls": True}
    assert fetch(f"{origin}/image.png", **allowed) == PAYLOAD
    assert fetch(f"{origin}/redirect", **allowed) == PAYLOAD
    with pytest.raises(ImageDownloadError, match="redirects"):
        fetch(f"{origin}/loop", **allowed)
    with pytest.raises(ImageDownloadError, match="404"):
        fetch(f"{origin}/missing", **allowed)


def test_size_and_time_limits(origin: str) -> None:
    allowed = {"allow_url_fetch": True, "allow_private_urls": True, "url_max_bytes": 10_000}
    with pytest.raises(ImageDownloadError, match="larger"):
        fetch(f"{origin}/big", **allowed)
    with pytest.raises(ImageDownloadError, match="larger"):
        fetch(f"{origin}/chunked", **allowed)
    started = time.monotonic()
    with pytest.raises(ImageDownloadError, match="longer"):
        fetch(f"{origin}/slow", **allowed, url_timeout_s=0.5)
    assert time.monotonic() - started < 1.8
