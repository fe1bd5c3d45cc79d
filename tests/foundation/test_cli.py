"""The ``scipix`` command as a user runs it: exit codes, one-line errors, config round trips."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from scipix import __version__
from scipix.cli.app import app, main

from .conftest import Cli, Home


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"scipix {__version__}"


def test_unknown_command_is_a_usage_error(cli: Cli) -> None:
    result = cli("no-such-command")
    assert result.returncode == 2 and "No such command" in result.stderr


# --- bad input: one line, exit code 2, never a traceback --------------------------------------

BAD_FILES = {
    "syntax": ("[ocr]\nbeam_width = 3\nn_best =\n", ":3:", "TOML syntax error"),
    "unknown key": ("[ocr]\nbeam_widht = 3\n", ":2:", "unknown key 'ocr.beam_widht'"),
    "unknown section": ("[sever]\nport = 1\n", ":1:", "did you mean 'server'?"),
    "wrong type": ("[server]\nport = 'eighty'\n", ":2:", "server.port"),
    "rich markup in the value": ('[runtime]\nlog_level = "[red]x"\n', ":2:", "'[red]x'"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_config_file_is_one_line_and_exit_2(case: str, home: Home, cli: Cli) -> None:
    text, where, what = BAD_FILES[case]
    path = home.root / "scipix.toml"
    path.write_text(text)
    result = cli("--config", str(path), "config", "validate")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: config_invalid: {path}{where}")
    assert what in line


@pytest.mark.parametrize(
    ("env", "what"),
    [
        ({"SCIPIX_OCR__BEAM_WIDTH": "abc"}, "environment variable SCIPIX_OCR__BEAM_WIDTH='abc'"),
        ({"SCIPIX_OCR__BEAMWIDTH": "3"}, "did you mean SCIPIX_OCR__BEAM_WIDTH?"),
        ({"SCIPIX_CONFIG": "/nonexistent/scipix.toml"}, "/nonexistent/scipix.toml"),
    ],
)
def test_bad_environment_is_one_line_and_exit_2(env: dict[str, str], what: str, cli: Cli) -> None:
    result = cli("config", "show", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: config_invalid: ") and what in line


def test_unreadable_and_missing_files_exit_2(home: Home, cli: Cli) -> None:
    binary = home.root / "binary.toml"
    binary.write_bytes(b"\x80\x81")
    for path, what in [
        (binary, "not UTF-8"),
        (home.root, "is a directory"),
        (home.root / "none.toml", "does not exist"),
    ]:
        result = cli("-c", str(path), "config", "show")
        assert result.returncode == 2, path
        [line] = result.stderr.splitlines()
        assert str(path) in line and what in line


def test_debug_shows_the_traceback(home: Home, cli: Cli) -> None:
    path = home.root / "scipix.toml"
    path.write_text("[ocr]\nbeam_widht = 3\n")
    result = cli("--debug", "--config", str(path), "config", "validate")
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "scipix.errors.ConfigError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: config_invalid: ")


def test_unexpected_errors_are_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app, "registered_commands", [*app.registered_commands])
    app.command("boom")(boom)
    for args, traceback_shown in ((["boom"], False), (["--debug", "boom"], True)):
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 1
        err = capsys.readouterr().err
        assert ("Traceback" in err) is traceback_shown
        assert err.splitlines()[-1].startswith("error: sys_exception: RuntimeError: disk on fire")


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("config", "show", "--no-such-option").returncode == 2
    assert cli("doctor", "--only", "everything").returncode == 2


# --- config init | show | validate ------------------------------------------------------------


def test_init_then_validate_round_trip(home: Home, cli: Cli) -> None:
    init = cli("config", "init")  # ./scipix.toml, as the README says
    local = home.cwd / "scipix.toml"
    assert init.returncode == 0, init.stderr
    assert local.is_file() and not home.user_config.exists()
    assert str(local) in init.stdout and init.stderr == ""
    validate = cli("config", "validate")
    assert validate.returncode == 0, validate.stderr
    assert str(local) in validate.stdout
    data = tomllib.loads(local.read_text())
    assert data["ocr"]["beam_width"] == 3


def test_init_user_writes_the_user_config_dir(home: Home, cli: Cli) -> None:
    init = cli("config", "init", "--user")
    assert init.returncode == 0, init.stderr
    assert home.user_config.is_file() and not (home.cwd / "scipix.toml").exists()
    assert str(home.user_config) in init.stdout
    validate = cli("config", "validate")
    assert validate.returncode == 0 and str(home.user_config) in validate.stdout
    # a ./scipix.toml is read first: writing the user file says so
    (home.cwd / "scipix.toml").write_text("[ocr]\nn_best = 2\n")
    again = cli("config", "init", "--user", "--force")
    assert again.returncode == 0, again.stderr
    assert "note: scipix reads" in again.stderr and "scipix.toml" in again.stderr
    both = cli("config", "init", "--user", str(home.root / "x.toml"))
    assert both.returncode == 2 and "not both" in both.stderr


def test_init_does_not_overwrite_without_force(home: Home, cli: Cli) -> None:
    local = home.cwd / "scipix.toml"
    local.write_text("[ocr]\nbeam_width = 7\n")
    refused = cli("config", "init")
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert "beam_width = 7" in local.read_text()
    assert cli("config", "init", "--force").returncode == 0
    assert "beam_width = 3" in local.read_text()


def test_init_writes_where_config_points(home: Home, cli: Cli) -> None:
    by_option = home.root / "a" / "by-option.toml"
    assert cli("--config", str(by_option), "config", "init").returncode == 0
    assert cli("--config", str(by_option), "config", "validate").returncode == 0
    by_env = home.root / "by-env.toml"
    assert cli("config", "init", env={"SCIPIX_CONFIG": str(by_env)}).returncode == 0
    by_argument = home.root / "by-argument.toml"
    assert cli("config", "init", str(by_argument)).returncode == 0
    assert cli("config", "validate", str(by_argument)).returncode == 0
    assert by_option.is_file() and by_env.is_file() and by_argument.is_file()
    assert not home.user_config.exists() and not (home.cwd / "scipix.toml").exists()


def test_show_json_reports_file_environment_and_values(home: Home, cli: Cli) -> None:
    (home.cwd / "scipix.toml").write_text("[ocr]\nn_best = 4\n")
    result = cli("config", "show", "--json", env={"SCIPIX_OCR__BEAM_WIDTH": "5"})
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert Path(shown["source"]) == home.cwd / "scipix.toml"
    assert shown["environment"] == ["SCIPIX_OCR__BEAM_WIDTH"]
    assert shown["settings"]["ocr"]["beam_width"] == 5
    assert shown["settings"]["ocr"]["n_best"] == 4


def test_show_prints_valid_toml(home: Home, cli: Cli) -> None:
    result = cli("config", "show", env={"SCIPIX_SERVER__PORT": "8123"})
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout)["server"]["port"] == 8123
    assert "SCIPIX_SERVER__PORT" in result.stdout
    assert str(home.user_config) in result.stdout  # where it looked


def test_validate_json(home: Home, cli: Cli) -> None:
    good = home.root / "good.toml"
    good.write_text("[ocr]\nbeam_width = 2\n")
    result = cli("config", "validate", str(good), "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"valid": True, "path": str(good)}
    bad = home.root / "bad.toml"
    bad.write_text("[ocr]\nbeam_widht = 2\n")
    result = cli("config", "validate", str(bad), "--json")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["key"] == "ocr.beam_widht" and report["line"] == 2
    assert report["path"] == str(bad)
    assert "did you mean 'ocr.beam_width'?" in report["error"]
