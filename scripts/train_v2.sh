#!/usr/bin/env bash
# Train the formula recognizer on mixture v2 (configs/mixture_v2.toml): fill the v1 render cache
# and the v2 cache (MathJax, structure set, held-out renders per kind; resumable), then train
# for HOURS, resuming runs/formula/last.pt or the shipped formula.state.pt.
#
#   nice -n 19 ./scripts/train_v2.sh [HOURS] [DATA_ROOT]
#
# Stop early with: touch runs/formula/STOP. Pick the export by best_mix.pt (mean BLEU over
# im2latex_val and every kind) or best.pt (im2latex_val alone):
#   scipix train export --checkpoint runs/formula/best_mix.pt --version formula-YYYYMMDD-sN
set -euo pipefail
cd "$(dirname "$0")/.."

HOURS="${1:-2}"
DATA_ROOT="${2:-../shared/data}"
CONFIG="${SCIPIX_TRAIN_CONFIG:-configs/mixture_v2.toml}"

# python3 -c, not a here-document: the render pool's spawned workers re-import the main module.
python3 -c '
import sys
from pathlib import Path

from scipix.training.config import load_train_config
from scipix.training.mixture_v2 import build_v2_cache
from scipix.training.recipe import build_render_cache, build_structure_cache

cfg = load_train_config(Path(sys.argv[2]), data_root=Path(sys.argv[1]))
print("render cache:", build_render_cache(cfg, 6000, 6000, workers=2), flush=True)
print("structure cache:", build_structure_cache(cfg, 3000, workers=2), flush=True)
print("v2 cache:", build_v2_cache(cfg, workers=2), flush=True)
' "$DATA_ROOT" "$CONFIG"

python3 -m scipix train --config "$CONFIG" --hours "$HOURS" --data-root "$DATA_ROOT"
