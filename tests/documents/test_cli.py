"""``scipix pdf`` as a user runs it: outputs, the page cache, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .crafted import text_pdf


def run(*args: str, cwd: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(cwd), "XDG_CACHE_HOME": str(cwd / ".cache")}
    if path is not None:
        env["PATH"] = path
    env.pop("SCIPIX_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "scipix", "pdf", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pdf_to_markdown_then_from_the_page_cache(tmp_path: Path) -> None:
    lines = ["A first line of plain text on the page,", "and a second line under it."]
    (tmp_path / "note.pdf").write_bytes(text_pdf(lines))
    first = run("note.pdf", "--to", "md", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "note.md").read_text() == " ".join(lines) + "\n"
    assert "1 of 1 pages read" in first.stderr
    again = run("note.pdf", "--to", "lines.json", "--out", "lines.json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "(1 cached)" in again.stderr
    assert '"image_id": "lines-1"' in (tmp_path / "lines.json").read_text()
    html = run("note.pdf", "--to", "html", cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    page = (tmp_path / "note.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "A first line of plain text" in page
    no_tex = run("note.pdf", "--to", "latex.pdf", cwd=tmp_path, path="/nonexistent")
    assert no_tex.returncode == 2 and "opts_unknown_format" in no_tex.stderr
    assert "TeX engine" in no_tex.stderr and not (tmp_path / "note.latex.pdf").exists()


def test_bad_input_exits_2_with_the_error_id(tmp_path: Path) -> None:
    (tmp_path / "page.pdf").write_text("<html><body>not a pdf</body></html>")
    done = run("page.pdf", cwd=tmp_path)
    assert done.returncode == 2
    assert "pdf_decode_error" in done.stderr and "HTML" in done.stderr
    missing = run("nothing.pdf", cwd=tmp_path)
    assert missing.returncode == 2
