"""Benchmark of ``POST /v3/text`` on loopback: requests/s and p50/p99 latency for 1, 8 and 32
concurrent clients.

    python3 benchmarks/server.py                      # starts `scipix serve` on 127.0.0.1
    python3 benchmarks/server.py --url http://127.0.0.1:8000 --app-id ID --app-key KEY
    python3 benchmarks/server.py --requests 200 --max-seconds 30 --clients 1,8,32 --json out.json
    python3 benchmarks/server.py --no-cache --clients 8      # every request recognized


Each level sends at most ``--requests`` requests, starts none after ``--max-seconds`` and drops
those still running 30 s later; traffic goes only to the server given (by default one this
script starts on 127.0.0.1 and stops). Latency is measured from the client: queueing included.
The same image is sent each time: with the result cache on (the default) all but the first are
answered from it; ``--no-cache`` starts the server with ``memory.cache`` off. For a server this
script starts, ``cpu_ms`` is the server process's CPU time per request (user + system, read from
``/proc``; the client's own CPU is not in it), which a busy machine stretches less than latency;
``client_cpu_ms`` is this script's. On N idle cores the server can answer at most about
``N * 1000 / (cpu_ms + client_cpu_ms)`` requests/s with the client on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

GRACE_S = 30.0


@dataclass
class Level:
    clients: int
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    outcomes: dict[str, int]
    cpu_ms: float | None = None
    client_cpu_ms: float | None = None
    load_average: float | None = None


def formula_image(latex: str) -> bytes:
    """A rendered formula (matplotlib mathtext when installed, else plain drawn text)."""
    try:
        from scipix.training.mathtext import MathtextRenderer, mathtext_available

        if mathtext_available():
            outcome = MathtextRenderer().render_one(latex, 200)
            if outcome.image is not None:
                image = Image.fromarray(outcome.image)
                buf = io.BytesIO()
                image.save(buf, "PNG")
                return buf.getvalue()
    except ImportError:
        pass
    image = Image.new("L", (160, 48), 255)
    ImageDraw.Draw(image).text((10, 16), latex, fill=0)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def run_level(
    url: str,
    headers: dict[str, str],
    body: dict[str, object],
    clients: int,
    total: int,
    budget: float,
) -> Level:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    sent = 0
    deadline = time.perf_counter() + budget

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < total and time.perf_counter() < deadline:
            sent += 1
            started = time.perf_counter()
            try:
                response = await client.post("/v3/text", headers=headers, json=body)
                data = response.json()
                outcome = (
                    data.get("error_info", {}).get("id", "ok") if isinstance(data, dict) else "?"
                )
            except (httpx.HTTPError, ValueError) as exc:
                outcome = type(exc).__name__
            latencies.append(time.perf_counter() - started)
            outcomes[outcome] += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        began = time.perf_counter()
        try:  # requests still running past the budget get a grace period, then are dropped
            await asyncio.wait_for(
                asyncio.gather(*(worker(client) for _ in range(clients))), budget + GRACE_S
            )
        except TimeoutError:
            outcomes["cancelled"] += sent - len(latencies)
        elapsed = time.perf_counter() - began
    return Level(
        clients=clients,
        requests=len(latencies),
        seconds=round(elapsed, 3),
        requests_per_s=round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        p50_ms=round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
        p99_ms=round(percentile(latencies, 0.99) * 1000, 1) if latencies else 0.0,
        outcomes=dict(outcomes),
    )


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` and its child processes (Linux ``/proc``)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        pids = [pid]
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            pids += [int(c) for c in children.read_text().split()]
        total = 0
        for one in pids:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


def measured_level(
    url: str,
    headers: dict[str, str],
    body: dict[str, object],
    clients: int,
    args: argparse.Namespace,
    pid: int | None,
) -> Level:
    """One level, with the server's CPU per request when it runs here."""
    before, client = process_cpu_s(pid) if pid is not None else None, time.process_time()
    level = asyncio.run(run_level(url, headers, body, clients, args.requests, args.max_seconds))
    after, client = process_cpu_s(pid) if pid is not None else None, time.process_time() - client
    if level.requests:
        level.client_cpu_ms = round(client * 1000 / level.requests, 1)
        if before is not None and after is not None:
            level.cpu_ms = round((after - before) * 1000 / level.requests, 1)
    level.load_average = round(os.getloadavg()[0], 2)
    return level


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data_dir: Path, workers: int, cache: bool = True
) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    env = {**os.environ, "SCIPIX_RUNTIME__DATA_DIR": str(data_dir)}
    if not cache:
        env["SCIPIX_MEMORY__CACHE"] = "false"
    env["SCIPIX_SERVER__RATE_LIMIT_PER_MINUTE"] = "1000000"
    env["SCIPIX_SERVER__HISTORY"] = "true"
    made = subprocess.run(
        [sys.executable, "-m", "scipix", "keys", "create", "--name", "bench", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(made.stdout)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scipix", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url, key
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("scipix serve did not start within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="A running server (default: start one on 127.0.0.1).")
    parser.add_argument("--app-id", default=None)
    parser.add_argument("--app-key", default=None)
    parser.add_argument("--clients", default="1,8,32", help="Concurrency levels (comma-separated).")
    parser.add_argument("--requests", type=int, default=100, help="At most this many per level.")
    parser.add_argument(
        "--max-seconds", type=float, default=30.0, help="At most this long per level."
    )
    parser.add_argument("--workers", type=int, default=1, help="Server worker processes.")
    parser.add_argument("--formula", default="x^{2}+\\frac{1}{2}")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="Start the server with the result cache off (memory.cache = false).",
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()

    levels = [int(c) for c in args.clients.split(",") if c.strip()]
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            url, key = (
                args.url.rstrip("/"),
                {"app_id": args.app_id or "", "app_key": args.app_key or ""},
            )
        else:
            proc, url, key = start_server(Path(tmp), args.workers, cache=not args.no_cache)
        headers = {k: v for k, v in key.items() if v}
        src = "data:image/png;base64," + base64.b64encode(formula_image(args.formula)).decode()
        body: dict[str, object] = {
            "src": src,
            "formats": ["text", "data"],
            "data_options": {"include_latex": True},
        }
        try:
            health = httpx.get(f"{url}/health", timeout=5).json()
            asyncio.run(run_level(url, headers, body, 1, 2, args.max_seconds))  # warm-up
            pid = proc.pid if proc is not None else None
            results = [measured_level(url, headers, body, c, args, pid) for c in levels]
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(30)
    cache = "as the server is set" if args.url else ("off" if args.no_cache else "on")
    print(f"server {url}  model {health.get('model')}  formula {args.formula!r}  cache {cache}")
    columns = ("requests", "seconds", "req/s", "p50 ms", "p99 ms", "cpu ms", "client", "load")
    print(f"{'clients':>7} " + " ".join(f"{c:>8}" for c in columns) + "  outcomes")
    for r in results:
        print(
            f"{r.clients:>7} {r.requests:>8} {r.seconds:>8} {r.requests_per_s:>8} "
            f"{r.p50_ms:>8} {r.p99_ms:>8} {r.cpu_ms!s:>8} {r.client_cpu_ms!s:>8} "
            f"{r.load_average!s:>8}  {r.outcomes}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"url": url, "health": health, "levels": [asdict(r) for r in results]}, indent=2
            )
        )


if __name__ == "__main__":
    main()
