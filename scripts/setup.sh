#!/usr/bin/env bash
# One-command set-up on a fresh Debian/Ubuntu machine with Python 3.11:
# the system packages the tests and training need, then scipix with its extras.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

if command -v apt-get >/dev/null; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
    texlive-latex-base texlive-latex-recommended texlive-latex-extra \
    texlive-fonts-recommended texlive-fonts-extra dvipng poppler-utils ghostscript \
    chromium chromium-driver
else
  echo "apt-get not found: install TeX Live, dvipng, poppler-utils and chromium yourself" >&2
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install -q --upgrade pip
# torch==2.13.0 (the [train] extra) is the CPU wheel; an unpinned torch pulls a CUDA build.
"$PYTHON" -m pip install -q -e '.[dev,server,mcp,semantic,train]'
