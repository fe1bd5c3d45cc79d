#!/usr/bin/env bash
# Continue training the formula recognizer on this machine, as every session does: fill the render
# cache (resumable: only what is missing is rendered), then train for HOURS, resuming
# runs/formula/last.pt or else the shipped src/scipix/weights/formula.state.pt.
#
#   nice -n 19 ./scripts/train.sh [HOURS] [DATA_ROOT]     e.g. nice -n 19 ./scripts/train.sh 2
#
# Stop early with: touch runs/formula/STOP. Export only when val is better than the shipped model:
#   scipix train export --checkpoint runs/formula/best.pt --version formula-YYYYMMDD-sN
set -euo pipefail
cd "$(dirname "$0")/.."

HOURS="${1:-2}"
DATA_ROOT="${2:-../shared/data}"
PER_CORPUS="${SCIPIX_RENDER_PER_CORPUS:-6000}"
GENERATED="${SCIPIX_RENDER_GENERATED:-6000}"
STRUCTURE="${SCIPIX_RENDER_STRUCTURE:-3000}"

# python3 -c, not a here-document: the render pool's spawned workers re-import the main module.
python3 -c '
import sys
from pathlib import Path

from scipix.training.config import load_train_config
from scipix.training.recipe import build_render_cache, build_structure_cache

root, per_corpus, generated, structure = Path(sys.argv[1]), *map(int, sys.argv[2:])
cfg = load_train_config(None, data_root=root)
print("render cache:", build_render_cache(cfg, per_corpus, generated, workers=2), flush=True)
print("structure cache:", build_structure_cache(cfg, structure, workers=2), flush=True)
' "$DATA_ROOT" "$PER_CORPUS" "$GENERATED" "$STRUCTURE"

python3 -m scipix train --hours "$HOURS" --data-root "$DATA_ROOT"
