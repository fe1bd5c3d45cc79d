"""Make the test documents: small LaTeX papers (pdflatex) and a scanned copy of each.

    python tests/documents/make_fixtures.py     # needs pdflatex; writes tests/documents/data/

Each paper has a title, running header and page numbers, sections, prose with inline math,
numbered display formulas and a table; ``twocol`` and ``eleven`` are set in two columns. The
scanned copy (``*_scan.pdf``) is every page rasterised at 150 dpi, turned by a fraction of a
degree, with sensor noise, saved as an image-only PDF (JPEG). ``*.json`` holds what a reader
should find: the prose (``text``), the display formulas and the inline formulas as written.
``encrypted.pdf`` needs a password (ghostscript). The committed outputs are what the tests
read: no TeX needed to run them.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

DATA = Path(__file__).parent / "data"

SENTENCES = [
    ("We study the function {} on the interval {}.", ["f(x)=x^{2}+1", "[0,1]"]),
    ("The constant {} bounds the error for every {}.", ["\\alpha", "n\\geq 1"]),
    ("Let {} be a sequence with {} for all indices.", ["a_{n}", "a_{n}>0"]),
    ("Then the sum {} converges when {} is small.", ["\\sum a_{n}", "\\epsilon"]),
    ("For a matrix {} we write {} for its transpose.", ["A", "A^{T}"]),
    ("The energy {} grows with the speed {} of the particle.", ["E=mc^{2}", "v"]),
    ("Each vector {} lies in the space {} of real pairs.", ["x", "\\mathbb{R}^{2}"]),
    ("The angle {} satisfies {} in our setting.", ["\\theta", "\\sin\\theta<1"]),
    ("Choose {} so that the ratio {} stays fixed.", ["\\lambda", "\\lambda/\\mu"]),
    ("A short computation gives {} and hence {} as claimed.", ["b=2a", "b>a"]),
]
PROSE = [
    "This section describes the setting and the main assumptions of the paper.",
    "The method is simple to implement and works well on the examples we tried.",
    "Our experiments compare the new estimate with the classical one on three data sets.",
    "The proof follows the standard argument, with one change in the last step.",
    "Readers who know the earlier results may skip directly to the next section.",
    "We keep the notation of the previous section throughout the rest of the text.",
]
DISPLAYS = [
    "\\int_{0}^{1}x^{2}\\,dx=\\frac{1}{3}",
    "\\sum_{n=1}^{\\infty}\\frac{1}{n^{2}}=\\frac{\\pi^{2}}{6}",
    "x=\\frac{-b\\pm\\sqrt{b^{2}-4ac}}{2a}",
    "e^{i\\pi}+1=0",
    "\\left(a+b\\right)^{2}=a^{2}+2ab+b^{2}",
    "\\lim_{n\\to\\infty}\\left(1+\\frac{1}{n}\\right)^{n}=e",
    "\\nabla\\cdot E=\\frac{\\rho}{\\epsilon_{0}}",
    "f(x)=\\sum_{k=0}^{n}\\binom{n}{k}x^{k}",
]
TABLE = [["Method", "Error", "Time"], ["Old", "0.31", "12"], ["New", "0.07", "9"]]

PAPERS = {
    "onecol": ("article", "10pt", "A Note on Simple Estimates", 0),
    "twocol": ("article", "10pt,twocolumn", "Two Columns of Careful Analysis", 3),
    "eleven": ("article", "11pt,twocolumn", "Bounds for Sums and Integrals", 6),
}


def paper(name: str) -> tuple[str, dict[str, list[str] | str]]:
    """The LaTeX source of one paper and what a reader should find in it."""
    cls, opts, title, shift = PAPERS[name]
    rng = random.Random(name)
    text: list[str] = [title]
    inline: list[str] = []
    display: list[str] = []
    body: list[str] = []
    for number, section in enumerate(("Introduction", "Main results", "Experiments"), 1):
        body.append(f"\\section{{{section}}}")
        text.append(f"{number} {section}")
        for _ in range(3):
            sentences = []
            for k in range(5):
                if k % 2 == 0:
                    pattern, maths = SENTENCES[rng.randrange(len(SENTENCES))]
                    sentences.append(pattern.format(*(f"${m}$" for m in maths)))
                    inline.extend(maths)
                    text.append(pattern.format(*[""] * len(maths)))
                else:
                    prose = PROSE[rng.randrange(len(PROSE))]
                    sentences.append(prose)
                    text.append(prose)
            body.append(" ".join(sentences) + "\n")
            formula = DISPLAYS[(shift + len(display)) % len(DISPLAYS)]
            display.append(formula)
            body.append(f"\\begin{{equation}}\n{formula}\n\\end{{equation}}\nwhich we use below.\n")
            text.append("which we use below.")
        if number == 2:
            rows = " \\\\\n".join(" & ".join(r) for r in TABLE)
            body.append(
                f"\\begin{{tabular}}{{lcc}}\n\\hline\n{rows} \\\\\n\\hline\n\\end{{tabular}}\n"
            )
            text.extend(" ".join(r) for r in TABLE)
    source = f"""\\documentclass[{opts}]{{{cls}}}
