"""In-browser recognition (the web page's "Recognize in this browser" switch) in headless Chromium.

Starts a scipix server on an ephemeral port, loads the page, turns the switch on, and measures:
the bytes the page and the model cost (each resource's size as used, and as transferred with
the server's gzip), the time from switch to ready, and the page's own time per formula (file
bytes to LaTeX: decode, pre-processing, encoder, beam search) over rounds of rendered formulas,
next to the Python recognizer's reading of the same files (agreement). Needs Debian's chromium,
playwright, matplotlib ([train]) and onnxruntime-web (npm ci --prefix tools/ortweb).

    nice python3 benchmarks/browser.py [--rounds 5] [--json] [--images DIR [--limit 40]]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from PIL import Image

from scipix.imaging.decode import decode_image
from scipix.server.app import create_app
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.mathtext import MathtextRenderer

FORMULAS = [
    ("x^{2}+1", 100),
    ("\\frac{a}{b}=c", 200),
    ("\\sqrt{x+y}", 60),
    ("\\sum_{i=1}^{n} i^{2}", 150),
    ("E=mc^{2}", 120),
    ("\\int_{0}^{1} f(x)\\,dx", 120),
    ("\\alpha+\\beta=\\gamma", 150),
    ("f(x)=\\frac{1}{1+e^{-x}}", 130),
]
DROP = """([b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "f.png", { type: "image/png" }));
  for (const name of ["dragenter", "dragover", "drop"]) {
    const init = { dataTransfer: data, bubbles: true, cancelable: true };
    document.querySelector("#drop-zone").dispatchEvent(new DragEvent(name, init));
  }
}"""


@contextmanager
def serve(service: Scipix, data_dir: Path) -> Iterator[str]:
    app = create_app(Settings(runtime={"data_dir": data_dir}), service=service)  # type: ignore[arg-type]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def render(latex: str, dpi: int) -> bytes:
    outcome = MathtextRenderer().render_one(latex, dpi)
    buf = io.BytesIO()
    Image.fromarray(outcome.image).save(buf, "PNG")
    return buf.getvalue()


def thread_time(cdp: Any) -> float:
    """CPU seconds of the page's main thread (where onnxruntime-web and the beam search run):
    unlike the wall time, it does not grow with the other work on the machine."""
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "ThreadTime"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(url: str, images: list[bytes], rounds: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    sizes: dict[str, tuple[int, int]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        page = browser.new_page()

        def finished(request: Any) -> None:
            response = request.response()
            if response is not None and request.url.startswith(url):
                sizes[request.url[len(url) :]] = (
                    len(response.body()),
                    request.sizes()["responseBodySize"],
                )

        page.on("requestfinished", finished)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(url + "/")
        page.wait_for_selector("#local-mode:not([disabled])")
        started = time.perf_counter()
        page.check("#local-mode")
        page.wait_for_selector("body[data-local='ready']", timeout=120_000)
        ready_s = time.perf_counter() - started
        readings: list[list[str]] = []
        times: list[float] = []
        cpu: list[float] = []
        stages: list[dict[str, float]] = []
        for _ in range(rounds):
            row = []
            for image in images:
                page.evaluate("document.getElementById('status').className = ''")
                before = thread_time(cdp)
                page.evaluate(DROP, [base64.b64encode(image).decode()])
                page.wait_for_selector("#status.ok, #status.warning, #status.error", timeout=60_000)
                cpu.append((thread_time(cdp) - before) * 1000)
                row.append(page.input_value("#latex"))
                times.append(float(page.get_attribute("body", "data-local-ms") or "nan"))
                stages.append(json.loads(page.get_attribute("body", "data-local-timings") or "{}"))
            readings.append(row)
        browser.close()
    names = ("decode", "prepare", "encoder", "beam", "decoder", "steps")
    stage_p50 = {k: statistics.median(s.get(k, math.nan) for s in stages) for k in names}
    return {
        "ready_s": round(ready_s, 2),
        "ms_p50": round(statistics.median(times), 1),
        "ms_p95": round(percentile(times, 0.95), 1),
        "ms_max": round(max(times), 1),
        "cpu_ms_p50": round(statistics.median(cpu), 1),
        "cpu_ms_p95": round(percentile(cpu, 0.95), 1),
        "cpu_ms_p50_per_round": [
            round(statistics.median(cpu[r * len(images) : (r + 1) * len(images)]), 1)
            for r in range(rounds)
        ],
        "stage_ms_p50": stage_p50,
        "bytes_used": sum(used for used, _ in sizes.values()),
        "bytes_transferred": sum(sent for _, sent in sizes.values()),
        "largest": sorted(((p, s) for p, s in sizes.items()), key=lambda kv: -kv[1][0])[:5],
        "readings": readings[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--images", type=Path, help="a folder of images instead of the renders")
    parser.add_argument("--limit", type=int, default=40, help="at most this many of --images")
    args = parser.parse_args()
    if args.images:
        files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".png", ".jpg"))
        images = [p.read_bytes() for p in files[: args.limit]]
    else:
        images = [render(latex, dpi) for latex, dpi in FORMULAS]
    with tempfile.TemporaryDirectory() as tmp:
        service = Scipix(Settings(runtime={"data_dir": Path(tmp)}))  # type: ignore[arg-type]
        formula = service.formula_recognizer()
        # one image per call, as a request is read (a batch pads its images to one size)
        python, python_ms, python_cpu = [], [], []
        for image in images:
            started, cpu_started = time.perf_counter(), time.thread_time()
            python.append(formula.recognize([decode_image(image).gray])[0].latex)
            python_ms.append((time.perf_counter() - started) * 1000)
            python_cpu.append((time.thread_time() - cpu_started) * 1000)
        with serve(service, Path(tmp)) as url:
            found = measure(url, images, args.rounds)
        service.close()
    found["model"] = formula.version
    found["python_ms_p50"] = round(statistics.median(python_ms), 1)
    found["python_cpu_ms_p50"] = round(statistics.median(python_cpu), 1)
    found["load_average"] = os.getloadavg()[0]
    pairs = list(zip(found["readings"], python, strict=True))
    found["same_as_python"] = sum(a == b for a, b in pairs)
    found["different"] = [(a, b) for a, b in pairs if a != b]
    found["formulas"] = len(images)
    if args.json:
        print(json.dumps(found, indent=2))
        return
    print(f"model {found['model']}; switch to ready {found['ready_s']} s")
    print(
        f"per formula (page's own timing, {args.rounds} rounds x {len(images)}): "
        f"p50 {found['ms_p50']} ms, p95 {found['ms_p95']} ms, max {found['ms_max']} ms; "
        f"stage p50 {found['stage_ms_p50']}; Python recognizer on the same files (one pass, "
        f"decode + recognize): p50 {found['python_ms_p50']} ms"
    )
    print(
        f"CPU per formula (page's main thread, less sensitive to the load average "
        f"{found['load_average']:.1f}): p50 {found['cpu_ms_p50']} ms, p95 {found['cpu_ms_p95']} "
        f"ms (per round {found['cpu_ms_p50_per_round']}); Python thread CPU p50 "
        f"{found['python_cpu_ms_p50']} ms"
    )
    print(
        f"page + model: {found['bytes_used'] / 1e6:.2f} MB as used, "
        f"{found['bytes_transferred'] / 1e6:.2f} MB transferred (gzip)"
    )
    for path, (used, sent) in found["largest"]:
        print(f"  {path}: {used / 1e6:.2f} MB, sent {sent / 1e6:.2f} MB")
    print(f"same LaTeX as the Python recognizer: {found['same_as_python']} of {found['formulas']}")
    for browser_latex, python_latex in found["different"]:
        print(f"  browser {browser_latex!r}\n  python  {python_latex!r}")


if __name__ == "__main__":
    main()
