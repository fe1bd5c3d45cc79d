"""``POST /v3/converter`` against a live server with the official mpxpy client (``conversion_new``
-> ``wait_until_complete`` -> downloads), bad requests (Mathpix ids, HTTP 200, never a 500), and
the HTML / PowerPoint / latex.pdf downloads of ``/v3/pdf`` for a PDF whose text says
``<script>`` (sanitized: it stays text)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mpxpy.errors import ConversionIncompleteError
from mpxpy.mathpix_client import MathpixClient

from scipix.documents.browser import browser
from scipix.documents.convert import tex_engine
from scipix.server.converter import MAX_BODY_BYTES
from scipix.server.state import RecognitionService

from .conftest import Credentials, build_app, live_server, new_key
from .test_pdf_api import submit, wait

Server = tuple[str, Credentials, Path]
MMD = (
    "\\title{Notes}\n\n\\section*{Energy}\n\n"
    "A body of mass \\(m\\) has energy \\(E=m c^{2}\\) <script>alert(1)</script>.\n\n"
    "\\[\n\\int_{0}^{1} x^{2} d x=\\frac{1}{3}\n\\]\n"
)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, recognizer: RecognitionService
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("converter") / "data"
    key = new_key(data_dir, "cnv", rate_limit_per_minute=100_000)
    with live_server(build_app(data_dir, recognizer)) as url:
        yield url, key, data_dir


def live_tags(page: str) -> list[str]:
    """Tags that could run code (escaped text such as ``&lt;script&gt;`` is not a tag)."""
    tags = re.findall(r"<[^>]*>", page.lower())
    return [t for t in tags if t.startswith("<script") or re.search(r"\son\w+=|javascript:", t)]


def test_mpxpy_conversion_calls_work(server: Server, tmp_path: Path) -> None:
    url, key, _ = server
    mpx = MathpixClient(app_id=key.app_id, app_key=key.app_key, api_url=url)
    latex_pdf = tex_engine() is not None
    printed = browser() is not None
    conversion = mpx.conversion_new(
        mmd=MMD,
        convert_to_docx=True,
        convert_to_md=True,
        convert_to_tex_zip=True,
        convert_to_html=True,
        convert_to_pptx=True,
        convert_to_md_zip=True,
        convert_to_html_zip=True,
        convert_to_latex_pdf=latex_pdf,
        convert_to_pdf=printed,
    )
    assert conversion.wait_until_complete(timeout=60)
    status = conversion.conversion_status()["conversion_status"]
    assert {fmt: s["status"] for fmt, s in status.items()} == {
        fmt: "completed"
        for fmt in ("docx", "md", "tex.zip", "html", "pptx", "md.zip", "html.zip")
        + (("latex.pdf",) if latex_pdf else ())
        + (("pdf",) if printed else ())
    }
    md = conversion.to_md_text()
    assert "# Notes" in md and "$E=m c^{2}$" in md and "$$\n\\int_{0}^{1}" in md
    docx = zipfile.ZipFile(conversion.to_docx_file(str(tmp_path / "n.docx")))
    assert "<m:oMath" in docx.read("word/document.xml").decode()  # native Word equations
    tex = zipfile.ZipFile(io.BytesIO(conversion.to_tex_zip_bytes()))
    assert "\\frac{1}{3}" in tex.read(tex.namelist()[0]).decode()
    page = conversion.to_html_bytes().decode()
    assert not live_tags(page) and "&lt;script&gt;" in page and "<mfrac>" in page
    assert zipfile.ZipFile(io.BytesIO(conversion.to_pptx_bytes())).testzip() is None
    if latex_pdf:
        assert conversion.to_latex_pdf_bytes().startswith(b"%PDF-")
    if printed:
        assert conversion.to_pdf_bytes().startswith(b"%PDF-")
    listed = mpx.query_converter_results()["documents"]
    assert conversion.conversion_id in [d["id"] for d in listed]
    other = new_key(server[2], "other")
    assert (
        httpx.get(f"{url}/v3/converter/{conversion.conversion_id}", headers=other.headers).json()[
            "error_info"
        ]["id"]
        == "pdf_unknown_id"
    )
    gone = httpx.delete(f"{url}/v3/converter/{conversion.conversion_id}", headers=key.headers)
    assert gone.status_code == 200 and gone.json()["deleted_at"]
    with pytest.raises(ConversionIncompleteError):
        conversion.to_md_text()


@pytest.mark.parametrize(
    ("body", "error_id"),
    [
        ({"mmd": "x", "formats": {"xlsx": True}}, "opts_unknown_format"),
        ({"mmd": "x", "formats": {"mmd.overlay.pdf": True}}, "opts_unknown_format"),
        ({"mmd": "x", "formats": {"nonsense": True}}, "opts_unknown_format"),
        ({"mmd": "ok \\(x + 1", "formats": {"docx": True}}, "math_syntax"),
        ({"mmd": "", "formats": {"docx": True}}, "opts_bad_format"),
        ({"mmd": ["x"], "formats": {"docx": True}}, "opts_bad_format"),
        ({"formats": {"docx": True}}, "opts_bad_format"),
        ({"mmd": "x", "formats": {"docx": "yes"}}, "opts_bad_format"),
        ({"mmd": "x", "bogus": 1}, "opts_bad_format"),
    ],
)
def test_bad_conversions_are_refused_with_mathpix_ids(
    server: Server, body: dict[str, Any], error_id: str
) -> None:
    url, key, _ = server
    response = httpx.post(f"{url}/v3/converter", headers=key.headers, json=body)
    assert response.status_code == 200 and response.json()["error_info"]["id"] == error_id


def test_oversize_and_malformed_bodies_and_unknown_ids(server: Server) -> None:
    url, key, _ = server
    post = httpx.post
    big = post(f"{url}/v3/converter", headers=key.headers, content=b"{" + b" " * MAX_BODY_BYTES)
    assert big.status_code == 200 and big.json()["error_info"]["id"] == "sys_request_too_large"
    broken = post(f"{url}/v3/converter", headers=key.headers, content=b'{"mmd": ')
    assert broken.json()["error_info"]["id"] == "json_syntax"
    unknown = httpx.get(f"{url}/v3/converter/2026_01_01_abcg", headers=key.headers)
    assert unknown.status_code == 200 and unknown.json()["error_info"]["id"] == "pdf_unknown_id"
    download = httpx.get(f"{url}/v3/converter/2026_01_01_abcg.docx", headers=key.headers)
    assert download.status_code == 404
    made = post(f"{url}/v3/converter", headers=key.headers, json={"mmd": "a", "formats": {}})
    cid = made.json()["conversion_id"]
    assert httpx.get(f"{url}/v3/converter/{cid}.docx", headers=key.headers).status_code == 404
    bad_ext = httpx.get(f"{url}/v3/converter/{cid}.exe", headers=key.headers)
    assert (
        bad_ext.status_code == 404 and bad_ext.json()["error_info"]["id"] == "opts_unknown_format"
    )
    assert httpx.get(f"{url}/v3/converter/{cid}.mmd").status_code == 401


def test_a_pdf_saying_script_downloads_as_safe_html(
    server: Server, needs_model: RecognitionService
) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure = plt.figure(figsize=(5, 2))
    figure.text(0.05, 0.6, 'Beware <script>alert(1)</script> and <b onclick="x()">b</b>.')
    figure.text(0.05, 0.3, "The end of the hostile page.")
    with plt.rc_context({"pdf.fonttype": 42}):
        figure.savefig(buffer, format="pdf")
    plt.close(figure)
    url, key, _ = server
    formats = {"html": True, "html.zip": True, "pptx": True}
    if tex_engine() is not None:
        formats["latex.pdf"] = True
    pdf_id = submit(url, key, buffer.getvalue(), conversion_formats=formats)["pdf_id"]
    assert wait(url, key, pdf_id)[-1]["status"] == "completed"
    status = httpx.get(f"{url}/v3/converter/{pdf_id}", headers=key.headers).json()
    assert {f: s["status"] for f, s in status["conversion_status"].items()} == dict.fromkeys(
        formats, "completed"
    )
    html = httpx.get(f"{url}/v3/pdf/{pdf_id}.html", headers=key.headers)
    assert html.headers["content-type"].startswith("text/html")
    assert "hostile page" in html.text and "&lt;script&gt;" in html.text
    assert not live_tags(html.text)
    archive = zipfile.ZipFile(
        io.BytesIO(httpx.get(f"{url}/v3/pdf/{pdf_id}.html.zip", headers=key.headers).content)
    )
    assert archive.read(f"{pdf_id}/{pdf_id}.html").decode() == html.text
    pptx = httpx.get(f"{url}/v3/pdf/{pdf_id}.pptx", headers=key.headers).content
    assert "ppt/presentation.xml" in zipfile.ZipFile(io.BytesIO(pptx)).namelist()
    if "latex.pdf" in formats:
        latex = httpx.get(f"{url}/v3/pdf/{pdf_id}.latex.pdf", headers=key.headers)
        assert latex.content.startswith(b"%PDF-")
