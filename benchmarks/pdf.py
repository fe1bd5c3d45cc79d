"""Documents: the test papers (tests/documents/data) read born-digital and scanned.

For each paper and its scanned copy: text character error rate of the prose (math left out,
reading order counted), display formulas found and their BLEU-4 (vs the formulas as written;
beside it the recognizer's BLEU on clean TeX renders of the same formulas), inline formulas
found and read exactly, seconds per page (median, models warm). Then peak RSS while reading a
long file (the two-column paper repeated to ``--long-pages`` pages), page by page, and RSS
growth between the first and the last tenth of it (pages are streamed, never all held).

    nice python3 benchmarks/pdf.py [--long-pages 300] [--papers onecol,twocol,eleven]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from scipix.documents import DocumentOptions, PageResult, open_document, read_page
from scipix.documents.assemble import Style, blocks, paragraph
from scipix.latex.normalize import model_tokens
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.metrics import bleu4, edit_similarity, levenshtein

DATA = Path(__file__).resolve().parent.parent / "tests" / "documents" / "data"
FOUND = 0.5  # a formula counts as found when its tokens are this similar to the truth's


def tokens(latex: str) -> list[str]:
    try:
        return model_tokens(latex)
    except Exception:  # unreadable LaTeX: compare it as characters
        return list(latex.replace(" ", ""))


def plain(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ([.,;:])", r"\1", text).strip()


def prose(pages: list[PageResult]) -> str:
    """The pages' prose as the outputs join it (words hyphenated at a line's end whole again),
    without the math."""
    style = Style(("\\(", "\\)"), ("\\[", "\\]"), False)
    parts = []
    for page in pages:
        for block in blocks(page):
            if block[0].kind == "display":
                continue
            lines = [
                ln.model_copy(
                    update={"segments": tuple(s for s in ln.segments if s.kind == "text")}
                )
                for ln in block
            ]
            parts.append(paragraph(lines, style))
    return plain(" ".join(parts))


def match(truth: list[str], found: list[str]) -> tuple[int, list[list[str]]]:
    """Greedy best matches: how many truths were found, and the hypothesis for each."""
    left = [tokens(f) for f in found]
    hyps: list[list[str]] = []
    hit = 0
    for t in truth:
        ref = tokens(t)
        scores = [edit_similarity(ref, h) for h in left]
        if scores and max(scores) >= FOUND:
            best = int(np.argmax(scores))
            hyps.append(left.pop(best))
            hit += 1
        else:
            hyps.append([])
    return hit, hyps


def read_all(
    sp: Scipix, data: bytes, options: DocumentOptions, cpu: list[float]
) -> tuple[list[PageResult], list[float]]:
    """The pages, their wall seconds; ``cpu`` gets each page's CPU seconds (all threads)."""
    pages = []
    with open_document(data, max_pages=5000, max_bytes=1 << 30) as doc:
        for i in range(doc.num_pages):
            start = time.process_time()
            pages.append(read_page(doc, i, sp, options))
            cpu.append(time.process_time() - start)
    return pages, [p.seconds for p in pages]


def score(name: str, pages: list[PageResult], truth: dict) -> dict:
    text_truth = plain(truth["text"])
    ours = prose(pages)
    cer = levenshtein(list(ours), list(text_truth)) / max(len(text_truth), 1)
    displays = [
        " ".join(s.value for s in ln.segments)
        for p in pages
        for ln in p.lines
        if ln.kind == "display"
    ]
    inline = [
        s.value
        for p in pages
        for ln in p.lines
        for s in ln.segments
        if s.kind == "math" and ln.kind != "display"
    ]
    d_hit, d_hyps = match(truth["display"], displays)
    i_hit, _ = match(truth["inline"], inline)
    pool = [" ".join(tokens(x)) for x in inline]
    exact = 0
    for t in truth["inline"]:
        key = " ".join(tokens(t))
        if key in pool:
            pool.remove(key)
            exact += 1
    return {
        "paper": name,
        "cer": round(cer, 4),
        "display_found": f"{d_hit}/{len(truth['display'])}",
        "display_bleu": round(bleu4([tokens(t) for t in truth["display"]], d_hyps), 3),
        "inline_found": f"{i_hit}/{len(truth['inline'])}",
        "inline_exact": f"{exact}/{len(truth['inline'])}",
        "failed_pages": sum(not p.ok for p in pages),
    }


