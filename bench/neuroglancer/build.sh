#!/usr/bin/env bash
# The peer viewer of bench/viewer_bench.py: neuroglancer from npm (pinned in package.json and
# package-lock.json), bundled into web/dist/bench/neuroglancer/. Run by `./build.sh bench`; skipped when
# nothing it depends on changed. Install scripts are not run (none is needed for the browser bundle).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/web/dist/bench/neuroglancer"
cd "$HERE"
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ "$(cat node_modules/.zarrlite-deps 2>/dev/null)" != "$want" ]; then
  echo "[bench] npm ci (neuroglancer)" >&2
  npm ci --ignore-scripts --no-audit --no-fund --cache "$ROOT/.cache/npm" >/dev/null
  echo "$want" > node_modules/.zarrlite-deps
fi
h="$(cat package.json package-lock.json entry.js index.html build.mjs "$ROOT/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ ! -s "$OUT/app/main.js" ] || [ "$(cat "$OUT/.built" 2>/dev/null)" != "$h" ]; then
  echo "[bench] esbuild neuroglancer -> web/dist/bench/neuroglancer" >&2
  rm -rf "$OUT"
  node build.mjs "$OUT"
  echo "$h" > "$OUT/.built"
fi
