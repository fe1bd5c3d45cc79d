"""``scipix doctor``: the JSON report, exit codes, groups, fixes and the individual checks."""

from __future__ import annotations

import hashlib
import json
import socket

import pytest
from packaging.requirements import Requirement

from scipix.doctor import (
    GROUPS,
    check_directory,
    check_model,
    check_requirement,
    check_server,
    install_hint,
    run_checks,
)
from scipix.settings import default_settings

from .conftest import Cli, Home

CHECK_KEYS = {"group", "name", "status", "message", "fix"}


def test_json_report_has_a_checks_list_of_every_group(cli: Cli) -> None:
    result = cli("doctor", "--json")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"ok", "checks"}
    checks = report["checks"]
    assert isinstance(checks, list) and checks
    for check in checks:
        assert set(check) == CHECK_KEYS
        assert check["status"] in ("ok", "warn", "fail")
        assert check["group"] in GROUPS
        assert check["status"] == "ok" or check["fix"], check
    assert {c["group"] for c in checks} == set(GROUPS)
    failed = any(c["status"] == "fail" for c in checks)
    assert report["ok"] is not failed
    assert result.returncode == (1 if failed else 0)
    names = {c["name"] for c in checks}
    assert {"python", "onnxruntime", "onnxruntime-providers", "config", "port"} <= names


def test_a_failed_check_exits_1(home: Home, cli: Cli) -> None:
    empty = home.root / "no-model"
    empty.mkdir()
    result = cli("doctor", "--json", "--only", "model", env={"SCIPIX_OCR__MODEL_DIR": str(empty)})
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    [check] = report["checks"]
    assert check["status"] == "fail" and str(empty) in check["message"]
    assert "ocr.model_dir" in check["fix"]


def test_only_runs_the_named_groups(cli: Cli) -> None:
    result = cli("doctor", "--json", "--only", "config", "--only", "server")
    assert result.returncode == 0, result.stdout
    groups = {c["group"] for c in json.loads(result.stdout)["checks"]}
    assert groups == {"config", "server"}


def test_human_output_lists_checks_and_fixes(cli: Cli) -> None:
    result = cli("doctor", "--only", "config", "--only", "system")
    assert result.returncode == 0
    assert "warn  config" in result.stdout
    assert "fix: scipix doctor --fix" in result.stdout
    assert result.stdout.rstrip().endswith("0 fail")


def test_fix_creates_config_and_directories(home: Home, cli: Cli) -> None:
    result = cli("doctor", "--fix", "--json", "--only", "config", "--only", "system")
    assert result.returncode == 0, result.stdout
    assert home.user_config.is_file()
    assert (home.data_dir / "scipix").is_dir()
    assert (home.cache_dir / "scipix").is_dir()
    statuses = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert statuses["config"] == statuses["data_dir"] == statuses["cache_dir"] == "ok"
    assert cli("config", "validate").returncode == 0


def test_fix_creates_the_config_named_by_option(home: Home, cli: Cli) -> None:
    target = home.root / "etc" / "scipix.toml"
    result = cli("--config", str(target), "doctor", "--fix", "--only", "config")
    assert result.returncode == 0, result.stdout
    assert target.is_file() and not home.user_config.exists()


def test_fix_never_overwrites_a_bad_config(home: Home, cli: Cli) -> None:
    home.user_config.parent.mkdir(parents=True)
    home.user_config.write_text("[ocr]\nbeam_widht = 3\n")
    result = cli("doctor", "--fix", "--json", "--only", "config")
    assert result.returncode == 1
    [check] = json.loads(result.stdout)["checks"]
    assert check["status"] == "fail" and "ocr.beam_widht" in check["message"]
    assert home.user_config.read_text() == "[ocr]\nbeam_widht = 3\n"