\\usepackage{{amsmath,amssymb}}
\\usepackage[margin=2cm]{{geometry}}
\\usepackage{{fancyhdr}}
\\pagestyle{{fancy}}\\fancyhf{{}}\\fancyhead[L]{{Scipix test paper}}\\fancyfoot[C]{{\\thepage}}
\\title{{{title}}}\\author{{}}\\date{{}}
\\begin{{document}}
\\maketitle\\thispagestyle{{fancy}}
{chr(10).join(body)}
\\end{{document}}
"""
    truth = {"text": "\n".join(text), "display": display, "inline": inline}
    return source, truth


def compile_pdf(source: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "paper.tex").write_text(source)
        for _ in range(2):
            subprocess.run(
                ["pdflatex", "-interaction=nonstopmode", "paper.tex"],
                cwd=tmp,
                check=True,
                capture_output=True,
            )
        return (Path(tmp) / "paper.pdf").read_bytes()


def scan(pdf_bytes: bytes, seed: int, dpi: int = 150) -> bytes:
    """Every page rasterised, turned a little, noisy, as an image-only PDF."""
    rng = np.random.default_rng(seed)
    doc = pdfium.PdfDocument(pdf_bytes)
    images = []
    for page in doc:
        gray = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        angle = float(rng.uniform(-0.8, 0.8))
        gray = gray.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
        pixels = np.asarray(gray, dtype=np.float32)
        pixels = pixels * 0.9 + 12 + rng.normal(0, 6, pixels.shape)
        images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))
    doc.close()
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=dpi, quality=30)
    return out.getvalue()


def encrypted() -> bytes:
    """A one-page PDF that needs a password (ghostscript's pdfwrite, RC4/AES)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "plain.tex").write_text(
            "\\documentclass{article}\\begin{document}A secret page.\\end{document}\n"
        )
        subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "plain.tex"],
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "gs",
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-sDEVICE=pdfwrite",
                "-sOwnerPassword=owner",
                "-sUserPassword=user",
                "-sOutputFile=locked.pdf",
                "plain.pdf",
            ],
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        return (Path(tmp) / "locked.pdf").read_bytes()


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "encrypted.pdf").write_bytes(encrypted())
    for seed, name in enumerate(PAPERS):
        source, truth = paper(name)
        pdf = compile_pdf(source)
        (DATA / f"{name}.pdf").write_bytes(pdf)
        (DATA / f"{name}_scan.pdf").write_bytes(scan(pdf, seed))
        (DATA / f"{name}.json").write_text(json.dumps(truth, indent=1) + "\n")
        print(name, len(pdf), "bytes,", len(pdfium.PdfDocument(pdf)), "pages")


if __name__ == "__main__":
    main()
