"""``scipix keys`` and ``scipix serve`` as a person runs them (subprocesses), including a
server killed mid-request: the database stays consistent and the keys keep working."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scipix.server.store import DB_FILE_NAME


def scipix(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scipix", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SCIPIX_")}
    clean["SCIPIX_RUNTIME__DATA_DIR"] = str(tmp_path / "data")
    clean["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return clean


def test_keys_create_list_revoke(env: dict[str, str], tmp_path: Path) -> None:
    made = scipix(env, "keys", "create", "--name", "ci robot", "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert set(key) == {"app_id", "app_key"} and key["app_id"].startswith("ci_robot_")
    listed = scipix(env, "keys", "list", "--json")
    entries = json.loads(listed.stdout)
    assert [e["app_id"] for e in entries] == [key["app_id"]]
    assert key["app_key"] not in listed.stdout  # never shown again
    assert scipix(env, "keys", "set", key["app_id"], "--no-history").returncode == 0
    assert scipix(env, "keys", "revoke", key["app_id"]).returncode == 0
    after = json.loads(scipix(env, "keys", "list", "--json").stdout)[0]
    assert after["revoked_at"] is not None and after["history"] is False
    missing = scipix(env, "keys", "revoke", "nobody_00000000")
    assert missing.returncode == 2 and "config_invalid" in missing.stderr
    stored = sqlite3.connect(tmp_path / "data" / DB_FILE_NAME).execute("SELECT * FROM keys")
    assert key["app_key"] not in repr(stored.fetchall())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def start_server(env: dict[str, str]) -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def start(*extra: str) -> tuple[subprocess.Popen[str], str]:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "scipix", "serve", "--port", str(port), *extra],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"scipix serve exited: {proc.stdout.read() if proc.stdout else ''}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    return proc, url
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("scipix serve did not start")

    yield start
    for proc in procs:  # SIGTERM first: uvicorn's supervisor then stops its workers too
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.wait(10)


def children_of(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc; Linux)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_answers_and_stops_gracefully(env: dict[str, str], start_server: object) -> None:
    key = json.loads(scipix(env, "keys", "create", "--name", "s", "--json").stdout)
    proc, url = start_server("--log-level", "info")  # type: ignore[operator]
    headers = {"app_id": key["app_id"], "app_key": key["app_key"]}
    assert httpx.get(f"{url}/v3/ocr-usage", headers=headers).status_code == 200
    assert httpx.get(f"{url}/v3/ocr-usage").status_code == 401
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once stopped
    output = proc.stdout.read() if proc.stdout else ""
    assert "Application shutdown complete" in output and "Traceback" not in output


def test_a_killed_server_leaves_a_sound_database(
    env: dict[str, str], start_server: object, tmp_path: Path
) -> None:
    env["SCIPIX_SERVER__RATE_LIMIT_PER_MINUTE"] = "1000000"
    key = json.loads(scipix(env, "keys", "create", "--name", "k", "--json").stdout)
    headers = {"app_id": key["app_id"], "app_key": key["app_key"]}
    proc, url = start_server()  # type: ignore[operator]
    stop = threading.Event()
    answered: list[int] = []

    def hammer() -> None:
        with httpx.Client(timeout=5) as client:
            for i in range(400):  # bounded: stops by itself
                if stop.is_set():
                    return
                try:
                    body = {"latex": f"x^{{{i}}}", "request_id": f"r{i}"}
                    stored = client.post(f"{url}/v3/corrections", json=body, headers=headers)
                    client.post(f"{url}/v3/app-tokens", headers=headers)
                    if "correction_id" in stored.json():
                        answered.append(i)
                except httpx.HTTPError:
                    return

    workers = [threading.Thread(target=hammer) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(1.5)
    proc.kill()  # SIGKILL: no shutdown, no cleanup, transactions cut short
    proc.wait(10)
    stop.set()
    for worker in workers:
        worker.join(30)
    assert answered, "no request was answered before the kill"
    db = sqlite3.connect(tmp_path / "data" / DB_FILE_NAME)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT latex, request_id FROM corrections").fetchall()
    assert all(latex and rid for latex, rid in rows) and len(rows) >= len(answered)
    db.close()
    _proc, url = start_server()  # type: ignore[operator]
    again = httpx.get(f"{url}/v3/ocr-usage", headers=headers)
    assert again.status_code == 200


def test_two_worker_processes_share_keys_limits_and_batches(
    env: dict[str, str], start_server: object
) -> None:
    made = scipix(env, "keys", "create", "--name", "w", "--rate-limit", "6", "--json")
    key = json.loads(made.stdout)
    headers = {"app_id": key["app_id"], "app_key": key["app_key"]}
    _proc, url = start_server("--workers", "2")  # type: ignore[operator]
    # A new connection for each request, so that both processes answer some of them.
    made_batch = httpx.post(f"{url}/v3/batch", json={"urls": {"a": "data:,x"}}, headers=headers)
    batch = made_batch.json()["batch_id"]
    answers = [httpx.get(f"{url}/v3/batch/{batch}", headers=headers) for _ in range(6)]
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 5 and statuses.count(429) == 1  # one limit for both workers
    assert all(a.json()["keys"] == ["a"] for a in answers if a.status_code == 200)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_serve_with_two_workers_leaves_no_worker_behind(
    env: dict[str, str], start_server: object, how: signal.Signals
) -> None:
    """Stopped with SIGTERM, or killed outright (its workers are then orphans that must go)."""
    proc, _url = start_server("--workers", "2")  # type: ignore[operator]
    deadline = time.monotonic() + 30
    workers = children_of(proc.pid)
    while len(workers) < 2 and time.monotonic() < deadline:  # multiprocessing's helpers too
        time.sleep(0.2)
        workers = children_of(proc.pid)
    assert len(workers) >= 2, workers
    proc.send_signal(how)
    proc.wait(30)
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if alive(pid)]
