"""Where the viewer's first image goes (bench/viewer_bench.py, case "first"): one timeline per load on the
page's clock (ms since navigation) from the page's own timings, the zarrlite worker's start-up marks
(web/worker.js `zarrlite:*`) and the requests each worker made (their Resource Timing, shifted by the
worker's timeOrigin); and the floor no viewer on Pyodide can beat: a bare page that only loads Pyodide from
the site and imports numpy.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from pathlib import Path

ENTRIES_JS = """() => ({ origin: performance.timeOrigin,
  marks: performance.getEntriesByType("mark").map(m => [m.name, m.startTime]),
  res: performance.getEntriesByType("resource").map(r => [new URL(r.name).pathname, r.startTime, r.responseEnd]) })"""

METADATA = ("zarr.json", ".zattrs", ".zarray", ".zgroup", ".zmetadata", "attributes.json")

# The rows of the breakdown (printed in the order they happened; missing ones are left out of a run).
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


class RendererCPU:
    """CPU time (user + system, every thread, ended ones too) of each Chromium renderer process, sampled
    every 10 ms from /proc while a page loads (Linux), so the CPU a load took up to its first image can be
    read afterwards: less sensitive than wall time to the other processes of a shared machine. Renderer
    processes only: the zarrlite viewer and the floor do all their work there (neuroglancer's WebGL also
    runs in the GPU process, so it has no such number)."""

    TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

    def __init__(self):
        self.series: list[tuple[float, dict[int, float]]] = []   # (epoch ms, {pid: CPU ms})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _ours() -> list[int]:
        """The renderer processes this process started (through Playwright's driver and the browser), not
        those of other browsers on the machine."""
        parent, renderers = {}, []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"--type=renderer" in f.read():
                        renderers.append(int(pid))
            except OSError:       # ended meanwhile
                continue
        me, ours = os.getpid(), []
        for pid in renderers:
            up = parent.get(pid)
            while up and up != me:
                up = parent.get(up)
            if up == me:
                ours.append(pid)
        return ours

    def _run(self):
        pids, scanned = [], 0.0
        while not self._stop.is_set():
            now = time.time() * 1000
            if now - scanned > 100:      # new renderers are looked for every 100 ms, the CPU read every 10
                pids, scanned = self._ours(), now
            snap = {}
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                snap[pid] = (int(fields[11]) + int(fields[12])) * self.TICK_MS
            self.series.append((now, snap))
            self._stop.wait(0.01)

    def stop(self):
        self._stop.set()
        self._thread.join()

    def used(self, start_ms: float, end_ms: float) -> float | None:
        """CPU ms the busiest of our renderers used from epoch `start_ms` to `end_ms` (the page's own:
        one page loads at a time)."""
        def at(t):
            before = [snap for ts, snap in self.series if ts <= t]
            return before[-1] if before else {}
        a, b = at(start_ms), at(end_ms)
        used = [cpu - a.get(pid, 0.0) for pid, cpu in b.items()]
        return max(used) if used else None


def write_floor_page(data_dir: Path) -> str:
    """The bare page, written into the served data folder (git-ignored); its path under /data/."""
    (data_dir / "pyodide-floor.html").write_text(FLOOR_HTML)
    return "/data/pyodide-floor.html"


def floor_load(ctx, url: str) -> dict:
    """ms since navigation to Pyodide loaded and to numpy imported, on a new page of `ctx`."""
    cpu = RendererCPU()
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_function("() => window.floor", timeout=120_000, polling=20)
    r = page.evaluate("window.floor")
    origin = page.evaluate("performance.timeOrigin")
    cpu.stop()
    page.close()
    return {"ms": r["numpy"], "loadPyodide_ms": r["loadPyodide"], "cpu_ms": cpu.used(origin, origin + r["numpy"])}


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
        # in the order they happened (cold): the page's modules and the worker start in either order
        steps = sorted(STEPS, key=lambda s: med["cold"].get(s[1], med["warm"].get(s[1], 0)))
        for label, key in steps:
            if key in med["cold"] or key in med["warm"]:
                print(f"| {label} | " + " | ".join(f"{med[p][key]:.0f}" if key in med[p] else "—"
                                                   for p in ("cold", "warm")) + " |")
        cpu = {who: {p: [x["cpu_ms"] for x in r["runs"][who][p] if x.get("cpu_ms") is not None] for p in ("cold", "warm")}
               for who in ("zarrlite", "floor")}
        print("| renderer CPU to the first image, ms (floor: to numpy) | " + " | ".join(
            f"{statistics.median(cpu['zarrlite'][p]):.0f} (floor {statistics.median(cpu['floor'][p]):.0f})"
            if cpu["zarrlite"][p] and cpu["floor"][p] else "—" for p in ("cold", "warm")) + " |")
