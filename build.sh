#!/usr/bin/env bash
# The one entry point.
#   ./build.sh        install everything (apt, venv, npm, Pyodide runtime), build the wheel and web/dist/
#   ./build.sh test   the above, then every test (JS type check and node tests, CPython, browser)
#   ./build.sh serve  the above, then `zarrlite view` on the bundled sample
#   ./build.sh bench  the above, then the benchmarks in bench/
#   ./build.sh fuzz   the long fuzzing run (10,000+ cases per target)
# Idempotent: downloads are cached in .cache/, steps are skipped when their inputs did not change.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
cd "$ROOT"
CACHE="$ROOT/.cache"
VENV="$ROOT/.venv"
mkdir -p "$CACHE"

log() { printf '\033[1m[build]\033[0m %s\n' "$*" >&2; }

find_python312() {
  local c
  for c in "${PYTHON312:-}" python3.12 "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_apt() {
  # Debian packages: chromium for the browser tests.
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_venv() {
  local py stamp want
  py="$(find_python312)" || { log "Python 3.12 not found (set PYTHON312=/path/to/python3.12)"; exit 1; }
  stamp="$VENV/.zarrlite-deps"
  want="$(cat pyproject.toml requirements-dev.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating .venv with $py"
    "$py" -m venv "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing Python dependencies"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q --cache-dir "$CACHE/pip" -r requirements-dev.txt -e .
    echo "$want" > "$stamp"
  fi
}

ensure_writer_venv() {
  # a venv of its own for a writer the tests need at versions .venv cannot hold (tests/writers.py)
  local venv="$CACHE/$1" want="$2"
  [ "$(cat "$venv/.zarrlite-deps" 2>/dev/null)" = "$want" ] && return 0
  log "creating .cache/$1 ($want)"
  "$(find_python312)" -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install -q --cache-dir "$CACHE/pip" $want
  echo "$want" > "$venv/.zarrlite-deps"
}

build_web() {
  [ -x web/build-web.sh ] || return 0
  PYTHON="$VENV/bin/python" CACHE="$CACHE" bash web/build-web.sh
  PYTHON="$VENV/bin/python" CACHE="$CACHE" bash web/build-lab.sh
}

build_all() {
  ensure_venv
  # zarr-python >= 3.2 writes rectilinear chunk grids (.venv pins 3.1); zarr-python 2.18 (numpy 1) writes
  # the v2 object and string fixtures
  ensure_writer_venv venv-zarr32 "zarr==3.4.2"
  ensure_writer_venv venv-zarr2 "zarr==2.18.7 numcodecs==0.15.1 numpy==1.26.4"
  build_web
}

case "${1:-build}" in
  build) build_all ;;
  test)
    ensure_apt
    build_all
    shift || true
    # The JS checks first (seconds): JSDoc types (tsconfig.json), then the node unit tests (tests/js/).
    node_modules/.bin/tsc -p tsconfig.json
    node --test tests/js/
    # pytest exits 5 when it collects nothing: set -e turns that into a failure too.
    # The browser tests run in their own process: Playwright's sync API keeps an event loop
    # marked as running on the main thread, which the CPython tests' asyncio.run() must not see.
    "$VENV/bin/python" -m pytest tests --ignore=tests/browser "$@"
    "$VENV/bin/python" -m pytest tests/browser "$@"
    ;;
  serve)
    build_all
    exec "$VENV/bin/zarrlite" view
    ;;
  fuzz)
    ensure_venv
    shift || true
    # The long fuzzing run (the seeded slice of it runs inside `./build.sh test`).
    ZARRLITE_FUZZ_CASES="${ZARRLITE_FUZZ_CASES:-10000}" exec "$VENV/bin/python" -m pytest tests/fuzz -q "$@"
    ;;
  bench)
    build_all
    shift || true
    "$VENV/bin/python" bench/run.py "$@"
    "$VENV/bin/python" bench/browser_bench.py    # browser start and reads vs zarrita.js and fizarrita
    "$VENV/bin/python" bench/requests_bench.py   # time and requests against a distant server (CPython, Chromium)
    bash bench/neuroglancer/build.sh              # the peer viewer (npm neuroglancer), bundled once
    "$VENV/bin/python" bench/viewer_bench.py     # the viewer: first image vs neuroglancer, panning, scrubbing
    exec "$VENV/bin/python" bench/dask_bench.py   # dask.distributed and xarray (its own cluster and views)
    ;;
  *) echo "usage: $0 [build|test|serve|bench|fuzz]" >&2; exit 2 ;;
esac