def test_bad_environment_fails_the_config_check_only(home: Home, cli: Cli) -> None:
    result = cli(
        "doctor",
        "--json",
        "--only",
        "config",
        "--only",
        "server",
        env={"SCIPIX_SERVER__PORT": "http"},
    )
    assert result.returncode == 1
    checks = json.loads(result.stdout)["checks"]
    config = next(c for c in checks if c["name"] == "config")
    assert config["status"] == "fail" and "SCIPIX_SERVER__PORT" in config["fix"]
    port = next(c for c in checks if c["name"] == "port")
    assert port["status"] in ("ok", "warn") and ":8000 " in port["message"]  # the default port


# --- the model check --------------------------------------------------------------------------


def test_model_check_fails_without_weights(home: Home) -> None:
    settings = default_settings()
    settings.ocr.model_dir = home.root
    [check] = check_model(settings)
    assert check.status == "fail" and check.fix
    settings.ocr.model_dir = home.root / "missing"
    [check] = check_model(settings)
    assert check.status == "fail" and "not a directory" in check.message


def test_model_check_fails_on_a_corrupt_file(home: Home) -> None:
    corrupt = home.root / "encoder.onnx"
    corrupt.write_bytes(b"not an onnx model")
    settings = default_settings()
    settings.ocr.model_dir = home.root
    [check] = [c for c in check_model(settings) if c.name == "encoder.onnx"]
    assert check.status == "fail"
    assert hashlib.sha256(b"not an onnx model").hexdigest() in check.message


def test_model_check_uses_the_recognizers_own_loader(home: Home) -> None:
    recognition = pytest.importorskip("scipix.recognition", exc_type=ImportError)
    if not callable(getattr(getattr(recognition, "FormulaRecognizer", None), "load", None)):
        pytest.skip("scipix.recognition has no FormulaRecognizer.load yet")
    (home.root / "encoder.onnx").write_bytes(b"not an onnx model")
    settings = default_settings()
    settings.ocr.model_dir = home.root
    [check] = [c for c in check_model(settings) if c.name == "recognizer"]
    assert check.status == "fail" and check.fix


def test_model_check_loads_a_real_model_and_reports_its_sha256(home: Home) -> None:
    onnx = pytest.importorskip("onnx")
    helper = onnx.helper
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    helper.set_model_props(model, {"model_version": "test-7"})
    path = home.root / "decoder.onnx"
    onnx.save(model, str(path))
    settings = default_settings()
    settings.ocr.model_dir = home.root
    [check] = [c for c in check_model(settings) if c.name == "decoder.onnx"]
    assert check.status == "ok", check.message
    assert hashlib.sha256(path.read_bytes()).hexdigest() in check.message
    assert "version test-7" in check.message


# --- other checks -----------------------------------------------------------------------------


def test_requirement_checks() -> None:
    assert check_requirement(Requirement("pytest>=1"), None).status == "ok"
    missing = Requirement("scipix-no-such-distribution>=1")
    assert check_requirement(missing, None).status == "fail"
    optional = check_requirement(missing, "server")
    assert optional.status == "warn" and optional.fix == install_hint("server")
    assert "[server]'" in install_hint("server")
    too_old = check_requirement(Requirement("pytest>=999"), None)
    assert too_old.status == "fail" and "does not satisfy" in too_old.message


def test_directory_checks(home: Home) -> None:
    target = home.root / "data"
    assert check_directory("data_dir", target, fix=False).status == "warn"
    assert check_directory("data_dir", target, fix=True).status == "ok"
    assert target.is_dir()
    a_file = home.root / "file"
    a_file.write_text("")
    assert check_directory("data_dir", a_file, fix=True).status == "fail"
    assert check_directory("data_dir", a_file / "below", fix=True).status == "fail"


def test_port_check_sees_a_listening_socket() -> None:
    settings = default_settings()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        settings.server.port = listener.getsockname()[1]
        [busy] = check_server(settings)
        assert busy.status == "warn" and busy.fix
    [free] = check_server(settings)
    assert free.status == "ok"


def test_run_checks_in_process_respects_only(home: Home) -> None:
    checks = run_checks(only=["system"], fix=True)
    assert {c.group for c in checks} == {"system"}
    assert not home.user_config.exists()  # --fix of other groups only
    assert (home.data_dir / "scipix").is_dir()
