"""``/v3/pdf`` against a live server: the official mpxpy client's PDF calls unchanged, the status
states, per-key scope, bad documents and uploads (pdf_* ids, never a 500), and a document
resumed after its server died. The PDFs are made here: two pages of prose and a formula drawn
by matplotlib (a real text layer), and hand-written PDF bodies."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from mpxpy.errors import ConversionIncompleteError
from mpxpy.mathpix_client import MathpixClient

from scipix.documents import DocumentOptions, PageLine, PageResult, Segment
from scipix.errors import ImageNoContentError
from scipix.server.app import create_app
from scipix.server.pdfstore import MAX_ATTEMPTS, PdfStore
from scipix.server.state import RecognitionService
from scipix.server.store import Database
from scipix.settings import Settings

from .conftest import Credentials, build_app, live_server, new_key

Server = tuple[str, Credentials, Path]
DONE = ("completed", "error")


def pdf_body(objects: list[str], trailer: str = "") -> bytes:
    """A PDF of ``objects`` (object 1 the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer}>>\n".encode()
    return bytes(out + f"startxref\n{xref}\n%%EOF\n".encode())


def empty_pages(count: int, box: str = "0 0 612 792", trailer: str = "") -> bytes:
    kids = " ".join(f"{n + 3} 0 R" for n in range(count))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>",
    ]
    return pdf_body(
        objects + [f"<< /Type /Page /Parent 2 0 R /MediaBox [{box}] >>"] * count, trailer
    )


