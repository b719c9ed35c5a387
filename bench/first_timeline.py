"""Where the viewer's first image goes (bench/viewer_bench.py, case "first"): one timeline per load on the
page's clock (ms since navigation) from the page's own timings, the zarrlite worker's start-up marks
(web/worker.js `zarrlite:*`) and the requests each worker made (their Resource Timing, shifted by the
worker's timeOrigin); and the floor no viewer on Pyodide can beat: a bare page that only loads Pyodide from
the site and imports numpy.
"""

from __future__ import annotations

import statistics
from pathlib import Path

ENTRIES_JS = """() => ({ origin: performance.timeOrigin,
  marks: performance.getEntriesByType("mark").map(m => [m.name, m.startTime]),
  res: performance.getEntriesByType("resource").map(r => [new URL(r.name).pathname, r.startTime, r.responseEnd]) })"""

METADATA = ("zarr.json", ".zattrs", ".zarray", ".zgroup", ".zmetadata", "attributes.json")

# The rows of the breakdown, in the order they happen (missing ones are left out of a run).
STEPS = [
    ("viewer.js runs (page modules loaded)", "page t0"),
    ("zarrlite worker created", "worker created"),
    ("pyodide.mjs imported", "zarrlite:pyodide.mjs"),
    ("loadPyodide done", "zarrlite:loadPyodide"),
    ("wheels unpacked (helper worker)", "zarrlite:unpacked"),
    ("wheels installed", "zarrlite:installed"),
    ("WASM codecs module", "zarrlite:codecs"),
    ("import numpy done", "zarrlite:numpy"),
    ("import zarrlite.webworker done", "zarrlite:zarrlite"),
    ("runtime ready (page)", "page runtime"),
    ("first metadata request", "metadata start"),
    ("first chunk request", "chunk start"),
    ("chunk workers created", "chunk workers"),
    ("first tile decoded (page)", "page firstTile"),
    ("first image drawn (page)", "page firstImage"),
]

FLOOR_HTML = """<!doctype html><meta charset="utf-8"><title>Pyodide floor</title>
<script type="module">
  // the floor of any viewer on Pyodide from this site: the runtime alone, then numpy (no zarrlite, no page)
  const indexURL = new URL("/pyodide/", location.href).href;
  const { loadPyodide } = await import(indexURL + "pyodide.mjs");
  const py = await loadPyodide({ indexURL, lockFileURL: indexURL + "pyodide-lock.json", checkAPIVersion: false });
  const loaded = performance.now();
  await py.loadPackage(["numpy"], { messageCallback: () => {} });
  py.pyimport("numpy");
  window.floor = { loadPyodide: loaded, numpy: performance.now() };
</script>"""


def write_floor_page(data_dir: Path) -> str:
    """The bare page, written into the served data folder (git-ignored); its path under /data/."""
    (data_dir / "pyodide-floor.html").write_text(FLOOR_HTML)
    return "/data/pyodide-floor.html"


def floor_load(ctx, url: str) -> dict:
    """ms since navigation to Pyodide loaded and to numpy imported, on a new page of `ctx`."""
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_function("() => window.floor", timeout=120_000, polling=20)
    r = page.evaluate("window.floor")
    page.close()
    return {"ms": r["numpy"], "loadPyodide_ms": r["loadPyodide"]}


def breakdown(page, source: str) -> dict:
    """The timeline of one zarrlite load once its first image is drawn (see STEPS)."""
    tm = page.evaluate("window.viewer.timings")
    own = page.evaluate(ENTRIES_JS)
    ev = {"page t0": tm["t0"]}
    for k in ("runtime", "firstTile", "firstImage"):
        if k in tm:
            ev[f"page {k}"] = tm["t0"] + tm[k]
    for worker in page.workers:
        try:
            e = worker.evaluate(ENTRIES_JS)
        except Exception:  # noqa: BLE001 - a worker that ended meanwhile
            continue
        shift = e["origin"] - own["origin"]
        path = worker.url.split("?")[0]
        if path.endswith("/worker.js"):
            ev["worker created"] = shift
            ev.update((name, shift + t) for name, t in e["marks"] if name.startswith("zarrlite:"))
        elif path.endswith("/chunk-worker.js"):
            ev["chunk workers"] = min(ev.get("chunk workers", shift), shift)
        for name, start, _ in e["res"]:
            if source not in name:
                continue
            key = "metadata start" if name.endswith(METADATA) else "chunk start"
            ev[key] = min(ev.get(key, shift + start), shift + start)
    return ev


def median_breakdown(runs: list[dict]) -> dict:
    keys = {k for r in runs for k in r}
    return {k: statistics.median(r[k] for r in runs if k in r) for k in keys}


def print_first(first: list[dict], near: float, repeat: int, dist) -> None:
    """The first-image table (zarrlite and the Pyodide floor against neuroglancer) and each dataset's
    breakdown (medians, ms since navigation)."""
    print(f"first image (first canvas frame {near:.0%} or less away from the final picture; median of {repeat}, "
          f"alternating; {dist}); floor: a bare page loading Pyodide from the site, then numpy")
    print("| dataset | zarrlite cold (runtime) | neuroglancer cold | ratio | floor cold (Pyodide only) "
          "| zarrlite warm (runtime) | neuroglancer warm | ratio | floor warm (Pyodide only) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in first:
        m, rt, fl = r["median_s"], r["zarrlite_runtime_s"], r["floor_s"]
        print(f"| {r['dataset']} | " + " | ".join(
            f"{m['zarrlite'][p]:.2f} s ({rt[p]:.2f} s) | {m['neuroglancer'][p]:.2f} s | "
            f"{m['zarrlite'][p] / m['neuroglancer'][p]:.2f}× | {fl[p]['numpy']:.2f} s ({fl[p]['loadPyodide']:.2f} s)"
            for p in ("cold", "warm")) + " |")
    for r in first:
        med = {p: median_breakdown([x["timeline"] for x in r["runs"]["zarrlite"][p]]) for p in ("cold", "warm")}
        print(f"\nwhere zarrlite's first image goes: {r['dataset']} (ms since navigation, medians)")
        print("| step | cold | warm |\n|---|---|---|")
        for label, key in STEPS:
            if key in med["cold"] or key in med["warm"]:
                print(f"| {label} | " + " | ".join(f"{med[p][key]:.0f}" if key in med[p] else "—"
                                                   for p in ("cold", "warm")) + " |")
