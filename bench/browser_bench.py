"""zarrlite in the browser vs bare Pyodide and zarrita.js, in one headless Chromium run.

    .venv/bin/python bench/browser_bench.py [--planes 8] [--repeat 3]

Serves web/dist/ (cacheable, as a static host would) and the data on 127.0.0.1, then measures:
  - bare Pyodide start (`loadPyodide` from the page, fresh profile): the floor; and the same after a
    reload (warm floor). Twice: with Pyodide's files as npm ships them, and with the site's (whose
    standard library build-web.sh precompiles);
  - zarrlite cold start to first pixel (fresh profile: Pyodide + numpy + wheel + metadata + one
    2048x2048 plane rendered and drawn);
  - warm start (same profile, page reloaded: HTTP cache) to first pixel.
  Each start sample runs in its own on-disk profile, as a user's browser has: an incognito-like
  context keeps its HTTP cache in memory, where an entry may be at most 1/8 of a 50 MB cache, so the
  10 MB pyodide.asm.wasm would be fetched again on every "warm" start, and V8's WASM code cache is off;
  - slice reads (whole 2048x2048 uint16 planes and 1024x1024 boxes) in MB/s, zarrlite (worker, result
    transferred) vs zarrita.js (main thread), per codec: zstd, blosc-lz4, gzip (gzip: Pyodide's zlib
    vs fflate in zarrita — the codec choice of the browser back-end);
  - how busy those plane reads keep the page's threads, from V8's CPU profiler (samples not idle, per
    plane): the busiest thread (the one that caps throughput once there are cores to spare: zarrita's
    main thread; zarrlite's worker or a chunk worker) and all of them together (page and workers).
Prints one table.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "py"))
from server import start_server  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHAPE = (8, 2048, 2048)
CHUNKS = (1, 512, 512)


def write_data(root: Path, planes: int):
    import zarr
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:SHAPE[1], 0:SHAPE[2]]
    base = (1000 + 800 * np.sin(x / 97.0) * np.cos(y / 131.0)).astype(np.float32)
    data = np.stack([base + rng.normal(0, 40, base.shape).astype(np.float32) for _ in range(planes)])
    data = np.clip(data, 0, 65535).astype("<u2")
    codecs = {"zstd": ZstdCodec(level=3), "blosc-lz4": BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"),
              "gzip": GzipCodec(level=5)}
    for name, codec in codecs.items():
        a = zarr.create_array(str(root / f"{name}.zarr"), shape=(planes,) + SHAPE[1:], dtype="<u2",
                              chunks=CHUNKS, compressors=[codec], overwrite=True)
        a[...] = data
    return list(codecs)


BARE_JS = """async folder => {
  const indexURL = new URL(folder, location.href).href;
  const { loadPyodide } = await import(indexURL + "pyodide.mjs");
  await loadPyodide({ indexURL });
  return performance.now();
}"""

FIRST_PIXEL_JS = """async url => {
  const zl = await window.zarrlite;
  await zl.open(url);
  const img = await zl.render("", "0", { window: "auto" });
  const c = document.getElementById("canvas");
  c.width = img.width; c.height = img.height;
  c.getContext("2d").drawImage(img, 0, 0);
  return performance.now();
}"""

READS_JS = """async ({url, planes, repeat, box}) => {
  const zl = await window.zarrlite;
  const zarr = await import("./bench/zarrita.js");
  const sel = i => box ? [i, [512, 1536], [512, 1536]] : [i, null, null];
  const zsel = i => box ? [i, zarr.slice(512, 1536), zarr.slice(512, 1536)] : [i, null, null];
  const times = { zarrlite: [], zarrita: [] };
  await zl.open(url);
  const arr = await zarr.open(new zarr.FetchStore(url), { kind: "array" });
  let bytes = 0;
  for (let r = 0; r < repeat; r++) {
    let t0 = performance.now(); bytes = 0;
    for (let i = 0; i < planes; i++) bytes += (await zl.read("", sel(i))).data.byteLength;
    times.zarrlite.push(performance.now() - t0);
    t0 = performance.now();
    let zbytes = 0;
    for (let i = 0; i < planes; i++) zbytes += (await zarr.get(arr, zsel(i))).data.byteLength;
    times.zarrita.push(performance.now() - t0);
    if (zbytes !== bytes) throw new Error(`zarrita read ${zbytes} bytes, zarrlite ${bytes}`);
  }
  return { bytes, times };
}"""


# One reader, warmed up (every plane read once), then `window.go()` reads the planes `repeat` times.
CPU_SETUP_JS = """async ({url, which, planes, repeat}) => {
  const zarr = await import("./bench/zarrita.js");
  let read;
  if (which === "zarrlite") {
    const { Zarrlite } = await import("./zarrlite.js");
    const zl = await Zarrlite.create();
    await zl.open(url);
    read = i => zl.read("", [i, null, null]);
  } else {
    const arr = await zarr.open(new zarr.FetchStore(url), { kind: "array" });
    read = i => zarr.get(arr, [i, null, null]);
  }
  for (let i = 0; i < planes; i++) await read(i);
  await new Promise(r => setTimeout(r, 1000));  // chunk workers started, caches filled
  window.go = async () => { for (let r = 0; r < repeat; r++) for (let i = 0; i < planes; i++) await read(i); };
}"""


def thread_busy(trace: bytes) -> dict:
    """Busy time (ms) of each sampled JS thread in a Chrome trace with V8's CPU profiler on: the time of
    its samples that are not "(idle)" (native work in the thread, such as receiving fetched bytes,
    counts as busy)."""
    import json

    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    nodes, busy = {}, {}
    for e in events:
        if e.get("name") != "ProfileChunk":
            continue
        key = (e["pid"], e["id"])
        data = e["args"]["data"]
        profile = data.get("cpuProfile", {})
        for n in profile.get("nodes", []):
            nodes.setdefault(key, {})[n["id"]] = n["callFrame"]["functionName"]
        for node, delta in zip(profile.get("samples", []), data.get("timeDeltas", [])):
            if nodes.get(key, {}).get(node) != "(idle)":
                busy[key] = busy.get(key, 0) + delta / 1000
    return busy


def busy_per_plane(p, srv, url: str, which: str, planes: int, repeat: int) -> tuple[float, float]:
    """(busy ms per plane of the busiest page thread, of all page threads) while `which` reads."""
    browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
    try:
        page = browser.new_page()
        page.set_default_timeout(180_000)
        page.goto(srv.url + "/protocol.js")
        page.evaluate(CPU_SETUP_JS, {"url": url, "which": which, "planes": planes, "repeat": repeat})
        browser.start_tracing(page=page, categories=["disabled-by-default-v8.cpu_profiler"])
        page.evaluate("window.go()")
        busy = thread_busy(browser.stop_tracing())
    finally:
        browser.close()
    n = planes * repeat
    return max(busy.values()) / n, sum(busy.values()) / n


def stock_pyodide(out: Path) -> Path:
    """Pyodide exactly as the npm package ships it (the site precompiles its standard library): the
    honest floor."""
    import tarfile

    tgz = ROOT / ".cache" / "pyodide-0.27.7.tgz"
    out.mkdir(parents=True)
    with tarfile.open(tgz) as tar:
        for name in ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"):
            (out / name).write_bytes(tar.extractfile(f"package/{name}").read())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--planes", type=int, default=SHAPE[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--starts", type=int, default=3, help="cold/warm start samples")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    dist = ROOT / "web" / "dist"
    if not (dist / "pyodide" / "pyodide-lock.json").exists():
        sys.exit("web/dist/ is not built: run ./build.sh")
    tmp = Path(tempfile.mkdtemp(prefix="zarrlite-bench-"))
    try:
        print(f"writing {args.planes}x2048x2048 uint16 per codec ...", file=sys.stderr)
        codecs = write_data(tmp, args.planes)
        stock_pyodide(tmp / "stock-pyodide")
        srv = start_server(dist, tmp, cache="max-age=3600")
        rows = []
        with sync_playwright() as p:
            def fresh_page():
                # A new on-disk profile (see the module docstring). No request routing here:
                # Playwright turns the HTTP cache off when routing is on. Everything is on 127.0.0.1
                # (the tests check that nothing else is requested).
                ctx = p.chromium.launch_persistent_context(tempfile.mkdtemp(dir=tmp), headless=True,
                                                           executable_path=shutil.which("chromium"), args=FLAGS)
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                page.set_default_timeout(180_000)
                return ctx, page

            floors = {"npm": ("data/stock-pyodide/", [], []), "site": ("pyodide/", [], [])}
            for _ in range(args.starts):
                for folder, coldf, warmf in floors.values():
                    ctx, page = fresh_page()
                    page.goto(srv.url + "/protocol.js")  # any same-origin document: nothing else loads
                    coldf.append(page.evaluate(BARE_JS, folder))
                    page.reload()
                    warmf.append(page.evaluate(BARE_JS, folder))
                    ctx.close()
            cold, warm = [], []
            for _ in range(args.starts):
                ctx, page = fresh_page()
                page.goto(srv.url + "/index.html")
                cold.append(page.evaluate(FIRST_PIXEL_JS, f"{srv.url}/data/zstd.zarr"))
                page.reload()
                warm.append(page.evaluate(FIRST_PIXEL_JS, f"{srv.url}/data/zstd.zarr"))
                if _ == args.starts - 1:
                    reads = {}
                    for codec in codecs:
                        for box in (False, True):
                            reads[(codec, box)] = page.evaluate(READS_JS, {
                                "url": f"{srv.url}/data/{codec}.zarr", "planes": args.planes,
                                "repeat": args.repeat, "box": box})
                ctx.close()
            busy = {which: busy_per_plane(p, srv, f"{srv.url}/data/zstd.zarr", which, args.planes, args.repeat)
                   for which in ("zarrlite", "zarrita")}
        med = statistics.median
        print()
        print(f"{'measure':<44} {'zarrlite':>10} {'peer':>10} {'ratio':>7}")
        print("-" * 74)
        for which, (_, coldf, warmf) in floors.items():
            print(f"{f'bare loadPyodide, {which} files, cold, s':<44} {'':>10} {med(coldf) / 1000:>10.2f}")
            print(f"{f'bare loadPyodide, {which} files, warm, s':<44} {'':>10} {med(warmf) / 1000:>10.2f}")
        for which, (_, coldf, warmf) in floors.items():
            print(f"{f'cold start to first pixel vs {which} floor, s':<44} {med(cold) / 1000:>10.2f} "
                  f"{med(coldf) / 1000:>10.2f} {med(cold) / med(coldf):>6.2f}x")
            print(f"{f'warm start to first pixel vs {which} floor, s':<44} {med(warm) / 1000:>10.2f} "
                  f"{med(warmf) / 1000:>10.2f} {med(warm) / med(warmf):>6.2f}x")
        for (codec, box), r in reads.items():
            mb = r["bytes"] / 1e6
            zl, zr = mb / (min(r["times"]["zarrlite"]) / 1000), mb / (min(r["times"]["zarrita"]) / 1000)
            what = "1024x1024 boxes" if box else "2048x2048 planes"
            print(f"{f'{codec} {what}, MB/s (vs zarrita.js)':<44} {zl:>10.0f} {zr:>10.0f} {zl / zr:>6.2f}x")
        (zl_max, zl_all), (zr_max, zr_all) = busy["zarrlite"], busy["zarrita"]
        print(f"{'zstd planes: busiest thread busy per plane, ms':<44} {zl_max:>10.1f} {zr_max:>10.1f} "
              f"{zl_max / zr_max:>6.2f}x")
        print(f"{'zstd planes: all page threads busy per plane, ms':<44} {zl_all:>10.1f} {zr_all:>10.1f} "
              f"{zl_all / zr_all:>6.2f}x")
        print(f"\nstarts: {args.starts} samples each (median); reads: best of {args.repeat}, {args.planes} planes; "
              f"busy: V8 CPU-profiler samples not idle, {args.repeat} x {args.planes} planes")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
