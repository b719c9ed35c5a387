"""zarrlite in the browser vs bare Pyodide, zarrita.js and fizarrita, in one headless Chromium run.

    .venv/bin/python bench/browser_bench.py [--planes 8] [--repeat 3] [--starts 3] [--no-busy]
        [--only plain] [--old COPY_OF_AN_OLDER_WEB_DIST] [--no-fetch]

Serves web/dist/ (cacheable, as a static host would) and the data on 127.0.0.1 (only the bytes a range
asks for are read; the data are sent `Cache-Control: no-store`, so Chromium's HTTP cache never answers
a repeated read), then measures:
  - bare Pyodide start (`loadPyodide` from the page, fresh profile): the floor; and the same after a
    reload (warm floor). Twice: with Pyodide's files as npm ships them, and with the site's (whose
    standard library build-web.sh precompiles);
  - zarrlite cold start to first pixel (fresh profile: Pyodide + numpy + wheel + metadata + one
    2048x2048 plane rendered and drawn);
  - warm start (same profile, page reloaded: HTTP cache) to first pixel.
  Each start sample runs in its own on-disk profile, as a user's browser has: an incognito-like
  context keeps its HTTP cache in memory, where an entry may be at most 1/8 of a 50 MB cache, so the
  10 MB pyodide.asm.wasm would be fetched again on every "warm" start, and V8's WASM code cache is off;
  - slice reads in MB/s (uint16 values read per second): whole 2048x2048 planes and 1024x1024 boxes,
    one after the other, of plain Zarr v3 (512x512 chunks) and sharded Zarr v3 (a 2048x2048 shard per
    plane of 256x256 inner chunks), per codec: zstd, blosc-lz4, gzip. Readers: zarrlite (worker,
    result transferred), zarrita.js (main thread) and fizarrita (zarrita.js with its decoding on a
    worker pool of navigator.hardwareConcurrency workers); with --old, zarrlite from another build
    (before/after, interleaved). The ceiling of plain reads: the same chunks only fetched, from the page
    and from chunk workers (columns "fetch pg", "fetch cw"). Every timed repetition opens the array
    afresh (nothing read before is kept by any reader), the readers take turns in a rotating order, and
    every value each reader returns is checked against numpy's (a position-weighted digest per read): a
    reader that fails or returns wrong values is shown so in the table;
  - how busy plane reads keep the page's threads, from V8's CPU profiler (samples not idle, per
    plane): the busiest thread (the one that caps throughput once there are cores to spare: zarrita's
    main thread; zarrlite's worker or a chunk worker) and all of them together (page and workers).
Prints one table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "py"))
from server import start_server  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHAPE = (8, 2048, 2048)
LAYOUTS = {"plain": {"chunks": (1, 512, 512)}, "sharded": {"shards": (1, 2048, 2048), "chunks": (1, 256, 256)}}
BOX = (512, 1536)  # rows and columns of the boxes
READERS = ("zarrlite", "zarrita.js", "fizarrita")
OLD = "zarrlite@old"  # --old DIST: the same zarrlite reader from another build, in the same rotation
# The ceiling of plain reads: the same chunks fetched (not decoded, nothing returned) with the same
# concurrency as a reader, from the page (as zarrita.js) or from chunk workers (as zarrlite), bodies moved
# to the page. Not run on sharded cases (a shard's inner chunks are ranges: another request pattern).
FETCHERS = ("fetch: page", "fetch: chunk wkrs")


def write_data(root: Path, planes: int) -> tuple[np.ndarray, list[str]]:
    """The uint16 test volume, written by zarr-python as `<layout>-<codec>.zarr` for every layout and
    codec; returns it and the names."""
    import zarr
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:SHAPE[1], 0:SHAPE[2]]
    base = (1000 + 800 * np.sin(x / 97.0) * np.cos(y / 131.0)).astype(np.float32)
    data = np.stack([base + rng.normal(0, 40, base.shape).astype(np.float32) for _ in range(planes)])
    data = np.clip(data, 0, 65535).astype("<u2")
    codecs = {"zstd": ZstdCodec(level=3), "blosc-lz4": BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"),
              "gzip": GzipCodec(level=5)}
    names = []
    for layout, grid in LAYOUTS.items():
        for name, codec in codecs.items():
            a = zarr.create_array(str(root / f"{layout}-{name}.zarr"), shape=data.shape, dtype="<u2",
                                  compressors=[codec], overwrite=True, **grid)
            a[...] = data
            names.append(f"{layout}-{name}")
    return data, names


def digest(values: np.ndarray) -> int:
    """DIGEST_JS of the flattened values: sum of v[i] * ((i + 1) * 2654435761 mod 2**32), mod 2**32."""
    v = np.ascontiguousarray(values).ravel().astype(np.uint64)
    w = ((np.arange(1, v.size + 1, dtype=np.uint64) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF))
    return int(((v * w) & np.uint64(0xFFFFFFFF)).sum()) & 0xFFFFFFFF


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

# The digest of a read's values (see `digest`), outside the timed part.
DIGEST_JS = """d => { let h = 0; for (let i = 0; i < d.length; i++) h = (h + Math.imul(d[i], Math.imul(i + 1, 2654435761))) >>> 0;
                      return h; }"""

# How each reader opens an array afresh: `opener(url, box)` -> a function reading plane i (or its box).
OPENERS_JS = """async () => {
  const zl = await window.zarrlite;
  // another build, served under /data/old/ (--old)
  const oldZarrlite = async () => window.oldZarrlite ??= (await import("./data/old/zarrlite.js")).Zarrlite.create();
  // chunk workers as zarrlite starts them (worker.js: min(hardwareConcurrency, 4)), driven from the page
  const fetchWorkers = async () => window.fetchWorkers ??= import("./rpc.js").then(({ connect }) => Promise.all(
    Array.from({ length: Math.min(navigator.hardwareConcurrency || 2, 4) }, async () => {
      const c = connect(new Worker("./chunk-worker.js", { type: "module" }));
      await c.ready;
      return c;
    })));
  const empty = { data: new Uint16Array(0) };
  // the keys of plane i (or its box) in a plain array of 512x512 chunks (default chunk key encoding)
  const keys = (i, box) => {
    const [c0, c1] = box ? [Math.floor(lo / 512), Math.floor((hi - 1) / 512)] : [0, 3];
    const out = [];
    for (let y = c0; y <= c1; y++) for (let x = c0; x <= c1; x++) out.push(`c/${i}/${y}/${x}`);
    return out;
  };
  const zarr = await import("./bench/zarrita.js");
  const fiz = await import("./bench/fizarrita.js");
  const workerUrl = new URL("./bench/fizarrita-worker.js", location.href);
  const [lo, hi] = %s;
  return {
    zarrlite: async (url, box) => {
      await zl.open(url);
      return i => zl.read("", box ? [i, [lo, hi], [lo, hi]] : [i, null, null]);
    },
    "zarrita.js": async (url, box) => {
      const arr = await zarr.open(new zarr.FetchStore(url), { kind: "array" });
      return i => zarr.get(arr, box ? [i, zarr.slice(lo, hi), zarr.slice(lo, hi)] : [i, null, null]);
    },
    fizarrita: async (url, box) => {
      window.fizarritaPool ??= new fiz.WorkerPool(navigator.hardwareConcurrency || 2);
      const arr = await fiz.open(new fiz.FetchStore(url), { kind: "array" });
      const sel = i => box ? [i, fiz.slice(lo, hi), fiz.slice(lo, hi)] : [i, null, null];
      return i => fiz.getWorker(arr, sel(i), { pool: window.fizarritaPool, workerUrl });
    },
    "zarrlite@old": async (url, box) => {
      const old = await oldZarrlite();
      await old.open(url);
      return i => old.read("", box ? [i, [lo, hi], [lo, hi]] : [i, null, null]);
    },
    "fetch: page": async (url, box) => i => Promise.all(keys(i, box).map(async k => {
      const r = await fetch(`${url}/${k}`);
      if (!r.ok) throw new Error(`${k}: ${r.status}`);
      return (await r.arrayBuffer()).byteLength;
    })).then(() => empty),
    "fetch: chunk wkrs": async (url, box) => {
      const workers = await fetchWorkers();
      const idle = () => workers.reduce((a, b) => (b.pending() < a.pending() ? b : a));
      return i => Promise.all(keys(i, box).map(async k => {
        const [status, , body] = await idle().call("fetch", { url: `${url}/${k}`, range: null, ms: 60000, headers: null });
        if (status !== 200) throw new Error(`${k}: ${status}`);
        return body.byteLength;
      })).then(() => empty);
    },
  };
}""" % list(BOX)

# One case: every reader `repeat` times, in a rotating order, each time from a fresh open.
# -> {times: {reader: [ms]}, digests: {reader: [[digest per plane] per repetition]}, errors: {reader: text}}
READS_JS = """async ({url, planes, repeat, box, readers}) => {
  const openers = await (%s)();
  const digest = %s;
  const times = {}, digests = {}, errors = {};
  const within = p => {  // a reader that hangs fails its case instead of the whole run
    let timer;
    const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("no answer in 120 s")), 120000); });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  };
  for (let r = 0; r < repeat; r++) {
    const order = readers.slice(r %% readers.length).concat(readers.slice(0, r %% readers.length));
    for (const name of order) {
      if (errors[name]) continue;
      try {
        const read = await openers[name](url, box);
        const out = [];
        const t0 = performance.now();
        for (let i = 0; i < planes; i++) out.push((await within(read(i))).data);
        (times[name] ??= []).push(performance.now() - t0);
        (digests[name] ??= []).push(out.map(digest));
      } catch (err) {
        errors[name] = String((err && err.message) || err).slice(0, 120);
        // fizarrita's pool loses the worker of a failed task (a pool of 2 hangs after 2 failures)
        if (name === "fizarrita") {
          window.fizarritaPool.terminateWorkers();
          window.fizarritaPool = null;
        }
      }
    }
  }
  return { times, digests, errors };
}""" % (OPENERS_JS, DIGEST_JS)


# One reader, warmed up (every plane read once), then `window.go()` reads the planes `repeat` times,
# each time from a fresh open.
CPU_SETUP_JS = """async ({url, which, planes, repeat, box}) => {
  const openers = await (%s)();
  const read = await openers[which](url, box);
  for (let i = 0; i < planes; i++) await read(i);
  await new Promise(r => setTimeout(r, 1000));  // chunk workers started
  window.go = async () => {
    for (let r = 0; r < repeat; r++) {
      const read = await openers[which](url, box);
      for (let i = 0; i < planes; i++) await read(i);
    }
  };
}""" % OPENERS_JS


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


def busy_per_plane(p, srv, url: str, which: str, planes: int, repeat: int, box: bool) -> tuple[float, float]:
    """(busy ms per read of the busiest page thread, of all page threads) while `which` reads."""
    browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
    try:
        page = browser.new_page()
        page.set_default_timeout(180_000)
        page.goto(srv.url + "/index.html")
        page.evaluate(CPU_SETUP_JS, {"url": url, "which": which, "planes": planes, "repeat": repeat, "box": box})
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


def read_rows(page, srv, data: np.ndarray, names: list[str], planes: int, repeat: int,
              readers: tuple) -> list[tuple]:
    """(case, {reader: MB/s or the reason it has none}) per layout, codec and selection; the fetchers
    (FETCHERS) on plain cases only, their MB/s counted in decoded bytes as the readers'."""
    rows = []
    # untimed: every reader's first read (its workers start, its code warms up)
    page.evaluate(READS_JS, {"url": f"{srv.url}/data/{names[0]}.zarr", "planes": 2, "repeat": 1, "box": False,
                             "readers": list(readers)})
    for box in (False, True):
        sel = (slice(*BOX), slice(*BOX)) if box else (slice(None), slice(None))
        want = [digest(data[(i,) + sel]) for i in range(planes)]
        mb = planes * data[(0,) + sel].nbytes / 1e6
        for name in names:
            these = [r for r in readers if r not in FETCHERS or name.startswith("plain")]
            r = page.evaluate(READS_JS, {"url": f"{srv.url}/data/{name}.zarr", "planes": planes, "repeat": repeat,
                                         "box": box, "readers": these})
            speeds = {}
            for reader in these:
                if reader in r["errors"]:
                    speeds[reader] = f"fails: {r['errors'][reader]}"
                elif reader not in FETCHERS and any(d != want for d in r["digests"][reader]):
                    speeds[reader] = "wrong values"
                else:
                    speeds[reader] = mb / (min(r["times"][reader]) / 1000)
            rows.append((f"{name} {'1024² boxes' if box else '2048² planes'}", speeds))
            print(rows[-1], file=sys.stderr)
    return rows


