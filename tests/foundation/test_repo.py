"""The repository's entry points: README's two commands, CI, and the examples README shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import Cli, Home

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    return [
        (match.group(1), match.group(2).strip("\n").splitlines())
        for match in re.finditer(r"^```(\w*)\n(.*?)^```$", text, flags=re.M | re.S)
    ]


def test_readme_opens_with_the_set_up_and_test_commands() -> None:
    language, lines = fenced_blocks(README)[0]
    assert language == "bash"
    assert lines == [
        "./scripts/setup.sh && python3 -m scipix ocr examples/quadratic.png",
        "python3 -m pytest",
    ]


def test_the_example_readme_reads_is_shipped_and_read_right(cli: Cli) -> None:
    """The first command ends by reading examples/quadratic.png: it prints what README says."""
    said = re.search(r"it prints `([^`]+)`", README)
    assert said is not None
    result = cli("ocr", str(ROOT / "examples" / "quadratic.png"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == said.group(1)


def test_ci_runs_readmes_commands() -> None:
    proc = subprocess.run(
        [str(ROOT / ".ci" / "run"), "--dry-run"], capture_output=True, text=True, check=True
    )
    assert proc.stdout.splitlines() == fenced_blocks(README)[0][1]


@pytest.mark.parametrize(
    "script", ["scripts/setup.sh", ".ci/run", "scripts/smoke.sh", "scripts/train.sh"]
)
def test_scripts_are_executable_and_parse(script: str) -> None:
    path = ROOT / script
    assert os.access(path, os.X_OK)
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_readmes_config_error_example_is_what_scipix_prints(home: Home, cli: Cli) -> None:
    [example] = [line for line in README.splitlines() if line.startswith("error: ")]
    (home.cwd / "scipix.toml").write_text("# my settings\n[ocr]\nbeam_widht = 5\n")
    result = cli("config", "validate")
    assert result.returncode == 2
    assert result.stderr.strip() == example


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_lists_the_commands() -> None:
    proc = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0
    for target in ("setup", "test", "lint", "typecheck", "ci", "doctor"):
        assert f"make {target} " in proc.stdout
