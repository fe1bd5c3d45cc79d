"""The Ray engine, on one local Ray (2 CPUs) shared by the module: the same results as the local
engine (errors as data, input order, signed by the actors), a worker killed mid-batch loses and
duplicates nothing, and an unreachable cluster is exit 2 (or the local engine, when allowed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scipix.cli.app import main

ray = pytest.importorskip("ray", reason="needs the [ray] extra: pip install 'scipix[ray]'")

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def no_time_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readings that depend on time (a second reading, the learning loop's strategies, each
    within a budget of ms) could differ between engines on a loaded machine: no budgets."""
    monkeypatch.setenv("SCIPIX_PREPROCESSING__SECOND_READING_BUDGET_MS", "1e9")
    monkeypatch.setenv("SCIPIX_LEARNING__STRATEGY_BUDGET_MS", "0")
    # The second engine must read, not answer from the result cache the first one filled.
    monkeypatch.setenv("SCIPIX_MEMORY__CACHE", "false")


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for name in ("quadratic.png", "page.png"):
        (folder / f"a_{name}").write_bytes((ROOT / "examples" / name).read_bytes())
    (folder / "b_broken.png").write_bytes(b"not an image")
    return folder


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return int(done.value.code or 0)


def records(path: Path, drop: tuple[str, ...] = ("request_id", "attestation")) -> list[Any]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in drop} for r in lines]


def test_ray_batch_equals_local_and_its_actors_sign(
    local_ray: None, no_time_budgets: None, scans: Path
) -> None:
    local, cluster = scans.parent / "local.jsonl", scans.parent / "ray.jsonl"
    assert run("batch", str(scans), "--out", str(local)) == 1  # one image is broken
    code = run("batch", str(scans), "--out", str(cluster), "--engine", "ray", "--attest")
    assert code == 1
    assert records(cluster) == records(local)
    assert [r["image"].rsplit("/", 1)[1] for r in records(cluster)] == [
        "a_page.png",
        "a_quadratic.png",
        "b_broken.png",
    ]
    assert records(cluster)[2]["error_info"]["id"] == "image_decode_error"
    signed = [r for r in records(cluster, ()) if "attestation" in r]
    assert len(signed) == 2
    good = scans.parent / "good.jsonl"
    good.write_text("".join(json.dumps(r) + "\n" for r in signed))
    assert run("verify", str(good)) == 0


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(local_ray: None) -> None:
    from scipix.pipeline.ray_runtime import RayRuntime
    from scipix.service import Scipix, pipeline_agents

    image = (ROOT / "examples" / "quadratic.png").read_bytes()
    pulled: list[int] = []

    def images() -> Iterator[bytes]:
        for i in range(8):
            pulled.append(i)
            yield image

    with Scipix() as service:
        runtime = RayRuntime(service.settings, pipeline_agents, actors=2, max_in_flight=6)
        results = []
        for result in service.recognize_many(images(), runtime=runtime):
            if not results:
                assert len(pulled) <= 6  # back-pressure: the input is read as results go out
                ray.kill(runtime.pool[0], no_restart=False)  # Ray restarts it
            results.append(result)
        runtime.close()
    assert runtime.retried >= 1
    assert len(results) == 8 and all(r.ok for r in results)
    assert len({r.request_id for r in results}) == 8
    assert len({r.latex_styled or r.text for r in results}) == 1


def test_an_unreachable_cluster_is_exit_2_or_local_when_allowed(
    scans: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = scans.parent / "out.jsonl"
    address = "127.0.0.1:9"  # discard: nothing listens
    assert run("batch", str(scans), "--out", str(out), "--engine", "ray", "--address", address) == 2
    err = capsys.readouterr().err
    assert "cluster_unavailable" in err and "cannot reach the Ray cluster at 127.0.0.1:9" in err
    assert not out.exists() or out.read_text() == ""
    monkeypatch.setenv("SCIPIX_DISTRIBUTED__FALLBACK_LOCAL", "true")
    (scans / "a_page.png").unlink()
    assert run("batch", str(scans), "--out", str(out), "--engine", "ray", "--address", address) == 1
    assert "running locally" in capsys.readouterr().err
    assert len(records(out)) == 2


def test_pdf_pages_sharded_on_ray_read_as_locally(
    local_ray: None, no_time_budgets: None, tmp_path: Path
) -> None:
    paper = ROOT / "tests" / "documents" / "data" / "onecol.pdf"
    local, cluster = tmp_path / "local.mmd", tmp_path / "ray.mmd"
    assert run("pdf", str(paper), "--out", str(local), "--no-cache") == 0
    assert run("pdf", str(paper), "--out", str(cluster), "--no-cache", "--engine", "ray") == 0
    assert cluster.read_text() == local.read_text()
    assert "\\frac" in cluster.read_text() or "\\[" in cluster.read_text()
