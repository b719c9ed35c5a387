"""The Chromium half of bench/requests_bench.py: zarrlite (its worker and chunk workers) vs zarrita.js
on the page, with and without `withRangeCoalescing`, against the same latency-adding S3 server.

The page comes from web/dist/ (another origin than the data: every read is cross-origin, as from a
bucket); start-up is not timed (bench/browser_bench.py measures it). Each case starts from a new
store (zarrlite: `zl.open` again; zarrita: a new FetchStore) and returns the sum of what it read,
which is checked against numpy's.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from server import start_server  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
READERS = ("zarrlite", "zarrita.js", "zarrita.js+withRangeCoalescing")

# One case in the page: {reader, url, name (null: open the hierarchy), sels}. -> {ms, sum}
CASE_JS = """async ({reader, url, name, sels}) => {
  const zarr = await import("./bench/zarrita.js");
  const zl = await window.zarrlite;
  const total = arrays => arrays.reduce((s, a) => { let t = 0; for (const v of a) t += Number(v); return s + t; }, 0);
  const t0 = performance.now();
  let sum = 0;
  if (reader === "zarrlite") {
    if (name === null) {
      await zl.open(url);
    } else {
      await zl.open(`${url}/${name}`);
      sum = total((await Promise.all(sels.map(s => zl.read("", s)))).map(r => r.data));
    }
  } else {
    const fetchStore = path => {
      const store = new zarr.FetchStore(path);
      return reader.endsWith("withRangeCoalescing") ? zarr.withRangeCoalescing(store) : store;
    };
    const zsel = s => s.map(d => d === null ? null : Array.isArray(d) ? zarr.slice(d[0], d[1]) : d);
    if (name === null) {  // zarrita lists a hierarchy through its consolidated metadata
      const store = await zarr.withConsolidatedMetadata(fetchStore(url));
      const root = zarr.root(store);
      await Promise.all(store.contents().map(({path, kind}) => zarr.open(root.resolve(path), {kind})));
    } else {
      const arr = await zarr.open(fetchStore(`${url}/${name}`), {kind: "array"});
      sum = total((await Promise.all(sels.map(s => zarr.get(arr, zsel(s))))).map(r => r.data));
    }
  }
  return {ms: performance.now() - t0, sum};
}"""


def _js_selection(sel) -> list:
    return [None if s == slice(None) else [s.start, s.stop] if isinstance(s, slice) else s for s in sel]


def browser_rows(server, url, data, latency, selections, arrays, cases) -> list[dict]:
    from playwright.sync_api import sync_playwright

    dist = ROOT / "web" / "dist"
    if not (dist / "bench" / "zarrita.js").exists():
        sys.exit("web/dist/ is not built: run ./build.sh")
    rows = []
    with tempfile.TemporaryDirectory() as empty, sync_playwright() as p:
        site = start_server(dist, empty)
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(300_000)
            page.goto(site.url + "/index.html")
            page.evaluate("async () => { await window.zarrlite; }")
            work = [(None, None)] + [(name, case) for name in arrays for case in cases]
            for reader in READERS:
                page.evaluate(CASE_JS, {"reader": reader, "url": url, "name": "labels/cells",
                                        "sels": [[[0, 1], [0, 1]]]})  # untimed: module imports, workers
                for name, case in work:
                    sels = [] if name is None else selections(case)
                    server.clear_log()
                    r = page.evaluate(CASE_JS, {"reader": reader, "url": url, "name": name,
                                                "sels": [_js_selection(s) for s in sels]})
                    want = sum(int(np.asarray(data[s], dtype=np.int64).sum()) for s in sels)
                    if r["sum"] != want:
                        raise SystemExit(f"{reader} {name} {case}: read values summing to {r['sum']}, not {want}")
                    log = server.log
                    rows.append({"latency_ms": latency, "case": "open" if name is None else f"{case} {name}",
                                 "reader": reader, "s": r["ms"] / 1000, "requests": len(log),
                                 "404": sum(e.status == 404 for e in log), "head": sum(e.method == "HEAD" for e in log),
                                 "options": sum(e.method == "OPTIONS" for e in log),
                                 "bytes": sum(e.nbytes for e in log)})
        finally:
            browser.close()
            site.httpd.shutdown()
    return rows