def print_reads(rows: list[tuple], readers: tuple):
    """One column per reader, then zarrlite's ratios to zarrita.js and fizarrita (and @old's to zarrita.js,
    and the fetch ceilings' to zarrita.js: above 1.2 leaves room for 1.2x)."""
    ratios_of = [("zarrlite", "zarrita.js", "/zarrita"), ("zarrlite", "fizarrita", "/fizarr.")]
    ratios_of += [(r, "zarrita.js", f"{short}/zr") for r, short in ((OLD, "old"), (FETCHERS[0], "fpg"),
                                                                    (FETCHERS[1], "fcw")) if r in readers]
    heads = {"zarrita.js": "zarrita.js", OLD: "zl@old", FETCHERS[0]: "fetch pg", FETCHERS[1]: "fetch cw"}
    print(f"\n{'reads, MB/s (best of the repetitions)':<34}" + "".join(f"{heads.get(r, r):>10}" for r in readers)
          + " " + " ".join(f"{h:>8}" for _, _, h in ratios_of))
    print("-" * (35 + 10 * len(readers) + 9 * len(ratios_of)))
    problems = []
    for case, speeds in rows:
        cells = []
        for reader in readers:
            v = speeds.get(reader, "-")
            if v == "-":
                cells.append(f"{'-':>10}")
            elif isinstance(v, str):
                problems.append(f"{case}, {reader}: {v}")
                v = "wrong" if v == "wrong values" else "fails"
                cells.append(f"{v:>10}")
            else:
                cells.append(f"{v:>10.0f}")
        ratios = [f"{speeds[a] / speeds[b]:>7.2f}x" if isinstance(speeds.get(a), float)
                  and isinstance(speeds.get(b), float) else f"{'-':>8}" for a, b, _ in ratios_of]
        print(f"{case:<34}" + "".join(cells) + " " + " ".join(ratios))
    for p in problems:
        print(f"  {p}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--planes", type=int, default=SHAPE[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--starts", type=int, default=3, help="cold/warm start samples (0: none)")
    ap.add_argument("--no-busy", action="store_true", help="skip the CPU-profile rows")
    ap.add_argument("--old", type=Path, help="another built web/dist (a copy of an older build): its zarrlite "
                    "reads too, in the same rotation (column zl@old)")
    ap.add_argument("--only", default="", help="only the cases whose name contains this (e.g. plain)")
    ap.add_argument("--no-fetch", action="store_true", help="skip the fetch-only ceiling columns")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    dist = ROOT / "web" / "dist"
    if not (dist / "pyodide" / "pyodide-lock.json").exists() or not (dist / "bench" / "fizarrita.js").exists():
        sys.exit("web/dist/ is not built: run ./build.sh")
    tmp = Path(tempfile.mkdtemp(prefix="zarrlite-bench-"))
    try:
        print(f"writing {args.planes}x2048x2048 uint16 per layout and codec ...", file=sys.stderr)
        data, names = write_data(tmp, args.planes)
        names = [n for n in names if args.only in n]
        readers = READERS + ((OLD,) if args.old else ()) + (() if args.no_fetch else FETCHERS)
        if args.old:
            (tmp / "old").symlink_to(args.old.resolve())
        stock_pyodide(tmp / "stock-pyodide")
        # the site cacheable as a static host serves it; the data never (a repeated read must reach the server)
        srv = start_server(dist, tmp, cache="max-age=3600", data_cache="no-store")
        first = f"{srv.url}/data/plain-zstd.zarr"
        with sync_playwright() as p:
            def fresh_page():
                # A new on-disk profile (see the module docstring). No request routing here:
                # Playwright turns the HTTP cache off when routing is on. Everything is on 127.0.0.1
                # (the tests check that nothing else is requested).
                ctx = p.chromium.launch_persistent_context(tempfile.mkdtemp(dir=tmp), headless=True,
                                                           executable_path=shutil.which("chromium"), args=FLAGS)
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                page.set_default_timeout(300_000)
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
                cold.append(page.evaluate(FIRST_PIXEL_JS, first))
                page.reload()
                warm.append(page.evaluate(FIRST_PIXEL_JS, first))
                ctx.close()
            ctx, page = fresh_page()
            page.goto(srv.url + "/index.html")
            reads = read_rows(page, srv, data, names, args.planes, args.repeat, readers)
            ctx.close()
            busy = {}
            if not args.no_busy:
                for name, box in (("plain-zstd", False), ("sharded-zstd", True)):
                    for which in READERS[:2]:
                        busy[(name, box, which)] = busy_per_plane(p, srv, f"{srv.url}/data/{name}.zarr", which,
                                                                  args.planes, args.repeat, box)
        med = statistics.median
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        if args.starts:
            print(f"\n{'start':<44} {'zarrlite':>10} {'peer':>10} {'ratio':>7}")
            print("-" * 74)
            for which, (_, coldf, warmf) in floors.items():
                print(f"{f'bare loadPyodide, {which} files, cold, s':<44} {'':>10} {med(coldf) / 1000:>10.2f}")
                print(f"{f'bare loadPyodide, {which} files, warm, s':<44} {'':>10} {med(warmf) / 1000:>10.2f}")
            for which, (_, coldf, warmf) in floors.items():
                print(f"{f'cold start to first pixel vs {which} floor, s':<44} {med(cold) / 1000:>10.2f} "
                      f"{med(coldf) / 1000:>10.2f} {med(cold) / med(coldf):>6.2f}x")
                print(f"{f'warm start to first pixel vs {which} floor, s':<44} {med(warm) / 1000:>10.2f} "
                      f"{med(warmf) / 1000:>10.2f} {med(warm) / med(warmf):>6.2f}x")
        print_reads(reads, readers)
        if busy:
            print(f"\n{'busy per read, ms (vs zarrita.js)':<44} {'zarrlite':>10} {'zarrita.js':>10} {'ratio':>7}")
            print("-" * 74)
            for name, box in (("plain-zstd", False), ("sharded-zstd", True)):
                (zl_max, zl_all), (zr_max, zr_all) = busy[(name, box, "zarrlite")], busy[(name, box, "zarrita.js")]
                what = f"{name} {'boxes' if box else 'planes'}"
                print(f"{f'{what}: busiest thread':<44} {zl_max:>10.1f} {zr_max:>10.1f} {zl_max / zr_max:>6.2f}x")
                print(f"{f'{what}: all page threads':<44} {zl_all:>10.1f} {zr_all:>10.1f} {zl_all / zr_all:>6.2f}x")
        print(f"\nstarts: {args.starts} samples each (median); reads: best of {args.repeat} fresh opens, "
              f"{args.planes} reads; busy: V8 CPU-profiler samples not idle, {args.repeat} x {args.planes} reads")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
