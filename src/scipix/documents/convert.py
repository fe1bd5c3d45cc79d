"""Markdown (and Mathpix Markdown) into the other formats Mathpix converts to: HTML (MathML
math, sanitized), ``html.zip``, PowerPoint (``pptx``), LaTeX source, a compiled ``latex.pdf``
and ``pdf`` (the HTML printed by Chromium, :mod:`scipix.documents.browser`).

Pandoc (bundled by the ``pypandoc-binary`` wheel) does the conversions, reading Markdown with
``$…$`` math and with raw HTML, raw TeX and raw attribute blocks turned off, so text read from
a document stays text, and in pandoc's sandbox (it reads no file and fetches no URL that the
Markdown names). HTML is then passed through :func:`~scipix.documents.sanitize.sanitize_html`
(an allow-list) and wrapped in a fixed page whose Content-Security-Policy forbids scripts.
``latex.pdf`` needs a TeX engine on ``PATH`` (``pdflatex``, ``xelatex`` or ``lualatex``); without
one it is refused (``opts_unknown_format``). TeX runs without shell escape, may read no file
outside its temporary folder and the TeX tree (``openin_any=p``), and is stopped after
:data:`TEX_TIMEOUT_S`.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from scipix.documents.browser import html_to_pdf
from scipix.documents.sanitize import sanitize_html
from scipix.errors import LatexError, ScipixError, UnknownFormatError
from scipix.processes import run_process

if TYPE_CHECKING:
    from scipix.documents.assemble import Document

#: How pandoc reads our Markdown: ``$`` math on; anything raw (HTML, TeX, ``{=html}``) off.
MARKDOWN_READER = "markdown+tex_math_dollars-raw_html-raw_tex-raw_attribute"
TEX_ENGINES = ("pdflatex", "xelatex", "lualatex")
TEX_TIMEOUT_S = 60.0
PANDOC_TIMEOUT_S = 120.0
LATEX_PREAMBLE = r"""\documentclass{article}
\usepackage{iftex}
\ifPDFTeX
\usepackage[utf8]{inputenc}
\fi
\usepackage{amsmath,amssymb,amsfonts}
\usepackage{mathrsfs}
\usepackage{longtable,booktabs,array,calc}
\usepackage{graphicx}
\usepackage[hidelinks]{hyperref}
% images are not carried (their files are not part of the document): left out
\providecommand{\pandocbounded}[1]{}
\providecommand{\tightlist}{\setlength{\itemsep}{0pt}\setlength{\parskip}{0pt}}
\setlength{\emergencystretch}{3em}
\setcounter{secnumdepth}{-2}
"""
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ max-width: 50em; margin: 2em auto; padding: 0 1em; font-family: serif; line-height: 1.5; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #999; padding: 0.2em 0.5em; }}
math[display="block"] {{ margin: 1em 0; }}
.equation {{ display: flex; align-items: center; }} .equation math {{ flex: 1; }}
.eqno {{ margin-left: 1em; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
_HEADINGS = {"title": 1, "section": 2, "subsection": 3, "subsubsection": 4}
_PENDING_MATH = re.compile(r'<span\s+class="math (inline|display)">(.*?)</span>', re.S)
_BLOCK_MATH = re.compile(r'<math\b[^>]*display="block"[^>]*>.*?</math>', re.S)
_TAG = re.compile(r"\\tag(\*?)\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_HEADING_LINE = re.compile(r"^\\(title|section|subsection|subsubsection)\*?\{(.*)\}\s*$")


def _pandoc(text: str, to: str, outputfile: str | None = None, args: tuple[str, ...] = ()) -> str:
    """Pandoc in its sandbox (no file or URL is read: an image named ``/etc/passwd`` or
    ``http://10.0.0.1/`` in the Markdown is not fetched), stopped after :data:`PANDOC_TIMEOUT_S`."""
    import pypandoc  # type: ignore[import-untyped]

    command = [pypandoc.get_pandoc_path(), "--sandbox", "-f", MARKDOWN_READER, "-t", to, *args]
    if outputfile is not None:
        command += ["-o", outputfile]
    try:
        done = subprocess.run(
            command,
            input=text.encode(),
            capture_output=True,
            timeout=PANDOC_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ScipixError(f"pandoc did not write {to} within {PANDOC_TIMEOUT_S:g} s") from None
    except OSError as exc:
        raise ScipixError(f"pandoc could not run: {exc}") from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()[:300]
        raise ScipixError(f"pandoc could not write {to}: {why}")
    return done.stdout.decode()


def mmd_to_markdown(mmd: str) -> str:
    r"""Mathpix Markdown as plain Markdown: ``\(…\)`` -> ``$…$``, ``\[…\]`` -> ``$$…$$``,
    ``\title{}`` / ``\section*{}`` lines -> ``#`` headings. An opened math delimiter that is
    never closed is refused (:class:`LatexError`, ``math_syntax``, with its position)."""
    out: list[str] = []
    i, n = 0, len(mmd)
    closing: str | None = None
    opened_at = start = 0
    while i < n:
        char = mmd[i]
        if char != "\\" or i + 1 == n:
            out.append(char)
            i += 1
            continue
        pair = mmd[i : i + 2]
        if closing is None and pair in ("\\(", "\\["):
            closing, opened_at = ("\\)" if pair == "\\(" else "\\]"), i
            out.append("$" if pair == "\\(" else "$$")
            start = len(out)
        elif pair == closing:
            inside = "".join(out[start:]).strip()
            if pair == "\\]":
                out.append("$$")
            elif inside:  # pandoc reads $x$, not $ x $: the spaces inside go
                out[start:] = [inside, "$"]
            else:  # \(\) is no math (and "$$" would open a display)
                del out[start - 1 :]
            closing = None
        else:
            out.append(pair)
        i += 2
    if closing is not None:
        raise LatexError(
            f"the math opened at character {opened_at} with {mmd[opened_at : opened_at + 2]}"
            f" is never closed with {closing}",
            position=opened_at,
        )
    return "\n".join(_heading(line) for line in "".join(out).split("\n"))


def _heading(line: str) -> str:
    match = _HEADING_LINE.match(line.strip())
    if match is None:
        return line
    return "#" * _HEADINGS[match.group(1)] + " " + match.group(2).strip()


def markdown_to_html(markdown: str, title: str = "document") -> str:
    """A standalone HTML page: MathML math, sanitized body, scripts forbidden by its CSP."""
    page = _unconverted_math(_pandoc(markdown, "html5", args=("--mathml",)))
    body = sanitize_html(_equation_numbers(page))
    return _PAGE.format(csp=_CSP, title=html.escape(title), body=body)


def _unconverted_math(page: str) -> str:
    """The formulas pandoc's converter left as TeX (it refuses, e.g., ``\\left( … \\right)^{n}
    \\tag{3}``) as MathML from :func:`scipix.latex.mathml.to_mathml`; TeX still when it fails."""
    from scipix.latex.mathml import to_mathml

    def convert(match: re.Match[str]) -> str:
        display = match.group(1) == "display"
        tex = html.unescape(match.group(2)).strip()
        for begin, end in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
            if tex.startswith(begin) and tex.endswith(end) and len(tex) >= len(begin + end):
                tex = tex[len(begin) : len(tex) - len(end)]
                break
        try:
            return to_mathml(tex, display=display)
        except Exception:  # scipix's parser refuses it too: the TeX stays, as text
            return match.group(0)

    return _PENDING_MATH.sub(convert, page)


def _equation_numbers(page: str) -> str:
    """Each display formula's ``\\tag{3}`` shown as "(3)" at its right (MathML converters drop
    it; its TeX is still in the formula's annotation), ``\\tag*{a}`` as "a"."""

    def number(match: re.Match[str]) -> str:
        tag = _TAG.search(html.unescape(match.group(0)))
        if tag is None:
            return match.group(0)
        label = tag.group(2).strip() if tag.group(1) else f"({tag.group(2).strip()})"
        eqno = f'<span class="eqno">{html.escape(label)}</span>'
        return f'<span class="equation">{match.group(0)}{eqno}</span>'

    return _BLOCK_MATH.sub(number, page)


def html_zip(markdown: str, name: str = "document") -> bytes:
    """A zip holding ``name/name.html`` (math as MathML, so no image folder is needed)."""
    return zip_of(f"{name}/{name}.html", markdown_to_html(markdown, name))


def markdown_to_docx(markdown: str) -> bytes:
    """Word, with native equations (pandoc, sandboxed)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "document.docx"
        _pandoc(markdown, "docx", outputfile=str(out))
        return out.read_bytes()


def markdown_to_pptx(markdown: str) -> bytes:
    """PowerPoint slides (pandoc: a slide per heading; math as native Office equations)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "document.pptx"
        _pandoc(markdown, "pptx", outputfile=str(out))
        return out.read_bytes()


def markdown_to_latex(markdown: str) -> str:
    """A LaTeX document (pandoc's body in :data:`LATEX_PREAMBLE`) that compiles with pdflatex:
    accented letters as TeX accents, math symbols written in Unicode as their commands."""
    body = _ascii_tex(_pandoc(markdown, "latex", args=("--ascii",)))
    return LATEX_PREAMBLE + "\\begin{document}\n" + body + "\n\\end{document}\n"


def _ascii_tex(source: str) -> str:
    """Each character pdflatex cannot typeset (``∑``, ``α``, ``→``) as its command (``?`` when
    the symbol table has none)."""
    from scipix.latex.symbols import UNICODE_TO_COMMAND

    def command(char: str) -> str:
        found = UNICODE_TO_COMMAND.get(char)
        if found is None:
            return "?"
        return f"\\ensuremath{{{found}}}" if found.startswith("\\") else found

    return "".join(c if c.isascii() else command(c) for c in source)


def tex_engine() -> str | None:
    """The first TeX engine on ``PATH``, or None."""
    return next((found for e in TEX_ENGINES if (found := shutil.which(e))), None)


def require_tex_engine() -> str:
    """The TeX engine ``latex.pdf`` will use; :class:`UnknownFormatError` when there is none."""
    engine = tex_engine()
    if engine is None:
        raise UnknownFormatError(
            "latex.pdf needs a TeX engine (pdflatex, xelatex or lualatex) on the server's PATH;"
            " none was found. Install TeX Live (e.g. apt install texlive-latex-recommended)"
            " or ask for tex.zip instead",
            formats="latex.pdf",
        )
    return engine


def latex_to_pdf(source: str, timeout_s: float = TEX_TIMEOUT_S) -> bytes:
    """``source`` compiled by the first of :data:`TEX_ENGINES` on ``PATH``, sandboxed."""
    engine = require_tex_engine()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "document.tex").write_text(source, encoding="utf-8")
        env = {**os.environ, "openin_any": "p", "openout_any": "p", "TEXMFOUTPUT": tmp}
        command = [engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
        if not run_process([*command, "document.tex"], Path(tmp), timeout_s, env=env).finished:
            raise LatexError(f"LaTeX did not finish within {timeout_s:g} s")
        pdf = Path(tmp) / "document.pdf"
        if not pdf.exists():
            raise LatexError(f"LaTeX could not compile the document: {_tex_error(Path(tmp))}")
        return pdf.read_bytes()


def _tex_error(folder: Path) -> str:
    try:
        log = (folder / "document.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "no log was written"
    found = [line for line in log.splitlines() if line.startswith("!")]
    return found[0][1:].strip()[:300] if found else "see the LaTeX log"


#: What :func:`document_to` writes (the other formats are ``Document``'s own methods).
FORMATS = ("html", "html.zip", "pptx", "latex.pdf", "pdf")


def document_to(document: Document, fmt: str, name: str = "document") -> bytes:
    """A read document as one of :data:`FORMATS` (``name``: the HTML title / zip folder)."""
    if fmt == "html":
        return markdown_to_html(document.to_md(), name).encode()
    if fmt == "html.zip":
        return html_zip(document.to_md(), name)
    if fmt == "pptx":
        return markdown_to_pptx(document.to_md())
    if fmt == "latex.pdf":  # pandoc's LaTeX: no font a fresh TeX install has to make first
        return latex_to_pdf(markdown_to_latex(document.to_md()))
    if fmt == "pdf":
        return html_to_pdf(markdown_to_html(document.to_md(), name))
    raise UnknownFormatError(f"unknown format {fmt!r} (made: {', '.join(FORMATS)})", formats=fmt)


#: What :func:`mmd_to` makes from Mathpix Markdown (``POST /v3/converter``).
MMD_FORMATS = (
    "mmd",
    "md",
    "docx",
    "tex.zip",
    "html",
    "html.zip",
    "pptx",
    "latex.pdf",
    "md.zip",
    "mmd.zip",
    "pdf",
)


def mmd_to(mmd: str, fmt: str, name: str = "document") -> bytes:
    """Mathpix Markdown as one of :data:`MMD_FORMATS`; an unclosed math delimiter is
    :class:`LatexError` (``math_syntax``)."""
    text = mmd if fmt in ("mmd", "mmd.zip") else mmd_to_markdown(mmd)
    makers = {
        "mmd": lambda: text.encode(),
        "md": lambda: text.encode(),
        "mmd.zip": lambda: zip_of(f"{name}.mmd", text),
        "md.zip": lambda: zip_of(f"{name}.md", text),
        "docx": lambda: markdown_to_docx(text),
        "tex.zip": lambda: zip_of(f"{name}/{name}.tex", markdown_to_latex(text)),
        "html": lambda: markdown_to_html(text, name).encode(),
        "html.zip": lambda: html_zip(text, name),
        "pptx": lambda: markdown_to_pptx(text),
        "latex.pdf": lambda: latex_to_pdf(markdown_to_latex(text)),
        "pdf": lambda: html_to_pdf(markdown_to_html(text, name)),
    }
    if fmt not in makers:
        made = ", ".join(MMD_FORMATS)
        raise UnknownFormatError(f"unknown format {fmt!r} (made: {made})", formats=fmt)
    return makers[fmt]()


def zip_of(name: str, text: str) -> bytes:
    """A zip holding one text file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()
