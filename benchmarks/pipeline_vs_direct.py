"""Does the pipeline lose what the recognizer reads? The same held-out crops read directly by
``FormulaRecognizer`` and through ``Scipix.recognize`` (pre-processing, orientation, deskew,
layout), with how often the pipeline turned or deskewed them.

    python3 benchmarks/pipeline_vs_direct.py [--sets im2latex_val,crohme] [--limit 150]

Uses the held-out (val) split of ../shared/data/train, never bench/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scipix.errors import LatexError, ScipixError
from scipix.latex import NormalizeOptions, normalize
from scipix.recognition import FormulaRecognizer
from scipix.service import Scipix
from scipix.settings import Settings
from scipix.training.corpus import load_paired
from scipix.training.recipe import read_gray

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"
LABELS = NormalizeOptions.for_labels()


def canonical(latex: str) -> str:
    try:
        return normalize(latex, LABELS)
    except LatexError:
        return latex


def compare(name: str, limit: int, service: Scipix, recognizer: FormulaRecognizer) -> dict:
    items = load_paired(TRAIN / name).val[:limit]
    direct = piped = same = turned = deskewed = failed = 0
    for path, label in items:
        image = read_gray(path)
        a = canonical(recognizer.recognize([image])[0].latex)
        try:
            result = service.recognize(image)
        except ScipixError:
            failed += 1
            continue
        b = canonical(result.latex_styled or "")
        direct += a == label
        piped += b == label
        same += a == b
        turned += result.auto_rotate_degrees != 0
        deskewed += service.preprocess(image).skew != 0
    n = max(len(items), 1)
    return {
        "n": len(items),
        "direct_exact": round(direct / n, 4),
        "pipeline_exact": round(piped / n, 4),
        "same_output": round(same / n, 4),
        "turned": turned,
        "deskewed": deskewed,
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="im2latex_val,crohme")
    parser.add_argument("--limit", type=int, default=150)
    args = parser.parse_args()
    service, recognizer = Scipix(Settings()), FormulaRecognizer.load()
    report = {name: compare(name, args.limit, service, recognizer) for name in args.sets.split(",")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
