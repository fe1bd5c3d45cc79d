"""Settings: where values come from, in which order, and how every bad input is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scipix.errors import ConfigError, InputError
from scipix.settings import (
    Settings,
    default_settings,
    find_config_source,
    get_settings,
    load_settings,
    render_toml,
    setting_variables,
    write_config,
)
from scipix.settings.source import locate_key

from .conftest import Home


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def beam(width: int) -> str:
    return f"[ocr]\nbeam_width = {width}\n"


def refused(config: Path | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert "\n" not in info.value.message
    return info.value


# --- sources and their priority ---------------------------------------------------------------


def test_defaults_without_any_file(home: Home) -> None:
    settings = load_settings()
    assert find_config_source() is None
    assert settings.ocr.beam_width == 3
    assert settings.runtime.data_dir == home.data_dir / "scipix"
    assert settings.runtime.cache_dir == home.cache_dir / "scipix"


def test_sources_in_priority_order(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write(home.root / "explicit.toml", beam(1))
    from_env = write(home.root / "from-env.toml", beam(2))
    in_cwd = write(home.cwd / "scipix.toml", beam(4))
    in_user_dir = write(home.user_config, beam(5))
    monkeypatch.setenv("SCIPIX_CONFIG", str(from_env))

    assert load_settings(explicit).ocr.beam_width == 1  # --config
    assert load_settings().ocr.beam_width == 2  # $SCIPIX_CONFIG
    monkeypatch.delenv("SCIPIX_CONFIG")
    assert load_settings().ocr.beam_width == 4  # ./scipix.toml
    in_cwd.unlink()
    assert load_settings().ocr.beam_width == 5  # the user config dir
    source = find_config_source()
    assert source is not None and source.path == in_user_dir
    in_user_dir.unlink()
    assert load_settings().ocr.beam_width == 3  # the defaults


def test_files_are_not_merged(home: Home) -> None:
    write(home.cwd / "scipix.toml", beam(4))
    write(home.user_config, "[ocr]\nn_best = 5\n")
    settings = load_settings()
    assert (settings.ocr.beam_width, settings.ocr.n_best) == (4, 1)


def test_environment_overrides_the_file_key_by_key(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(home.cwd / "scipix.toml", "[ocr]\nbeam_width = 5\nn_best = 2\n")
    monkeypatch.setenv("SCIPIX_OCR__BEAM_WIDTH", "7")
    settings = load_settings()
    assert settings.ocr.beam_width == 7
    assert settings.ocr.n_best == 2  # the rest of the file's section stays


def test_environment_values_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_PREPROCESSING__CLAHE", "true")
    monkeypatch.setenv("scipix_server__port", "9001")  # names are case-insensitive
    monkeypatch.setenv("SCIPIX_OCR__MATH_INLINE_DELIMITERS", '["$", "$"]')
    settings = load_settings()
    assert settings.preprocessing.clahe is True
    assert settings.server.port == 9001
    assert settings.ocr.math_inline_delimiters == ("$", "$")
    assert set(setting_variables()) == {
        "SCIPIX_PREPROCESSING__CLAHE",
        "scipix_server__port",
        "SCIPIX_OCR__MATH_INLINE_DELIMITERS",
    }


def test_other_scipix_variables_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_UPDATE_GOLDEN", "1")
    assert load_settings().ocr.beam_width == 3
    assert setting_variables() == {}


def test_user_paths_expand_the_home_directory(home: Home) -> None:
    write(home.cwd / "scipix.toml", '[runtime]\ndata_dir = "~/scipix-data"\n')
    assert load_settings().runtime.data_dir == Path.home() / "scipix-data"


def test_get_settings_is_cached_until_cleared(home: Home) -> None:
    first = get_settings()
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings() is not first


def test_default_settings_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_OCR__BEAM_WIDTH", "not a number")
    assert default_settings().ocr.beam_width == 3


def test_nothing_is_read_at_import_time(home: Home) -> None:
    env = {
        **os.environ,
        "SCIPIX_CONFIG": str(home.root / "missing.toml"),
        "SCIPIX_OCR__BEAM_WIDTH": "abc",
    }
    code = "import scipix.settings, scipix.errors, scipix.doctor, scipix.cli.app"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr


# --- a missing or unreadable file -------------------------------------------------------------


def test_missing_explicit_file_is_refused(home: Home) -> None:
    error = refused(home.root / "missing.toml")
    assert "missing.toml" in error.message and "--config" in error.message


def test_missing_env_file_is_refused(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_CONFIG", str(home.root / "gone.toml"))
    error = refused()
    assert "gone.toml" in error.message and "$SCIPIX_CONFIG" in error.message


def test_a_directory_is_refused(home: Home) -> None:
    error = refused(home.root)
    assert str(home.root) in error.message and "directory" in error.message


def test_non_utf8_file_is_refused(home: Home) -> None:
    path = home.root / "binary.toml"
    path.write_bytes(b"\xff\xfe[ocr]\n")
    error = refused(path)
    assert "binary.toml" in error.message and "UTF-8" in error.message


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_file_that_fails_to_read_is_refused() -> None:
    error = refused(Path("/proc/self/mem"))  # opens, but reading offset 0 fails, even for root
    assert error.message == "cannot read config file /proc/self/mem: Input/output error"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_refused(home: Home) -> None:
    path = write(home.root / "secret.toml", beam(3))
    path.chmod(0)
    error = refused(path)
    assert "secret.toml" in error.message and "ermission" in error.message


# --- bad contents -----------------------------------------------------------------------------


def test_toml_syntax_error_names_file_and_line(home: Home) -> None:
    path = write(home.root / "bad.toml", "[ocr]\nbeam_width = 3\nn_best = \n")
    error = refused(path)
    assert error.message.startswith(f"{path}:3:")
    assert "TOML syntax error" in error.message
    assert error.detail["line"] == 3


def test_unknown_nested_key_names_key_file_line_and_closest(home: Home) -> None:
    path = write(home.root / "typo.toml", "# tuned\n[ocr]\nbeam_widht = 5\n")
    error = refused(path)
    assert error.message == (
        f"{path}:3: unknown key 'ocr.beam_widht'; did you mean 'ocr.beam_width'?"
    )
    assert error.detail == {"path": str(path), "key": "ocr.beam_widht", "line": 3}


def test_unknown_section_names_the_closest_section(home: Home) -> None:
    path = write(home.root / "typo.toml", "[preprocesing]\ndeskew = false\n")
    error = refused(path)
    assert "unknown key 'preprocesing'" in error.message
    assert "did you mean 'preprocessing'?" in error.message
    assert error.message.startswith(f"{path}:1:")


def test_unknown_top_level_key_lists_the_sections(home: Home) -> None:
    path = write(home.root / "odd.toml", "verbose = true\n")
    error = refused(path)
    assert "unknown key 'verbose'" in error.message
    assert "runtime, ocr, preprocessing" in error.message


def test_unknown_key_in_a_dotted_key_and_inline_table(home: Home) -> None:
    path = write(home.root / "dotted.toml", "server.prot = 80\n")
    assert "unknown key 'server.prot'; did you mean 'server.port'?" in refused(path).message
    path = write(home.root / "inline.toml", "ocr = { nbest = 2 }\n")
    assert "unknown key 'ocr.nbest'; did you mean 'ocr.n_best'?" in refused(path).message


def test_wrong_type_names_key_file_and_line(home: Home) -> None:
    path = write(home.root / "types.toml", "[runtime]\n\n[ocr]\nn_best = 2\nbeam_width = 'x'\n")
    error = refused(path)
    assert error.message.startswith(f"{path}:5: ocr.beam_width: ")
    assert "integer" in error.message and "'x'" in error.message
    assert error.detail["key"] == "ocr.beam_width"


def test_out_of_range_and_bad_choice_are_refused(home: Home) -> None:
    path = write(home.root / "range.toml", "[server]\nport = 70000\n")
    assert "server.port" in refused(path).message
    path = write(home.root / "choice.toml", '[runtime]\nlog_level = "loud"\n')
    message = refused(path).message
    assert "runtime.log_level" in message and "'debug'" in message


def test_a_section_that_is_not_a_table_is_refused(home: Home) -> None:
    path = write(home.root / "flat.toml", "ocr = 3\n")
    assert refused(path).message.startswith(f"{path}:1: ocr: ")


# --- bad environment variables ----------------------------------------------------------------


def test_bad_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_OCR__BEAM_WIDTH", "abc")
    error = refused()
    assert error.message.startswith("environment variable SCIPIX_OCR__BEAM_WIDTH='abc': ")
    assert "ocr.beam_width" in error.message
    assert error.detail["env"] == "SCIPIX_OCR__BEAM_WIDTH"


def test_env_beats_a_bad_file_value_and_is_blamed_only_for_its_own(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(home.root / "bad.toml", "[ocr]\nbeam_width = 'x'\n")
    monkeypatch.setenv("SCIPIX_OCR__BEAM_WIDTH", "4")
    assert load_settings(path).ocr.beam_width == 4
    monkeypatch.setenv("SCIPIX_SERVER__PORT", "0")
    assert "SCIPIX_SERVER__PORT" in refused(path).message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SCIPIX_OCR__BEAMWIDTH", "did you mean SCIPIX_OCR__BEAM_WIDTH?"),
        ("SCIPIX_OCRR__BEAM_WIDTH", "did you mean SCIPIX_OCR__BEAM_WIDTH?"),
        ("SCIPIX_BEAM_WIDTH", "did you mean SCIPIX_OCR__BEAM_WIDTH?"),
    ],
)
def test_unknown_env_setting_names_variable_and_closest(
    name: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "3")
    error = refused()
    assert error.message.startswith(f"environment variable {name}: ")
    assert expected in error.message


def test_env_json_that_does_not_parse_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_OCR__MATH_INLINE_DELIMITERS", "$ $")
    error = refused()
    assert "SCIPIX_OCR__MATH_INLINE_DELIMITERS" in error.message and "JSON" in error.message


def test_config_errors_are_input_errors() -> None:
    assert issubclass(ConfigError, InputError)  # the CLI exits with 2


# --- the written file -------------------------------------------------------------------------


def test_rendered_defaults_parse_back_to_the_defaults(home: Home) -> None:
    text = render_toml(default_settings())
    data = tomllib.loads(text)
    assert set(data) == set(Settings.model_fields)
    path = home.root / "written.toml"
    write_config(path)
    assert load_settings(path) == default_settings()
    assert "# Beam search width" in path.read_text()


def test_rendered_settings_keep_their_values(home: Home) -> None:
    settings = default_settings()
    settings.ocr.beam_width = 9
    settings.ocr.model_dir = home.root / "model"
    path = home.root / "custom.toml"
    write_config(path, settings)
    loaded = load_settings(path)
    assert loaded.ocr.beam_width == 9 and loaded.ocr.model_dir == home.root / "model"


@pytest.mark.parametrize(
    ("text", "dotted", "line"),
    [
        ("[ocr]\nbeam_width = 3\n", ("ocr", "beam_width"), 2),
        ("a = 1\n[server]\n  port = 1 # c\n", ("server", "port"), 3),
        ("ocr.n_best = 2\n", ("ocr", "n_best"), 1),
        ('ocr = { n_best = "x" }\n', ("ocr", "n_best"), 1),
        ('[ocr]\n"beam_width" = 1\n', ("ocr", "beam_width"), 2),
        ("[ocr]\nmath_inline_delimiters = [1, 2]\n", ("ocr", "math_inline_delimiters", "0"), 2),
        ("[ocr]\n", ("ocr",), 1),
        ("[ocr]\n", ("server", "port"), None),
    ],
)
def test_locate_key(text: str, dotted: tuple[str, ...], line: int | None) -> None:
    assert locate_key(text, dotted) == line
