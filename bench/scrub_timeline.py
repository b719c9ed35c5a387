"""Scrubbing (bench/viewer_bench.py, case "scrub"): 50 presses of "next plane" in 2.7 s, as a key held
down (its repeats, then its release) and as separate presses, each on a fresh page; timed from the last
press to the final plane drawn, with where that time goes (the final plane's reads, the worker's answer
time to a no-op call, the frames after the last press) and the chunk requests that reached the server. Every run's final frame
is checked against numpy's picture of the plane rested on (check_final): a fast frame of the wrong plane,
or of a coarser one, fails the run.
"""

from __future__ import annotations

import os
import statistics
from urllib.parse import parse_qs, urlsplit

import numpy as np
import zarr
from viewer_page import STAGE, wait_idle
from zarrlite.render import render_plane


SCRUB_JS = """async ({presses, seconds, held}) => {
  const stage = document.getElementById("stage"), app = window.viewer, zl = app.zl, loader = app.loader;
  const start = app.index.slice();
  // where the time goes after the last press: every read (plane, start, end, how it ended), the worker's
  // answer time to a no-op call (is its thread free?), each visible tile's arrival and each frame's cost
  const reads = [], pings = [], tiles = [], read = zl.read;
  zl.read = function (path, sel, options) {
    const r = { plane: Array.isArray(sel) ? sel[0] : null, t0: performance.now(), t1: null, how: null };
    reads.push(r);
    const p = read.call(this, path, sel, options);
    p.then(() => { r.t1 = performance.now(); r.how = "ok"; },
           e => { r.t1 = performance.now(); r.how = e?.name === "AbortError" ? "abort" : "error"; });
    return p;
  };
  // held: one key held down (its repeats, then its release half a repeat later); else separate presses
  const gap = seconds * 1000 / (presses - 1);
  for (let i = 0; i < presses; i++) {
    if (i) await new Promise(r => setTimeout(r, gap));
    stage.dispatchEvent(new KeyboardEvent("keydown", { key: "]", bubbles: true, repeat: held && i > 0 }));
  }
  const t0 = performance.now(), onLoad = loader.onLoad, frames = app.drawMs.length;
  if (held) setTimeout(() => stage.dispatchEvent(new KeyboardEvent("keyup", { key: "]", bubbles: true })), gap / 2);
  const at = { loading: loader.loading, aborting: loader.aborting, queued: loader.queued, prefetching: loader.prefetching };
  loader.onLoad = e => { tiles.push(performance.now() - t0); onLoad(e); };
  let pinging = true;
  (async () => { while (pinging) { const s = performance.now(); await zl.stats(); pings.push([s - t0, performance.now() - s]); await new Promise(r => setTimeout(r, 20)); } })();
  await new Promise(r => requestAnimationFrame(r));
  while (!app.idle()) await new Promise(r => setTimeout(r, 2));
  const ms = performance.now() - t0;
  pinging = false;
  loader.onLoad = onLoad;
  zl.read = read;
  const final = app.index[0];
  const rel = r => ({ plane: r.plane, start: r.t0 - t0, end: r.t1 === null ? null : r.t1 - t0, how: r.how });
  return { ms, from: start[0], to: final, aborts: loader.aborts ?? null, at_last_press: at,
           first_tile: tiles[0] ?? null, last_tile: tiles[tiles.length - 1] ?? null, tiles_after: tiles.length,
           final_reads: reads.filter(r => r.plane === final).map(rel),
           passed_reads_running: reads.filter(r => r.plane !== final && r.t0 < t0 && (r.t1 === null || r.t1 > t0)).map(rel),
           reads_started: reads.length, reads_aborted: reads.filter(r => r.how === "abort").length,
           pings, draw_ms_after: app.drawMs.slice(frames) };
}"""


FINAL_JS = """() => { const a = window.viewer, v = a.viewport, ch = a.image.channels.find(c => c.visible);
  return {z: a.index[0], window: ch.window, color: ch.color, invert: a.invert, zoom: v.zoom, cx: v.cx, cy: v.cy,
          w: v.width, h: v.height, dpr: devicePixelRatio}; }"""
PIXELS_JS = """pts => { const g = document.getElementById("canvas").getContext("2d");
  return pts.map(([x, y]) => Array.from(g.getImageData(x, y, 1, 1).data)); }"""


