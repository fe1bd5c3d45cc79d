"""``scipix train data`` and ``scipix eval`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import Cli, needs_matplotlib, needs_tex


@needs_matplotlib
def test_train_data_renders_a_sample_set_and_a_contact_sheet(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "data"
    args = ("train", "data", "--n", "12", "--out", str(out), "--source", "generator")
    result = cli(*args, "--renderers", "mathtext", "--jobs", "0", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rendered"] >= 8 and report["samples"] == report["rendered"]
    assert list(out.glob("*.shard"))
    sheet = cv2.imread(report["contact_sheet"], cv2.IMREAD_GRAYSCALE)
    assert sheet is not None and sheet.shape[0] > 100 and sheet.shape[1] > 500
    again = json.loads(cli(*args, "--renderers", "mathtext", "--jobs", "0", "--json").stdout)
    assert again["rendered"] == 0 and again["cached"] == 12


@pytest.mark.tex
@needs_tex
def test_train_data_with_tex_in_worker_processes(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = cli(
        "train",
        "data",
        "--n",
        "10",
        "--out",
        str(out),
        "--source",
        "generator",
        "--renderers",
        "tex",
        "--fonts",
        "cm,fourier",
        "--no-contact-sheet",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rendered"] >= 9
    assert set(report["by_renderer"]) <= {"tex/cm", "tex/fourier"}


def test_train_data_without_corpora_says_what_to_do(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "train", "data", "--n", "5", "--source", "corpus", "--data-root", str(tmp_path / "x")
    )
    assert result.returncode == 2
    assert "--source generator" in result.stderr and "Traceback" not in result.stderr


def write_labels(folder: Path) -> Path:
    (folder / "images").mkdir(parents=True)
    image = np.full((20, 40), 255, np.uint8)
    image[5:15, 10:12] = 0
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(folder / "images" / name), image)
    labels = folder / "labels.tsv"
    labels.write_text("a.png\tx^2\nb.png\t\\frac{1}{2}\n")
    return labels


def test_eval_scores_a_predictions_file(cli: Cli, tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "set")
    predictions = tmp_path / "predictions.jsonl"
    lines = [{"image": "a.png", "latex": "x^{2}"}, {"image": "b.png", "latex": "\\frac{1}{3}"}]
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report_file = tmp_path / "report.json"
    result = cli(
        "eval",
        str(labels),
        "--predictions",
        str(predictions),
        "--json",
        "--no-render",
        "--report",
        str(report_file),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["overall"]["n"] == 2 and report["overall"]["exact"] == 0.5
    assert len(json.loads(report_file.read_text())["items"]) == 2
    table = cli("eval", str(labels), "--predictions", str(predictions), "--no-render")
    assert table.returncode == 0 and "overall" in table.stdout and "fraction" in table.stdout


def test_eval_without_a_model_is_a_clear_model_error(cli: Cli, tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "set")
    result = cli("eval", str(labels), "--model-dir", str(tmp_path / "no-model"))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: model_unavailable:")


def test_eval_bad_predictions_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "set")
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text('{"image": "a.png", "latex": "x"}\nnot json\n')
    result = cli("eval", str(labels), "--predictions", str(predictions))
    assert result.returncode == 2
    assert "predictions.jsonl:2" in result.stderr
