"""Small PDFs written by hand (with a correct cross-reference table), for the bad-input tests."""

from __future__ import annotations


def build_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF of the given objects (numbered from 1), its xref table and trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def text_page_pdf(
    lines: list[str], size: tuple[int, int] = (612, 792), extra_catalog: bytes = b""
) -> tuple[list[bytes], bytes]:
    """Objects of a one-page PDF with ``lines`` of Helvetica text (and the catalog's extras)."""
    content = (
        b"BT /F1 12 Tf 72 700 Td 16 TL "
        + b" ".join(b"(" + line.encode("latin-1") + b") '" for line in lines)
        + b" ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>" % size,
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return objects, content


def text_pdf(lines: list[str], size: tuple[int, int] = (612, 792)) -> bytes:
    return build_pdf(text_page_pdf(lines, size)[0])


def zero_page_pdf() -> bytes:
    return build_pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    )


def scripted_pdf(lines: list[str]) -> bytes:
    """A text page that also carries JavaScript (run on open) and an embedded file."""
    objects, _ = text_page_pdf(
        lines, extra_catalog=b"/OpenAction 6 0 R /Names << /EmbeddedFiles 7 0 R >>"
    )
    payload = b"#!/bin/sh\necho pwned > /tmp/scipix-pwned\n"
    objects += [
        b"<< /Type /Action /S /JavaScript /JS (app.alert('pwned'); this.exportDataObject"
        b"({cName: 'run.sh', nLaunch: 2});) >>",
        b"<< /Names [(run.sh) 8 0 R] >>",
        b"<< /Type /Filespec /F (run.sh) /EF << /F 9 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(payload) + payload + b"\nendstream",
    ]
    return build_pdf(objects)