def check_final(page, srv, query, n=400, seed=0):
    """The final frame is the full-resolution plane rested on: `n` canvas pixels at the centres of data
    pixels in view against zarrlite.render of the stack's plane (numpy, the window and colour the page
    uses; the view is 1:1 or magnified, drawn nearest-neighbour). Raises AssertionError otherwise."""
    v = page.evaluate(FINAL_JS)
    source = parse_qs(urlsplit(query).query)["source"][0]
    plane = zarr.open_array(str(srv.data / source.removeprefix("/data/")), mode="r")[v["z"]]
    want = render_plane(plane, window=tuple(v["window"]), colormap=v["color"], invert=v["invert"])
    assert v["zoom"] >= 1, "the check needs one canvas pixel per data pixel or more"
    H, W = plane.shape
    rng = np.random.default_rng(seed)
    x0, x1 = max(0, int(v["cx"] - v["w"] / 2 / v["zoom"]) + 1), min(W, int(v["cx"] + v["w"] / 2 / v["zoom"]) - 1)
    y0, y1 = max(0, int(v["cy"] - v["h"] / 2 / v["zoom"]) + 1), min(H, int(v["cy"] + v["h"] / 2 / v["zoom"]) - 1)
    ys, xs = rng.integers(y0, y1, n), rng.integers(x0, x1, n)
    pts = [[int(((x + 0.5 - v["cx"]) * v["zoom"] + v["w"] / 2) * v["dpr"]), int(((y + 0.5 - v["cy"]) * v["zoom"] + v["h"] / 2) * v["dpr"])]
           for y, x in zip(ys.tolist(), xs.tolist())]
    got = page.evaluate(PIXELS_JS, pts)
    bad = [(y, x, g, want[y, x].tolist()) for y, x, g in zip(ys.tolist(), xs.tolist(), got) if g != want[y, x].tolist()]
    assert not bad, f"the final frame is not plane {v['z']}: {len(bad)} of {n} pixels differ, e.g. {bad[:3]}"
    return n


def bench_scrub(browser, srv, query, repeat=3):
    """`repeat` scrubs of each kind, alternating, each on a fresh page: a key held down (repeats, then
    its release) and separate presses. SCRUB_SETTLE=ms in the environment sets the tile loader's settle
    time before scrubbing (to tune it against the same build)."""
    runs = []
    settle = os.environ.get("SCRUB_SETTLE")
    for held in [True, False] * repeat:  # a fresh page each time: no tile of the planes passed is cached yet
        ctx = browser.new_context(viewport={"width": STAGE + 590, "height": STAGE + 40})
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{srv.url}/viewer/{query}")
        wait_idle(page)
        if settle:
            page.evaluate("ms => { window.viewer.loader.settle = ms; }", float(settle))
        srv.counters.reset()
        r = page.evaluate(SCRUB_JS, {"presses": 50, "seconds": 2.7, "held": held})
        r["checked_pixels"] = check_final(page, srv, query)
        by_plane = {}
        for path, _, status in list(srv.counters.requests):
            if "/c/" in path and status != "arrived":
                z = int(path.split("/c/")[1].split("/")[0])
                by_plane[z] = by_plane.get(z, 0) + 1
        runs.append({**r, "held": held, "load": os.getloadavg()[0], "chunk_requests": sum(by_plane.values()),
                     "requests_by_plane": by_plane})
        ctx.close()
    return runs


def print_scrub(runs, dist):
    """Per kind of scrub: the final plane's latency and the chunk requests (median, range), then where
    each run's time went (the final plane's reads: first start, last end; the worker's slowest answer
    to a no-op call; the page's frames after the last press)."""
    print(f"scrub 50 planes in 2.7 s ({dist}; every final frame is the plane rested on, "
          f"{min((r['checked_pixels'] for r in runs), default=0)} pixels checked against numpy):")
    for held in (True, False):
        rs = [r for r in runs if r["held"] == held]
        if not rs:
            continue
        ms, reqs = sorted(r["ms"] for r in rs), sorted(r["chunk_requests"] for r in rs)
        print(f"  {'a held key' if held else 'separate presses'}: final plane {statistics.median(ms):.0f} ms after the last "
              f"press (range {ms[0]:.0f}-{ms[-1]:.0f}), chunk requests {statistics.median(reqs):.0f} (range {reqs[0]}-{reqs[-1]}), "
              f"load {min(r['load'] for r in rs):.1f}-{max(r['load'] for r in rs):.1f}")
        for r in rs:
            f = [x for x in r["final_reads"] if x["how"] == "ok"]
            print(f"    {r['ms']:.0f} ms: final plane's {len(f)} reads from {min((x['start'] for x in f), default=0):.0f} to "
                  f"{max((x['end'] for x in f), default=0):.0f} ms, worker busy up to {max((p[1] for p in r['pings']), default=0):.0f} ms, "
                  f"{len(r['draw_ms_after'])} frames costing {sum(r['draw_ms_after']):.0f} ms; {r['reads_started']} reads started, "
                  f"{r['reads_aborted']} aborted; {r['chunk_requests']} chunk requests ({r['requests_by_plane'].get(r['to'], 0)} of the final plane)")
