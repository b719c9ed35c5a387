"""The viewer page in headless Chromium: time to first image (cold and warm HTTP cache), frames per
second while panning over cached tiles of a 2048² view, and time to refine after a zoom — on the bundled
sample and on a 4 GiB-equivalent sparse OME-Zarr 0.4 pyramid (Zarr v2, mostly unwritten chunks); and
scrubbing: 50 presses of "next plane" in 2.7 s over a 64 x 2048² zstd stack (512² chunks), as one key
held down (its repeats, then its release) and as separate presses, timed from the last press to the final
plane drawn, with the chunk requests that reached the server and where the time went.

    .venv/bin/python bench/viewer_bench.py [--out bench/results] [--dist web/dist] [--cases views,scrub]

`--dist` measures another build of the site (say, an earlier commit's) with this same script.

Needs web/dist/ built (./build.sh). The sparse pyramid is written once into bench/data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from server import start_server  # noqa: E402
from first_timeline import RendererCPU, breakdown, floor_load, print_first, write_floor_page  # noqa: E402
from scrub_timeline import bench_scrub, print_scrub  # noqa: E402
from viewer_page import IDLE, STAGE, wait_idle  # noqa: E402

DIST = ROOT / "web" / "dist"
DATA = ROOT / "bench" / "data"
SPARSE = DATA / "sparse-4gib.ome.zarr"
SPARSE_SHAPE = (32768, 65536)          # uint16: 4 GiB at level 0
SPARSE_REGION = (14336, 30720, 4096)   # y0, x0, size of the written square at level 0
STACK = DATA / "scrub-64x2048.zarr"
STACK_SHAPE, STACK_CHUNKS = (64, 2048, 2048), (1, 512, 512)
VOLUME = DATA / "volume-64x1024.ome.zarr"   # a served 3-D OME-Zarr 0.4 pyramid (Zarr v2), xy halved per level
VOLUME_SHAPE, VOLUME_CHUNKS = (64, 1024, 1024), (16, 256, 256)
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pattern(y, x):
    """Deterministic structure evaluated at level-0 coordinates: rings, a gradient and texture."""
    r = np.hypot(y - 16384.0, x - 32768.0)
    return (20000 + 12000 * np.sin(r / 90.0) + 6000 * np.cos(x / 37.0) * np.sin(y / 53.0) + 0.5 * (x - 30720)).clip(0, 65535)


def write_sparse():
    stamp = SPARSE / ".done"
    if stamp.exists():
        return
    import zarr
    from numcodecs import Blosc

    shutil.rmtree(SPARSE, ignore_errors=True)
    g = zarr.open_group(str(SPARSE), mode="w", zarr_format=2)
    y0, x0, n = SPARSE_REGION
    datasets, k = [], 0
    H, W = SPARSE_SHAPE
    while max(H, W) >= 512:
        f = 2 ** k
        a = g.create_array(str(k), shape=(H, W), dtype="<u2", chunks=(512, 512), fill_value=0,
                           compressors=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
        ys, xs = y0 // f, x0 // f
        m = max(n // f, 1)
        yy, xx = np.meshgrid(np.arange(ys, ys + m) * f, np.arange(xs, xs + m) * f, indexing="ij")
        a[ys:ys + m, xs:xs + m] = pattern(yy, xx).astype("<u2")
        datasets.append({"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": [0.2 * f, 0.2 * f]}]})
        H, W, k = math.ceil(H / 2), math.ceil(W / 2), k + 1
    g.attrs["multiscales"] = [{"version": "0.4", "name": "sparse 4 GiB", "axes": [
        {"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": datasets}]
    zarr.consolidate_metadata(str(SPARSE))
    stamp.write_text("1")


def write_stack():
    stamp = STACK / ".done"
    if stamp.exists():
        return
    import zarr
    from zarr.codecs import ZstdCodec

    shutil.rmtree(STACK, ignore_errors=True)
    a = zarr.create_array(str(STACK), shape=STACK_SHAPE, dtype="<u2", chunks=STACK_CHUNKS,
                          compressors=[ZstdCodec(level=3)], dimension_names=["z", "y", "x"])
    yy, xx = np.meshgrid(np.arange(STACK_SHAPE[1]), np.arange(STACK_SHAPE[2]), indexing="ij")
    for z in range(STACK_SHAPE[0]):
        a[z] = (pattern(yy * 8.0, xx * 8.0 + z * 50.0)).astype("<u2")
    stamp.write_text("1")


def write_volume():
    stamp = VOLUME / ".done"
    if stamp.exists():
        return
    import zarr
    from numcodecs import Blosc

    shutil.rmtree(VOLUME, ignore_errors=True)
    g = zarr.open_group(str(VOLUME), mode="w", zarr_format=2)
    Z, H, W = VOLUME_SHAPE
    datasets = []
    for k in range(3):
        f = 2 ** k
        a = g.create_array(str(k), shape=(Z, H // f, W // f), dtype="<u2", chunks=VOLUME_CHUNKS, fill_value=0,
                           compressors=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
        yy, xx = np.meshgrid(np.arange(H // f) * f, np.arange(W // f) * f, indexing="ij")
        for z in range(Z):
            a[z] = pattern(yy * 16.0, xx * 32.0 + z * 200.0).astype("<u2")
        datasets.append({"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": [1.0, 0.5 * f, 0.5 * f]}]})
    g.attrs["multiscales"] = [{"version": "0.4", "name": "volume 64 x 1024²", "axes": [
        {"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"], "datasets": datasets}]
    zarr.consolidate_metadata(str(VOLUME))
    stamp.write_text("1")


FRAMES_INIT = """(() => {   // every page: the largest canvas sampled at each animation frame, 64 x 64, from navigation start
  const get = HTMLCanvasElement.prototype.getContext;   // WebGL canvases keep their picture for reading
  HTMLCanvasElement.prototype.getContext = function (kind, opts) {
    return get.call(this, kind, kind.startsWith("webgl") ? { ...(opts || {}), preserveDrawingBuffer: true } : opts);
  };
  const frames = window.__frames = [];
  let probe = null, last = null;
  const tick = () => {
    const cs = [...document.querySelectorAll("canvas")].filter(c => c.width * c.height > 4096);
    const c = cs.sort((a, b) => b.width * b.height - a.width * a.height)[0];
    if (c) {
      probe ??= Object.assign(document.createElement("canvas"), { width: 64, height: 64 });
      const g = probe.getContext("2d", { willReadFrequently: true });
      g.clearRect(0, 0, 64, 64);
      g.drawImage(c, 0, 0, 64, 64);
      const px = g.getImageData(0, 0, 64, 64).data;
      const sig = new Uint8Array(64 * 64 * 3);
      for (let i = 0, j = 0; i < px.length; i += 4) { sig[j++] = px[i]; sig[j++] = px[i + 1]; sig[j++] = px[i + 2]; }
      if (!last || sig.some((v, i) => v !== last[i])) { frames.push({ t: performance.now(), sig }); last = sig; }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""

# the first frame near the last one: within NEAR of the way from the first frame drawn to the last (mean |Δ| of
# 64 x 64 RGB, at least 1 level of 255), so a dark picture and a bright one are judged alike
FIRST_NEAR_JS = """near => {
  const f = window.__frames, last = f[f.length - 1].sig;
  const diff = s => s.reduce((a, v, i) => a + Math.abs(v - last[i]), 0) / s.length;
  const tol = Math.max(1, near * diff(f[0].sig));
  const hit = f.find(x => diff(x.sig) <= tol);
  return { ms: hit.t, frames: f.length, lastChange: f[f.length - 1].t, travel: diff(f[0].sig) };
}"""

NEAR = 0.05            # "within a small distance of the final picture" (see FIRST_NEAR_JS)
PEER_IDLE = "() => window.viewer && window.viewer.isReady && window.viewer.layerManager.managedLayers.length > 0 && window.viewer.isReady()"
QUIET_MS = 1500         # and no canvas change for this long: the final picture
FIRST_STAGE = 1024      # the view of the first-image comparison: about 1024 x 1024 CSS pixels in both viewers
NG_FLAGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]   # WebGL without a GPU (neuroglancer)


def settle(page, idle):
    page.wait_for_function(idle, timeout=120_000, polling=50)
    page.wait_for_function(f"() => ({idle})() && window.__frames.length > 0 && "
                           f"performance.now() - window.__frames[window.__frames.length - 1].t > {QUIET_MS}",
                           timeout=120_000, polling=100)
    return page.evaluate(FIRST_NEAR_JS, NEAR)


def zarrlite_view(page):
    """The zarrlite viewer's view once drawn: what neuroglancer is then asked to show."""
    return page.evaluate("""() => { const a = window.viewer, v = a.viewport;
      return { zoom: v.zoom, cx: v.cx, cy: v.cy, index: a.index, axes: a.image.axes.map(x => x.name),
               kinds: a.image.axes.map(x => x.type ?? ""), yDim: a.image.yDim, xDim: a.image.xDim, cDim: a.image.cDim }; }""")


UNIT_M = {"nanometer": 1e-9, "micrometer": 1e-6, "millimeter": 1e-3, "meter": 1.0}


def ome_dimensions(root):
    """Level 0's voxel size per spatial axis, from the OME-Zarr metadata on disk (0.4 or 0.5)."""
    meta = root / "zarr.json"
    attrs = json.loads(meta.read_text())["attributes"]["ome"] if meta.exists() else json.loads((root / ".zattrs").read_text())
    ms = attrs["multiscales"][0]
    scale = next(t["scale"] for t in ms["datasets"][0]["coordinateTransformations"] if t["type"] == "scale")
    return {a["name"]: [s * UNIT_M.get(a.get("unit"), 1.0), "m"] for a, s in zip(ms["axes"], scale) if a.get("type") == "space"}


def neuroglancer_url(srv, dist, source, view):
    """The same data, plane, centre and scale in neuroglancer's xy panel (its state in the URL fragment)."""
    root = dist / source.removeprefix("/") if not source.startswith("/data/") else DATA / source.removeprefix("/data/")
    dims = ome_dimensions(root)
    pos = [view["cy"] if n == view["axes"][view["yDim"]] else view["cx"] if n == view["axes"][view["xDim"]]
           else view["index"][view["axes"].index(n)] + 0.5 for n in dims]
    state = {"dimensions": dims, "position": pos, "crossSectionScale": 1 / view["zoom"],
             "displayDimensions": ["x", "y"] + [n for n in dims if n not in ("x", "y")][:1], "layout": "xy",
             "layers": [{"type": "image", "source": f"zarr://{srv.url}{source}", "name": "image"}]}
    return f"{srv.url}/bench/neuroglancer/#!" + json.dumps(state, separators=(",", ":"))


def one_load(ctx, url, idle, source=None):
    cpu = RendererCPU() if source and idle == IDLE else None
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    r = settle(page, idle)
    if idle == IDLE:
        r["runtime_ms"] = page.evaluate("window.viewer.timings.runtime")
        if source:
            r["timeline"] = breakdown(page, source)
    if cpu:
        cpu.stop()
        origin = page.evaluate("performance.timeOrigin")
        r["cpu_ms"] = cpu.used(origin, origin + r["ms"])
    return page, r


def bench_first_images(browser, srv, dist, label, query, source, repeat):
    """First image in zarrlite and in neuroglancer, and the Pyodide floor (first_timeline.py), in turn, each cold
    (a fresh profile) then warm (the same profile's HTTP cache, a new page): the first canvas frame near the
    final picture, from navigation start; zarrlite's loads with their timelines."""
    zl_size = {"width": FIRST_STAGE + 590, "height": FIRST_STAGE + 40}    # the stage beside the side panel
    ng_size = {"width": FIRST_STAGE, "height": FIRST_STAGE + 40}
    ctx = browser.new_context(viewport=zl_size)
    ctx.add_init_script(FRAMES_INIT)
    page, _ = one_load(ctx, f"{srv.url}/viewer/{query}", IDLE)          # untimed: the view to match
    view = zarrlite_view(page)
    ctx.close()
    urls = {"zarrlite": (f"{srv.url}/viewer/{query}", IDLE, zl_size), "neuroglancer": (neuroglancer_url(srv, dist, source, view), PEER_IDLE, ng_size)}
    runs = {k: {"cold": [], "warm": []} for k in [*urls, "floor"]}
    floor_url = srv.url + write_floor_page(DATA)
    for i in range(repeat):
        order = ["zarrlite", "neuroglancer", "floor"]
        for name in order[i % 3:] + order[:i % 3]:
            ctx = browser.new_context(viewport=zl_size if name == "floor" else urls[name][2])
            ctx.add_init_script(FRAMES_INIT)
            for profile in ("cold", "warm"):
                if name == "floor":
                    runs[name][profile].append(floor_load(ctx, floor_url))
                    continue
                url, idle, _ = urls[name]
                print(f"first image: {label.split(':')[0]}, {name}, {profile}, run {i + 1}", file=sys.stderr)
                page, r = one_load(ctx, url, idle, source if name == "zarrlite" else None)
                runs[name][profile].append(r)
                page.close()
            ctx.close()
    med = {n: {p: statistics.median(r["ms"] for r in runs[n][p]) / 1000 for p in ("cold", "warm")} for n in urls}
    rt = {p: statistics.median(r["runtime_ms"] for r in runs["zarrlite"][p]) / 1000 for p in ("cold", "warm")}
    floor = {p: {"numpy": statistics.median(r["ms"] for r in runs["floor"][p]) / 1000,
                 "loadPyodide": statistics.median(r["loadPyodide_ms"] for r in runs["floor"][p]) / 1000}
             for p in ("cold", "warm")}
    return {"dataset": label, "view": view, "median_s": med, "zarrlite_runtime_s": rt, "floor_s": floor, "runs": runs}


def first_image(page, url):
    t = time.perf_counter()
    page.goto(url)
    wait_idle(page)
    wall = time.perf_counter() - t
    tm = page.evaluate("window.viewer.timings")
    return {"wall_s": round(wall, 3), "runtime_s": round(tm["runtime"] / 1000, 3),
            "first_image_s": round(tm["firstImage"] / 1000, 3)}


PAN_JS = """async ({seconds, dx, dy}) => {
  const v = window.viewer.viewport, app = window.viewer;
  const loads = app.loader.loads;
  app.drawMs.length = 0;
  let frames = 0, dir = 1;
  const t0 = performance.now();
  await new Promise(done => {
    const step = () => {
      v.panBy(dir * dx, dir * dy);
      frames++;
      if (frames % 40 === 0) dir = -dir;       // back and forth over the same (cached) area
      if (performance.now() - t0 < seconds * 1000) requestAnimationFrame(step); else done();
    };
    requestAnimationFrame(step);
  });
  const secs = (performance.now() - t0) / 1000;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const ms = [...app.drawMs].sort((a, b) => a - b);
  return {fps: frames / secs, draw_ms_median: ms[ms.length >> 1], draw_ms_p95: ms[Math.floor(ms.length * 0.95)],
          new_loads: app.loader.loads - loads};
}"""

RAF_JS = """() => new Promise(done => {     // the browser's own frame rate here (headless, no GPU)
  let n = 0; const t0 = performance.now();
  const f = () => { n++; if (performance.now() - t0 < 1000) requestAnimationFrame(f); else done(n / ((performance.now() - t0) / 1000)); };
  requestAnimationFrame(f);
})"""

CANVAS_JS = """() => new Promise(done => {  // ceiling for any 2-D canvas viewer here: one full-view blit per frame
  const c = document.getElementById("canvas"), g = c.getContext("2d");
  const src = document.createElement("canvas"); src.width = c.width; src.height = c.height;
  src.getContext("2d").fillRect(0, 0, 10, 10);
  let n = 0; const t0 = performance.now();
  const f = () => { n++; g.drawImage(src, (n % 7), 0); if (performance.now() - t0 < 1000) requestAnimationFrame(f); else done(n / ((performance.now() - t0) / 1000)); };
  requestAnimationFrame(f);
})"""

ZOOM_JS = """async factor => {
  const app = window.viewer, v = app.viewport;
  const t0 = performance.now();
  v.zoomAt(factor);
  await new Promise(r => requestAnimationFrame(r));
  while (!(app.idle())) await new Promise(r => setTimeout(r, 5));
  return performance.now() - t0;
}"""


def bench_dataset(browser, srv, query, label, zoom_to, refine_points):
    out = {"dataset": label}
    ctx = browser.new_context(viewport={"width": STAGE + 590, "height": STAGE + 40})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    out["cold"] = first_image(page, f"{srv.url}/viewer/{query}")
    out["warm"] = first_image(page, f"{srv.url}/viewer/{query}")      # same context: HTTP cache
    stage = page.evaluate("[window.viewer.viewport.width, window.viewer.viewport.height]")
    out["view_px"] = stage
    # refine: from a view at half the zoom (the next coarser level) zoom x2 onto places not yet seen
    refine = []
    for i, (px, py) in enumerate(refine_points):
        page.evaluate(f"() => {{ const v = window.viewer.viewport; v.zoom = {zoom_to / 2}; v.cx = {px}; v.cy = {py}; v.onChange(); }}")
        wait_idle(page)
        refine.append(page.evaluate(ZOOM_JS, 2.0))
    out["refine_after_zoom_ms"] = [round(r) for r in refine]
    # load the view at a zoom, then pan over it (tiles cached after the first pass)
    page.evaluate(f"() => {{ const v = window.viewer.viewport; v.zoom = {zoom_to}; v.onChange(); }}")
    wait_idle(page)
    page.evaluate(PAN_JS, {"seconds": 1.0, "dx": 6, "dy": 3})         # warm-up pass loads the margins
    wait_idle(page)
    out["pan"] = {k: round(v, 2) for k, v in page.evaluate(PAN_JS, {"seconds": 3.0, "dx": 6, "dy": 3}).items()}
    out["raf_ceiling_fps"] = round(page.evaluate(RAF_JS), 1)
    out["blit_ceiling_fps"] = round(page.evaluate(CANVAS_JS), 1)
    out["tiles_cached"] = page.evaluate("[...window.viewer.loader.entries.values()].filter(e => e.state === 'ready').length")
    ctx.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--dist", default=str(DIST), help="the built site to measure (default: web/dist)")
    ap.add_argument("--cases", default="first,views,scrub")
    ap.add_argument("--repeat", type=int, default=5, help="first images: loads per viewer and profile (median)")
    args = ap.parse_args()
    dist, cases = Path(args.dist), args.cases.split(",")
    if not (dist / "viewer" / "index.html").exists():
        sys.exit(f"{dist}/viewer is not built: run ./build.sh")
    t = time.perf_counter()
    write_sparse()
    if "first" in cases:
        write_volume()
        if not (dist / "bench" / "neuroglancer" / "app" / "main.js").exists():
            sys.exit(f"{dist}/bench/neuroglancer is not built: run bench/neuroglancer/build.sh (./build.sh bench does)")
    if "scrub" in cases:
        write_stack()
    print(f"data ready in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    from playwright.sync_api import sync_playwright

    srv = start_server(dist, DATA, cache="max-age=3600")
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    results, scrub, first = [], None, []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS + (NG_FLAGS if "first" in cases else []))
        if "first" in cases:
            for label, query, source in [
                    ("sample cells.ome.zarr (2 ch x 9 z x 512², OME-Zarr 0.5 sharded)", "?source=../sample/cells.ome.zarr", "/sample/cells.ome.zarr"),
                    ("served 2-D: sparse 4 GiB OME-Zarr 0.4", f"?source=/data/{SPARSE.name}&zoom=0.5&x=32768&y=16384", f"/data/{SPARSE.name}"),
                    ("served 3-D: 64 x 1024² OME-Zarr 0.4", f"?source=/data/{VOLUME.name}&d.z=32", f"/data/{VOLUME.name}")]:
                first.append(bench_first_images(browser, srv, dist, label, query, source, args.repeat))
        if "views" in cases:
            results.append(bench_dataset(browser, srv, "?source=../sample/cells.ome.zarr", "sample cells.ome.zarr (512², 2 ch)", 4.0,
                                         [(128, 128), (384, 128), (256, 384)]))
            results.append(bench_dataset(browser, srv, f"?source=/data/{SPARSE.name}&zoom=0.5&x=32768&y=16384",
                                         "sparse 4 GiB OME-Zarr 0.4 (32768×65536 u2)", 1.0,
                                         [(31744, 15360), (33792, 17408), (31744, 17408)]))
        if "scrub" in cases:
            scrub = bench_scrub(browser, srv, f"?source=/data/{STACK.name}&d.z=0&zoom=1&x=1024&y=1024")
        browser.close()
    srv.httpd.shutdown()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "viewer_bench.json").write_text(json.dumps({"first_image": first, "views": results, "scrub": scrub}, indent=1))
    if first:
        print_first(first, NEAR, args.repeat, dist)
    if scrub:
        print_scrub(scrub, dist)
    print("| dataset | cold: runtime / first image | warm: first image | pan fps (draw ms median/p95) | browser ceiling: rAF / one full-view blit | new reads while panning | refine after zoom x2 (new tiles) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['dataset']} | {r['cold']['runtime_s']:.2f} s / {r['cold']['first_image_s']:.2f} s | "
              f"{r['warm']['first_image_s']:.2f} s | {r['pan']['fps']:.0f} ({r['pan']['draw_ms_median']:.2f}/{r['pan']['draw_ms_p95']:.2f}) | "
              f"{r['raf_ceiling_fps']:.0f} / {r['blit_ceiling_fps']:.0f} fps | {int(r['pan']['new_loads'])} | {', '.join(f'{m} ms' for m in r['refine_after_zoom_ms'])} |")


if __name__ == "__main__":
    main()
