#!/usr/bin/env bash
# Fresh-install smoke test: what a user gets from `pip install -e '.[server]'` alone.
#
# Builds a throw-away venv WITHOUT system site packages (so nothing installed by hand on this
# machine can hide a missing dependency), installs scipix with the [server] extra, then:
#   1. `scipix ocr` on a formula image  -> LaTeX with the fraction and the root
#   2. `scipix ocr` on a page with a line of prose and a formula -> the prose and the math
#   3. one POST /v3/text through a live `scipix serve` on a loopback port -> 200, prose + math
# Uses pip's cache, so a second run takes well under a minute.
#
#   scripts/smoke.sh            (SCIPIX_SMOKE_VENV=/path to choose the venv's folder)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-python3}"
VENV="${SCIPIX_SMOKE_VENV:-${TMPDIR:-/tmp}/scipix-smoke-venv}"
WORK="$(mktemp -d)"
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '::: smoke: %s\n' "$*"; }
fail() {
  printf 'smoke: FAILED: %s\n' "$*" >&2
  exit 1
}

log "fresh venv $VENV (no system site packages)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[server]"

# The user's own config, data and cache dirs stay out of it.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data"
export XDG_CACHE_HOME="$WORK/cache"
mkdir -p "$HOME"
cd "$WORK"
SCIPIX="$VENV/bin/scipix"

log "scipix ocr examples/quadratic.png"
formula="$("$SCIPIX" ocr "$ROOT/examples/quadratic.png")"
printf '%s\n' "$formula"
case "$formula" in *'\frac'*'\sqrt'*) ;; *) fail "no fraction with a root in: $formula" ;; esac

log "scipix ocr examples/page.png (a line of prose and a formula)"
page="$("$SCIPIX" ocr "$ROOT/examples/page.png")"
printf '%s\n' "$page"
case "$page" in *'quadratic equation'*) ;; *) fail "the prose line is missing: $page" ;; esac
case "$page" in *'\sqrt'*) ;; *) fail "the formula is missing: $page" ;; esac

port="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log "scipix serve on 127.0.0.1:$port"
SCIPIX_SERVER__AUTH=none_on_loopback "$SCIPIX" serve --host 127.0.0.1 --port "$port" \
  --log-level warning &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before it answered /health"
  sleep 0.5
done

log "POST /v3/text"
"$VENV/bin/python" - "$port" "$ROOT/examples/page.png" <<'EOF'
import base64, json, sys, urllib.request

port, image = sys.argv[1], sys.argv[2]
src = "data:image/png;base64," + base64.b64encode(open(image, "rb").read()).decode()
body = json.dumps({"src": src, "formats": ["text", "data"], "data_options": {"include_latex": True}})
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/v3/text",
    data=body.encode(),
    headers={"Content-Type": "application/json"},
)
with urllib.request.urlopen(request, timeout=120) as response:
    status, answer = response.status, json.load(response)
print(status, json.dumps(answer)[:400])
text = answer.get("text", "")
if status != 200 or "error" in answer:
    sys.exit(f"smoke: FAILED: /v3/text answered {status}: {answer}")
if "quadratic equation" not in text or "\\sqrt" not in text:
    sys.exit(f"smoke: FAILED: /v3/text lost the prose or the formula: {text!r}")
EOF
log "scipix mcp over stdio, with the [mcp] extra: the SDK's client reads examples/quadratic.png"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[server,mcp]"
"$VENV/bin/python" - "$SCIPIX" "$ROOT/examples" <<'EOF'
import json, os, sys

import anyio
from mcp import Client, StdioServerParameters

scipix, examples = sys.argv[1], sys.argv[2]
env = {k: v for k, v in os.environ.items() if k.startswith(("XDG_", "HOME"))}
env["SCIPIX_MCP__ROOTS"] = json.dumps([examples])


async def main() -> None:
    async with Client(StdioServerParameters(command=scipix, args=["mcp"], env=env)) as client:
        result = await client.call_tool("ocr_image", {"path": "quadratic.png"})
        print(json.dumps(result.structured_content)[:300])
        if result.is_error or "\\sqrt" not in result.structured_content["latex"]:
            sys.exit(f"smoke: FAILED: ocr_image answered {result.structured_content}")


anyio.run(main)
EOF
log "passed"
