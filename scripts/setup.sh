#!/usr/bin/env bash
# One-command set-up of a fresh Debian machine with Python 3.11: the system packages that the
# tests and training need (TeX Live and dvipng to render formulas, poppler for PDFs, Chromium for
# the web page's browser tests), then scipix in editable mode with its extras.
# Safe to run again: it installs only what is missing.
#
#   PYTHON=/path/to/python ./scripts/setup.sh   another interpreter (an active venv's works too)
#   SCIPIX_SKIP_APT=1 ./scripts/setup.sh        leave the system packages alone
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
EXTRAS="dev,server,train,mcp,ray"
APT_PACKAGES=(
  texlive-latex-base texlive-latex-recommended texlive-latex-extra
  texlive-fonts-recommended texlive-fonts-extra dvipng poppler-utils ghostscript
  chromium chromium-driver
)
# Node.js and npm (MathJax training renders): Debian's, unless a node/npm is already there (a
# NodeSource nodejs bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null || APT_PACKAGES+=(npm)

log() { printf '::: setup: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup: needs root (or sudo) for: $*" >&2
    return 1
  fi
}

missing_packages() {
  local package
  for package in "$@"; do
    dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' ||
      echo "$package"
  done
}

# Debian's own python3 comes without pip and venv.
if ! command -v "$PYTHON" >/dev/null || ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  APT_PACKAGES+=(python3 python3-pip python3-venv python3-dev)
fi

if [ -n "${SCIPIX_SKIP_APT:-}" ]; then
  log "SCIPIX_SKIP_APT is set: system packages left alone"
elif command -v apt-get >/dev/null; then
  mapfile -t missing < <(missing_packages "${APT_PACKAGES[@]}")
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    log "system packages already installed"
  fi
else
  echo "setup: no apt-get; install these (or your system's equivalents): ${APT_PACKAGES[*]}" >&2
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: scipix needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)" >&2
  exit 1
fi

PIP_FLAGS=(-q)
# Debian's system Python refuses pip installs (PEP 668). This script sets up a dedicated
# development or CI machine, so it installs anyway; to keep the system Python clean, run it
# inside a venv instead: python3 -m venv .venv && . .venv/bin/activate && ./scripts/setup.sh
if "$PYTHON" - <<'EOF'
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if managed and sys.prefix == sys.base_prefix else 1)
EOF
then
  PIP_FLAGS+=(--break-system-packages)
fi

# torch==2.13.0 (the [train] extra) resolves to the CPU wheel on this project's machines; an
# unpinned torch would pull a CUDA build of several GB.
log "pip install -e '.[$EXTRAS]'"
"$PYTHON" -m pip install "${PIP_FLAGS[@]}" -e ".[$EXTRAS]"
# MathJax (Node) for the training renders of web-style formulas (scipix.training.mathjax);
# node_modules stays out of git, package-lock.json pins it.
if command -v npm >/dev/null; then
  log "npm ci --prefix tools/mathjax"
  npm ci --prefix tools/mathjax --no-audit --no-fund --loglevel=error
  # onnxruntime-web for the web page's in-browser recognition (served by scipix, no CDN)
  log "npm ci --prefix tools/ortweb"
  npm ci --prefix tools/ortweb --no-audit --no-fund --loglevel=error
else
  log "no npm: MathJax training renders and in-browser recognition are off (apt-get install nodejs npm)"
fi
log "done: $("$PYTHON" -m scipix --version)"
