"""``scipix ocr f.png`` as a process: only the command that runs is imported and built, and the
process ends without the interpreter's teardown once the service is closed, with its output, its
exit status and what it stored (the result cache answers the same picture next time) intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from imaging.drawing import encode, formula
from scipix.cli.app import COMMANDS, build_app, command_name


def test_the_command_is_found_after_the_root_options() -> None:
    assert command_name(["ocr", "f.png"]) == "ocr"
    assert command_name(["--config", "x.toml", "--debug", "batch", "d"]) == "batch"
    assert command_name(["-c", "ocr", "latex", "check"]) == "latex"  # -c takes a value
    assert command_name(["--version"]) is None
    assert command_name(["ocrr", "f.png"]) is None  # unknown: the full app says so
    only = build_app("ocr")
    assert [c.name for c in only.registered_commands] == ["ocr"]
    full = build_app()
    named = [c.name for c in full.registered_commands] + [g.name for g in full.registered_groups]
    assert sorted(named) == sorted(COMMANDS)


def scipix(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIPIX_")}
    env["SCIPIX_RUNTIME__DATA_DIR"] = str(data)
    command = [sys.executable, "-m", "scipix", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_ocr_exits_quickly_with_its_output_and_its_memory(tmp_path: Path) -> None:
    image = tmp_path / "e.png"
    image.write_bytes(encode(formula(r"E=mc^{2}"), "png"))
    first = scipix("ocr", str(image), "--format", "json", data=tmp_path / "data")
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stdout)
    assert record["latex_styled"] == "E=mc^{2}" and not record.get("cached")
    again = scipix("ocr", str(image), "--format", "json", data=tmp_path / "data")
    assert json.loads(again.stdout)["cached"] is True  # the memory was written before the exit
    missing = scipix("ocr", str(tmp_path / "missing.png"), data=tmp_path / "data")
    assert missing.returncode == 2 and "image_missing" in missing.stderr