def text_pages(count: int) -> bytes:
    """``count`` pages of prose, each with its own formula (matplotlib's PDF: a real text
    layer)."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with plt.rc_context({"pdf.fonttype": 42}), PdfPages(buffer) as pages:
        for number in range(1, count + 1):
            figure = plt.figure(figsize=(5, 3))
            figure.text(0.1, 0.8, f"Page {number} tells the energy of a body.", fontsize=12)
            figure.text(0.3, 0.5, rf"$E_{{{number}}} = m c^{{{number + 1}}}$", fontsize=16)
            figure.text(0.1, 0.2, "Here c is the speed of light.", fontsize=12)
            pages.savefig(figure)
            plt.close(figure)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def paper() -> bytes:
    """Two pages of prose with a formula each."""
    return text_pages(2)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, recognizer: RecognitionService
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("pdfapi") / "data"
    key = new_key(data_dir, "pdf", rate_limit_per_minute=100_000)
    app = build_app(data_dir, recognizer, allow_url_fetch=True, allow_private_urls=True)
    with live_server(app) as url:
        yield url, key, data_dir


def submit(url: str, key: Credentials, data: bytes, **options: Any) -> dict[str, Any]:
    files = {"file": ("doc.pdf", data, "application/pdf")}
    form = {"options_json": json.dumps(options)}
    response = httpx.post(f"{url}/v3/pdf", headers=key.headers, files=files, data=form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait(url: str, key: Credentials, pdf_id: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Every status body seen until the document is done (polled every 20 ms)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1].get("status") not in DONE:
        assert time.monotonic() < deadline, seen[-1:]
        body = httpx.get(f"{url}/v3/pdf/{pdf_id}", headers=key.headers).json()
        seen.append(body)
        time.sleep(0.02)
    return seen


def test_mpxpy_pdf_calls_work_unchanged(
    server: Server, paper: bytes, tmp_path: Path, needs_model: RecognitionService
) -> None:
    url, key, data_dir = server
    path = tmp_path / "paper.pdf"
    path.write_bytes(paper)
    mpx = MathpixClient(app_id=key.app_id, app_key=key.app_key, api_url=url)
    pdf = mpx.pdf_new(
        file_path=str(path), convert_to_docx=True, convert_to_md=True, convert_to_tex_zip=True
    )
    assert pdf.wait_until_complete(timeout=60)
    status = pdf.pdf_status()
    assert (status["status"], status["num_pages"], status["num_pages_completed"]) == (
        "completed",
        2,
        2,
    )
    assert status["percent_done"] == 100
    mmd, md = pdf.to_mmd_text(), pdf.to_md_text()
    for text in (mmd, md):
        assert "Page 1 tells the energy" in text and "speed of light" in text
        assert text.index("Page 1") < text.index("Page 2")
    docx = zipfile.ZipFile(pdf.to_docx_file(str(tmp_path / "out.docx")))
    assert "speed of light" in docx.read("word/document.xml").decode()
    assert zipfile.ZipFile(io.BytesIO(pdf.to_tex_zip_bytes())).namelist()
    lines = pdf.to_lines_json()
    assert [page["image_id"] for page in lines["pages"]] == [f"{pdf.pdf_id}-{n}" for n in (1, 2)]
    assert any("speed of light" in line["text"] for line in lines["pages"][0]["lines"])
    assert pdf.to_lines_mmd_json()["pages"][0]["lines"][0]["line"] == 1
    assert (
        zipfile.ZipFile(io.BytesIO(pdf.to_md_zip_bytes())).read(f"{pdf.pdf_id}.md").decode() == md
    )
    listed = mpx.query_pdf_results(pdf_id=pdf.pdf_id)["pdfs"]
    assert [(p["id"], p["input_file"], p["num_pages"]) for p in listed] == [
        (pdf.pdf_id, "paper.pdf", 2)
    ]
    pages = httpx.get(f"{url}/v3/ocr-results", headers=key.headers, params={"pdf_id": pdf.pdf_id})
    found = {r["request_id"]: r for r in pages.json()["ocr_results"]}
    assert set(found) == {f"{pdf.pdf_id}-1", f"{pdf.pdf_id}-2"}
    assert "speed of light" in found[f"{pdf.pdf_id}-1"]["result"]["text"]
    assert (data_dir / "pdfs" / f"{pdf.pdf_id}.pdf").exists()
    deleted = mpx.pdf_delete(pdf.pdf_id)
    assert deleted["deleted_at"] and not (data_dir / "pdfs" / f"{pdf.pdf_id}.pdf").exists()
    with pytest.raises(ConversionIncompleteError):
        pdf.to_mmd_text()


def test_a_url_and_the_status_states(
    server: Server, paper: bytes, tmp_path: Path, needs_model: RecognitionService
) -> None:
    url, key, _ = server
    (tmp_path / "paper.pdf").write_bytes(paper)
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    origin = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    try:
        mpx = MathpixClient(app_id=key.app_id, app_key=key.app_key, api_url=url)
        address = f"http://127.0.0.1:{origin.server_address[1]}/paper.pdf"
        pdf = mpx.pdf_new(url=address, improve_mathpix=False)  # privacy: out of history
        seen = wait(url, key, pdf.pdf_id)
    finally:
        origin.shutdown()
        origin.server_close()
    order = ["received", "loaded", "split", "completed"]
    states = [order.index(body["status"]) for body in seen]
    assert states == sorted(states) and seen[-1]["status"] == "completed"
    done = [body.get("num_pages_completed", 0) for body in seen]
    assert done == sorted(done) and seen[-1]["num_pages"] == 2
    assert pdf.pdf_conversion_status() == {"status": "completed", "conversion_status": {}}
    assert "speed of light" in pdf.to_mmd_text()
    assert mpx.query_pdf_results(pdf_id=pdf.pdf_id)["pdfs"][0]["input_file"] == address
    pages = httpx.get(f"{url}/v3/ocr-results", headers=key.headers, params={"pdf_id": pdf.pdf_id})
    assert pages.json() == {"ocr_results": []}


def test_another_key_sees_nothing(server: Server, paper: bytes) -> None:
    url, key, data_dir = server
    pdf_id = submit(url, key, empty_pages(0))["pdf_id"]
    other = new_key(data_dir, "other")
    status = httpx.get(f"{url}/v3/pdf/{pdf_id}", headers=other.headers).json()
    assert status["error_info"]["id"] == "pdf_unknown_id"
    for method, path in (("GET", f"{pdf_id}.mmd"), ("DELETE", pdf_id)):
        response = httpx.request(method, f"{url}/v3/pdf/{path}", headers=other.headers)
        assert (
            response.status_code == 404 and response.json()["error_info"]["id"] == "pdf_unknown_id"
        )
    converter = httpx.get(f"{url}/v3/converter/{pdf_id}", headers=other.headers).json()
    assert converter["error_info"]["id"] == "pdf_unknown_id"
    assert httpx.get(f"{url}/v3/pdf-results", headers=other.headers).json() == {"pdfs": []}
    assert wait(url, key, pdf_id)[-1]["status"] == "error"  # and the owner still sees it


ENCRYPT = (
    "/Encrypt << /Filter /Standard /V 1 /R 2 /O <" + "ab" * 32 + "> /U <" + "cd" * 32 + "> /P -4 >>"
    " /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]"
)
BAD_DOCUMENTS = {
    "encrypted": (lambda: empty_pages(1, trailer=ENCRYPT), "pdf_encrypted"),
    "10,001 pages": (lambda: empty_pages(10_001), "pdf_page_limit_exceeded"),
    "page-size bomb": (lambda: empty_pages(1, box="0 0 1000000 1000000"), "pdf_page_too_large"),
    "html renamed .pdf": (
        lambda: b"<!DOCTYPE html><html><body>a page</body></html>",
        "pdf_decode_error",
    ),
    "corrupt": (lambda: b"%PDF-1.7\n" + bytes(range(256)) * 8, "pdf_decode_error"),
    "zero pages": (lambda: empty_pages(0), "pdf_no_pages"),
    "a page missing from the page tree": (
        lambda: pdf_body(
            [
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [3 0 R 9 0 R] /Count 2 >>",
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            ]
        ),
        "pdf_decode_error",
    ),
}


@pytest.mark.parametrize("name", BAD_DOCUMENTS)
def test_a_bad_document_ends_in_its_pdf_error(server: Server, name: str) -> None:
    url, key, _ = server
    make, error_id = BAD_DOCUMENTS[name]
    pdf_id = submit(url, key, make())["pdf_id"]
    final = wait(url, key, pdf_id)[-1]
    assert (final["status"], final["error_info"]["id"]) == ("error", error_id), final
    download = httpx.get(f"{url}/v3/pdf/{pdf_id}.mmd", headers=key.headers)
    assert download.status_code == 404 and download.json()["error_info"]["id"] == error_id


def test_a_truncated_pdf_ends_in_pdf_decode_error(server: Server, paper: bytes) -> None:
    url, key, _ = server
    final = wait(url, key, submit(url, key, paper[: len(paper) // 2])["pdf_id"])[-1]
    assert final["error_info"]["id"] == "pdf_decode_error"


@pytest.mark.parametrize(
    ("options", "error_id"),
    [
        ({"bogus_option": 1}, "opts_bad_format"),
        ({"conversion_formats": {"xlsx": True}}, "opts_unknown_format"),
        ({"conversion_formats": {"nonsense": True}}, "opts_unknown_format"),
        ({"callback_url": "https://example.com/hook"}, "opts_bad_callback"),
        ({"streaming": "yes"}, "opts_bad_format"),
        ({"page_ranges": "1-x"}, "opts_bad_format"),
        ({"math_inline_delimiters": ["$"]}, "opts_bad_format"),
    ],
)
def test_bad_options_are_refused_at_upload(
    server: Server, options: dict[str, Any], error_id: str
) -> None:
    url, key, data_dir = server
    before = set((data_dir / "pdfs").glob("*"))
    files = {"file": ("doc.pdf", empty_pages(1), "application/pdf")}
    response = httpx.post(
        f"{url}/v3/pdf",
        headers=key.headers,
        files=files,
        data={"options_json": json.dumps(options)},
    )
    assert response.status_code == 200 and response.json()["error_info"]["id"] == error_id
    assert set((data_dir / "pdfs").glob("*")) == before  # nothing left on disk


def test_missing_documents_and_tokens_are_refused(server: Server) -> None:
    url, key, _ = server
    post = partial(httpx.post, f"{url}/v3/pdf", headers=key.headers)
    empty = post(files={"file": ("a.pdf", b"", "application/pdf")}).json()
    assert empty["error_info"]["id"] == "pdf_missing"
    assert (
        post(data={"options_json": "{}"}, files={"x": ("a", b"1")}).json()["error_info"]["id"]
        == "opts_bad_format"
    )
    assert post(json={"page_ranges": "1"}).json()["error_info"]["id"] == "pdf_missing"
    token = httpx.post(f"{url}/v3/app-tokens", headers=key.headers, json={}).json()["app_token"]
    refused = httpx.post(f"{url}/v3/pdf", headers={"app_token": token}, json={"url": "x"})
    assert refused.json()["error_info"]["id"] == "unauthorized_token_request"


def test_a_gigabyte_upload_is_refused_before_it_is_read(server: Server) -> None:
    url, key, _ = server
    host, port = url.removeprefix("http://").split(":")
    head = (
        f"POST /v3/pdf HTTP/1.1\r\nHost: {host}\r\napp_id: {key.app_id}\r\napp_key: {key.app_key}"
        "\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1073741824\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + b"--b\r\n")  # then nothing: the server must not wait
        answer = b""
        while b"sys_request_too_large" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b"sys_request_too_large" in answer


def test_a_chunked_upload_is_cut_off_at_the_limit(
    tmp_path: Path, recognizer: RecognitionService
) -> None:
    data_dir = tmp_path / "data"
    key = new_key(data_dir)
    limits = {"documents": {"max_bytes": 10_000}}
    settings = Settings(runtime={"data_dir": data_dir}, **limits)  # type: ignore[arg-type]
    app = create_app(settings, service=recognizer)

    def body() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
        for _ in range(100):
            yield b"%" * 1000
        yield b"\r\n--b--\r\n"

    with live_server(app) as url:
        headers = {**key.headers, "Content-Type": "multipart/form-data; boundary=b"}
        response = httpx.post(f"{url}/v3/pdf", headers=headers, content=body())
    assert response.json()["error_info"]["id"] == "sys_request_too_large"
    assert not list(data_dir.glob("pdfs/*"))


def stored_page(number: int, text: str) -> str:
    line = PageLine(kind="text", segments=(Segment(kind="text", value=text),), box=(0, 0, 9, 9))
    page = PageResult(page=number, width=10, height=10, dpi=200, source="text_layer", lines=(line,))
    return json.dumps(page.to_json())


DEAD_OWNER = f"{socket.gethostname()}:{2**22 + 12345}:0"  # above any pid_max: never running


def test_a_document_resumes_after_its_server_died_and_a_failed_page_fails_alone(
    tmp_path: Path, needs_model: RecognitionService
) -> None:
    data_dir = tmp_path / "data"
    key = new_key(data_dir)
    db = Database.in_dir(data_dir)
    store = PdfStore(db, data_dir / "pdfs")
    store.path("dead").parent.mkdir(parents=True)
    store.path("dead").write_bytes(text_pages(3))
    store.create("dead", key.app_id, "paper.pdf", {}, True)
    assert store.claim(DEAD_OWNER, lease_s=3600, alive=lambda _o: True) is not None
    store.set_pages("dead", DEAD_OWNER, 3, [0, 1, 2])
    store.put_page("dead", 0, stored_page(1, "read before the crash"))
    failed = PageResult.failed(2, ImageNoContentError(), 200)
    store.put_page("dead", 1, json.dumps(failed.to_json()))
    db.close()
    with live_server(build_app(data_dir, needs_model)) as url:
        final = wait(url, key, "dead")[-1]
        mmd = httpx.get(f"{url}/v3/pdf/dead.mmd", headers=key.headers).text
        lines = httpx.get(f"{url}/v3/pdf/dead.lines.json", headers=key.headers).json()
    assert (final["status"], final["num_pages_completed"]) == ("completed", 3)
    assert mmd.startswith("read before the crash") and "Page 3 tells" in mmd
    assert "Page 1 tells" not in mmd and "Page 2 tells" not in mmd  # stored pages not read again
    errors = [page.get("error_info", {}).get("id") for page in lines["pages"]]
    assert errors == [None, "image_no_content", None]


def test_a_document_whose_pages_stall_ends_in_error(
    tmp_path: Path, needs_model: RecognitionService
) -> None:
    data_dir = tmp_path / "data"
    key = new_key(data_dir)
    app = build_app(data_dir, needs_model, pdf_stall_s=0.05)  # no page is read that fast
    with live_server(app) as url:
        pdf_id = submit(url, key, text_pages(1), force_ocr=True, dpi=100)["pdf_id"]
        final = wait(url, key, pdf_id)[-1]
    assert final["status"] == "error" and "server.pdf_stall_s" in final["error"], final


def test_a_document_that_keeps_killing_its_workers_ends_in_error(tmp_path: Path) -> None:
    db = Database.in_dir(tmp_path)
    store = PdfStore(db, tmp_path / "pdfs")
    store.create("poison", "app", "x.pdf", {}, True)
    for _ in range(MAX_ATTEMPTS):
        assert store.claim(DEAD_OWNER, lease_s=3600) is not None  # each owner died at once
    assert store.claim(DEAD_OWNER, lease_s=3600) is None
    row = store.row("app", "poison")
    assert row["status"] == "error" and "stopped 3 times" in json.loads(row["error"])["error"]
    store.create("alive", "app", "y.pdf", {}, True)
    assert store.claim("worker-a", lease_s=3600, alive=lambda _o: True) is not None
    assert store.claim("worker-b", lease_s=3600, alive=lambda _o: True) is None  # leased
    store.release("alive", "worker-a")
    assert store.claim("worker-b", lease_s=3600, alive=lambda _o: True) is not None
    db.close()


def test_the_pdf_routes_are_in_the_openapi_schema(tmp_path: Path) -> None:
    paths = build_app(tmp_path, None).openapi()["paths"]
    assert set(paths["/v3/pdf"]) == {"post"}
    assert {"get", "delete"} <= set(paths["/v3/pdf/{pdf_id}"])
    for path in ("/v3/pdf/{pdf_id}.{ext}", "/v3/converter/{conversion_id}", "/v3/pdf-results"):
        assert "get" in paths[path]
    body = paths["/v3/pdf"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
    schemas = build_app(tmp_path, None).openapi()["components"]["schemas"]
    assert DocumentOptions.model_fields.keys() <= set(schemas["PdfRequest"]["properties"])


@contextmanager
def scipix_serve(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``scipix serve`` in its own process on a free port (killed at the end)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIPIX_")}
    env["SCIPIX_RUNTIME__DATA_DIR"] = str(data_dir)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "scipix", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "scipix serve did not start"
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


@pytest.mark.slow
def test_a_server_killed_mid_document_resumes_on_restart(
    tmp_path: Path, needs_model: RecognitionService
) -> None:
    data_dir = tmp_path / "data"
    pages = 6  # the kill lands mid-document (3 small pages could all finish between two polls)
    key = new_key(data_dir)
    with scipix_serve(data_dir) as (proc, url):
        pdf_id = submit(url, key, text_pages(pages), force_ocr=True, dpi=100)["pdf_id"]
        deadline = time.monotonic() + 60
        while True:
            status = httpx.get(f"{url}/v3/pdf/{pdf_id}", headers=key.headers).json()
            if status.get("num_pages_completed", 0) >= 1:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.02)
        proc.kill()  # SIGKILL: no shutdown, the lease stays written
    assert status["status"] == "split" and status["num_pages_completed"] < pages, status
    with scipix_serve(data_dir) as (_proc, url):
        final = wait(url, key, pdf_id)[-1]
        lines = httpx.get(f"{url}/v3/pdf/{pdf_id}.lines.json", headers=key.headers).json()
    assert (final["status"], final["num_pages_completed"]) == ("completed", pages), final
    assert [page["page"] for page in lines["pages"]] == list(range(1, pages + 1))
    assert all(page["lines"] and "error" not in page for page in lines["pages"]), lines