def clean_bleu(sp: Scipix, formulas: list[str]) -> float | None:
    """The recognizer's BLEU-4 on clean TeX renders of the formulas (None without TeX)."""
    try:
        from scipix.training.render import TexRenderer

        outcomes = TexRenderer("cm").render(formulas, dpi=200)
    except Exception as exc:  # no TeX here
        print(f"clean renders skipped: {exc}")
        return None
    hyps = []
    for outcome in outcomes:
        if outcome.image is None:
            hyps.append([])
            continue
        result = sp.recognize(np.pad(outcome.image, 16, constant_values=255))
        hyps.append(tokens(result.latex or ""))
    return round(bleu4([tokens(f) for f in formulas], hyps), 3)


def long_file(pages: int) -> bytes:
    source = pdfium.PdfDocument(str(DATA / "twocol.pdf"))
    target = pdfium.PdfDocument.new()
    while len(target) < pages:
        target.import_pages(source)
    import io

    out = io.BytesIO()
    target.save(out)
    return out.getvalue()


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def long_run(sp: Scipix, n: int) -> dict:
    data = long_file(n)
    options = DocumentOptions()
    samples = []
    started = time.perf_counter()
    with open_document(data, max_pages=5000, max_bytes=1 << 30) as doc:
        for i in range(doc.num_pages):
            page = read_page(doc, i, sp, options)
            del page
            samples.append(rss_mb())
    tenth = max(len(samples) // 10, 1)
    tenths = [statistics.median(samples[k : k + tenth]) for k in range(0, len(samples), tenth)]
    return {
        "pages": len(samples),
        "bytes": len(data),
        "s_per_page": round((time.perf_counter() - started) / len(samples), 3),
        "rss_first_tenth_mb": round(statistics.median(samples[:tenth]), 1),
        "rss_last_tenth_mb": round(statistics.median(samples[-tenth:]), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_per_tenth_mb": [round(x) for x in tenths[:10]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", default="onecol,twocol,eleven")
    parser.add_argument("--long-pages", type=int, default=300)
    parser.add_argument("--kinds", default="born,scan", help="born, scan or both")
    args = parser.parse_args()
    sp = Scipix(Settings(memory={"enabled": False}))  # no result cache: every page is read
    sp.warm_up()
    options = DocumentOptions()
    rows, born, scanned, formulas = [], [], [], []
    cpu: dict[str, list[float]] = {"born": [], "scan": []}
    for name in args.papers.split(","):
        truth = json.loads((DATA / f"{name}.json").read_text())
        formulas += truth["display"]
        for kind, suffix, times in (("born", "", born), ("scan", "_scan", scanned)):
            if kind not in args.kinds.split(","):
                continue
            data = (DATA / f"{name}{suffix}.pdf").read_bytes()
            pages, seconds = read_all(sp, data, options, cpu[kind])
            times += seconds
            rows.append({"kind": kind, **score(name, pages, truth)})
            print(json.dumps(rows[-1]))
    print(
        json.dumps(
            {
                "s_per_page_born_median": round(statistics.median(born), 3) if born else None,
                "s_per_page_scan_median": round(statistics.median(scanned), 3) if scanned else None,
                "cpu_s_per_page": {k: round(statistics.median(v), 3) for k, v in cpu.items() if v},
                "load_average": os.getloadavg(),
                "clean_render_display_bleu": (
                    clean_bleu(sp, sorted(set(formulas))) if born else None
                ),
            }
        )
    )
    if args.long_pages:
        print(json.dumps({"long_file": long_run(sp, args.long_pages)}))


if __name__ == "__main__":
    main()
