"""``scipix latex check|normalize|convert``: arguments, stdin batches, --json, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def scipix(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scipix.cli.app", "latex", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_normalize_an_argument() -> None:
    result = scipix("normalize", "x^2 + \\frac12")
    assert (result.returncode, result.stdout) == (0, "x^{2}+\\frac{1}{2}\n")


def test_normalize_tokens_and_label_options() -> None:
    result = scipix("normalize", "--labels", "--tokens", "a \\, {\\bf b}")
    assert result.stdout == "a \\mathbf { b }\n"


def test_a_bad_argument_exits_2_with_the_error() -> None:
    result = scipix("normalize", "x^a^b")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "double_script" in result.stderr and "position 3" in result.stderr


def test_json_batch_from_stdin_keeps_order_and_survives_bad_lines() -> None:
    lines = ["x^2", "x^a^b", "\\frac{a}{b}", "{", ""]
    result = scipix("convert", "--to", "asciimath", "--json", stdin="\n".join(lines) + "\n")
    assert result.returncode == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["input"] for row in rows] == lines
    assert [row["output"] for row in rows] == ["x^2", None, "a/b", None, ""]
    assert rows[0]["error"] is None
    assert rows[1]["error"] == {
        "id": "double_script",
        "message": "double superscript: use braces, e.g. x^{a b} or {x^a}^b (at position 3)",
        "position": 3,
    }
    assert rows[3]["error"]["id"] == "unbalanced_brace"


def test_text_batch_keeps_lines_aligned() -> None:
    result = scipix("normalize", "-", stdin="a\\le b\nx}\n\\to\n")
    assert result.stdout.splitlines() == ["a\\leq b", "", "\\rightarrow"]
    assert "unbalanced_brace" in result.stderr


@pytest.mark.parametrize(
    ("target", "start"),
    [
        ("mathml", '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'),
        ("html", '<div class="math-display"><math'),
        ("mmd", "\\[\nx^{2}\n\\]"),
        ("asciimath", "x^2"),
        ("latex", "x^{2}"),
    ],
)
def test_convert_targets(target: str, start: str) -> None:
    result = scipix("convert", "--to", target, "--display", "x^2")
    assert result.returncode == 0
    assert result.stdout.startswith(start)


def test_check_reports_unknown_commands() -> None:
    ok = scipix("check", "--json", stdin="\\alpha\n\\alpah\n")
    rows = [json.loads(line) for line in ok.stdout.splitlines()]
    assert rows[0] == {"input": "\\alpha", "output": "ok", "error": None}
    assert rows[1]["error"]["id"] == "unknown_command"
    assert "did you mean '\\alpha'?" in rows[1]["error"]["message"]
    assert ok.returncode == 1
