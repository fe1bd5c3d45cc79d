"""Whole-process numbers of the two commands a user times first (issue 19): the cold start of
``scipix ocr f.png`` and the rate of ``scipix batch DIR -w 2`` on formula images.

    nice -n 10 python3 benchmarks/startup.py [--images 120] [--runs 7] [--skip-batch] [--json]
    chrt -f 10 python3 benchmarks/startup.py --skip-batch   # as on an idle machine (root)

- cold start: ``python -m scipix ocr`` on one rendered formula, ``--runs`` times, each a new
  process with a new image (the result cache cannot answer; the data directory is made by one
  run before, as a user's exists); the
  median wall and CPU (user + system, all threads) of the process, and the same for
  ``python -c pass`` (the interpreter alone) and for a pure-Python loop of a fixed amount of
  work: on a shared machine, wall / CPU of that loop is the machine's slowdown at the time (1.0
  on an idle machine), so the cold start's CPU is the number that does not depend on the load;
- batch: ``scipix batch`` with 2 workers over ``--images`` rendered formulas (the pipeline
  benchmark's templates, a quarter of them short one-line formulas such as ``E=mc^{2}`` and
  ``\\det A=ad-bc`` at 100-200 dpi) in a fresh data directory: images/s as the command reports
  it (images over the run's own time, the model loads included), its CPU, and how many results
  are not one formula (prose was found in them: all are formulas).

Under ``chrt -f`` (real-time priority; it holds other work back for the few seconds of the cold
start runs, so not with the batch) the loop's slowdown is 1.0: the wall times are an idle
machine's. The interpreter is ``sys.executable`` (not a version manager's shim, which adds its
own start).
Needs matplotlib (rendering) and the packaged model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import TEMPLATES, render

SHORT = [
    r"E=mc^{2}",
    r"\det A=ad-bc",
    r"f(x)=\sin x+\cos x",
    r"a^{2}+b^{2}=c^{2}",
    r"y=mx+b",
    r"F=ma",
    r"x_{n+1}=x_{n}-1",
    r"\lambda v=Av",
]
LOOP = "x = 0\nfor i in range(3_000_000):\n    x += i\n"


def formulas(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    found = []
    for i in range(count):
        if i % 4 == 0:
            found.append(SHORT[(i // 4) % len(SHORT)])
        else:
            tex = rng.choice(TEMPLATES)
            found.append(tex.format(a=rng.randint(1, 9), b=rng.randint(1, 9), c=rng.randint(1, 9)))
    return found


def render_dpi(tex: str, dpi: int) -> bytes:
    """``pipeline.render`` at another resolution (it renders at 200 dpi)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties
    from PIL import Image

    if dpi == 200:
        return render(tex)
    buf = io.BytesIO()
    mathtext.math_to_image(f"${tex}$", buf, prop=FontProperties(size=20), dpi=dpi, format="png")
    gray = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))
    out = io.BytesIO()
    Image.fromarray(np.pad(gray, 24, constant_values=255)).save(out, "PNG")
    return out.getvalue()


def write_images(folder: Path, count: int) -> None:
    rng = random.Random(11)
    for i, tex in enumerate(formulas(count)):
        dpi = rng.choice([100, 120, 150, 200]) if i % 4 == 0 else rng.choice([120, 200])
        (folder / f"f{i:04d}.png").write_bytes(render_dpi(tex, dpi))


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system of the child) and output (stdout, then stderr)
    of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    return wall, cpu, done.stdout + done.stderr


def medians(rows: list[tuple[float, float]]) -> dict[str, float]:
    return {
        "wall_s": round(statistics.median(r[0] for r in rows), 3),
        "cpu_s": round(statistics.median(r[1] for r in rows), 3),
        "wall_min_s": round(min(r[0] for r in rows), 3),
    }


def environment(data: Path) -> dict[str, str]:
    skip = ("SCIPIX_", "PYTHONDONTWRITEBYTECODE")  # compiled modules kept, as an install has
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env["SCIPIX_RUNTIME__DATA_DIR"] = str(data)
    return env


def cold_start(work: Path, runs: int) -> dict[str, Any]:
    images = work / "cold"
    images.mkdir()
    texts = formulas((runs + 1) * 4, seed=3)[1::4][: runs + 1]  # a template formula per run
    for i, tex in enumerate(texts):
        (images / f"c{i}.png").write_bytes(render(tex))
    env = environment(work / "data")
    ocr, loop, bare = [], [], []
    for i in range(runs + 1):  # the first run makes the data directory: not counted
        cmd = [sys.executable, "-m", "scipix", "ocr", str(images / f"c{i}.png")]
        if i == 0:
            timed(cmd, env)
            continue
        wall, cpu, _ = timed(cmd, env)
        ocr.append((wall, cpu))
        bare.append(timed([sys.executable, "-c", "pass"], env)[:2])
        loop.append(timed([sys.executable, "-c", LOOP], env)[:2])
    slowdown = statistics.median(w / max(c, 1e-6) for w, c in loop)
    return {
        "ocr": medians(ocr),
        "python_pass": medians(bare),
        "cpu_loop": medians(loop),
        "machine_slowdown": round(slowdown, 2),
    }


def one_formula(text: str) -> bool:
    text = text.strip()
    return text.startswith("\\(") and text.endswith("\\)") and text.count("\\(") == 1


def batch_rate(work: Path, count: int) -> dict[str, Any]:
    images = work / "batch"
    images.mkdir()
    write_images(images, count)
    out = work / "batch.jsonl"
    cmd = [sys.executable, "-m", "scipix", "batch", str(images), "--out", str(out), "-w", "2"]
    wall, cpu, output = timed(cmd, environment(work / "batch-data"))
    rate = None
    for line in output.splitlines():  # the summary's "rate (this run) | 31.2 img/s (...)"
        if "img/s" in line:
            rate = float(line.split("img/s")[0].split()[-1])
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    prose = sum(not one_formula(r.get("text") or "") for r in records)
    return {
        "images": count,
        "rate_img_s": rate,
        "process_wall_s": round(wall, 2),
        "process_cpu_s": round(cpu, 2),
        "cpu_ms_per_image": round(1000 * cpu / count, 1),
        "results_not_one_formula": prose,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scipix-startup-") as tmp:
        work = Path(tmp)
        report: dict[str, Any] = {"load_before": round(os.getloadavg()[0], 1)}
        report["cold_start"] = cold_start(work, args.runs)
        if not args.skip_batch:
            report["batch"] = batch_rate(work, args.images)
        report["load_after"] = round(os.getloadavg()[0], 1)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    cold = report["cold_start"]
    print(f"load average {report['load_before']} -> {report['load_after']} (2 cores shared)")
    print(f"machine slowdown (wall/CPU of a pure-Python loop): {cold['machine_slowdown']}x")
    for name in ("ocr", "python_pass", "cpu_loop"):
        row = cold[name]
        print(
            f"  {name:12s} wall p50 {row['wall_s']:.2f} s (min {row['wall_min_s']:.2f})"
            f"  CPU p50 {row['cpu_s']:.2f} s"
        )
    if "batch" in report:
        b = report["batch"]
        print(
            f"batch -w 2: {b['rate_img_s']} img/s over {b['images']} formulas "
            f"({b['cpu_ms_per_image']} CPU ms/image, process {b['process_wall_s']} s wall); "
            f"results that are not one formula (prose found): {b['results_not_one_formula']}"
        )


if __name__ == "__main__":
    main()
