# Sourced by web/build-web.sh and web/build-lab.sh: the repository root, the venv's Python, the download
# cache and the site folder, as absolute paths (both scripts also run on their own, outside build.sh).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CACHE="${CACHE:-$ROOT/.cache}"
case "$CACHE" in /*) ;; *) CACHE="$ROOT/$CACHE" ;; esac
case "$PYTHON" in /*) ;; */*) PYTHON="$ROOT/$PYTHON" ;; esac
DIST="$ROOT/web/dist"
