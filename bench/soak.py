"""Soak: does memory stay flat over many reads and renders in the browser? One headless Chromium run.

    .venv/bin/python bench/soak.py [--reads 2000] [--renders 500] [--every 100] [--chunk-workers N]

Writes a 3-D uint16 array (zstd, 16 chunks of 256x256 per 1024x1024 plane; a seeded smooth image with
noise) into a temporary folder, serves it and web/dist/ on 127.0.0.1 (tests/browser/server.py), opens
it with zarrlite in one page, then reads whole planes (`z,:,:`, z cycling) and renders them (`window:
"auto"`, viridis), the renders spread evenly among the reads. Every `--every` reads it records:
  - the JS heap of the page and of the zarrlite worker (CDP Runtime.getHeapUsage, used), and the bytes
    of ArrayBuffers each holds (`backingStorageSize`: results arrive as transferred buffers);
  - the zarrlite worker's WASM memory (`zl.stats().wasmBytes`: Pyodide's heap, which grows and never
    shrinks, so a leak in Python or numpy shows here);
  - the renderer process's resident memory (VmRSS in /proc of the largest renderer that CDP
    SystemInfo.getProcessInfo names: the page and every worker of it live there);
  - the time of the last batch per read.
Prints the table and writes it as JSON to bench/results/soak-<time>.json. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from server import start_server  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHAPE = (16, 1024, 1024)
CHUNKS = (1, 256, 256)

START_JS = """async ({url, chunkWorkers}) => {
  const { Zarrlite } = await import("./zarrlite.js");
  window.zl = await Zarrlite.create(chunkWorkers === null ? {} : { chunkWorkers });
  await zl.open(url);
}"""

# One batch: `reads` plane reads with `renders` renders spread among them; values are checked against
# the plane's known sum so a wrong read cannot pass for a fast one.
BATCH_JS = """async ({start, reads, renders, planes, sums}) => {
  const every = renders ? reads / renders : Infinity;
  let rendered = 0;
  for (let i = 0; i < reads; i++) {
    const z = (start + i) % planes;
    const { data } = await zl.read("", `${z},:,:`);
    let sum = 0;
    for (let k = 0; k < data.length; k++) sum += data[k];
    if (sum !== sums[z]) throw new Error(`plane ${z}: sum ${sum}, expected ${sums[z]}`);
    if (rendered < renders && i + 1 >= (rendered + 1) * every) {
      const bitmap = await zl.render("", `${z},:,:`, { window: "auto", colormap: "viridis" });
      if (bitmap.width !== 1024 || bitmap.height !== 1024) throw new Error("render: wrong size");
      bitmap.close?.();
      rendered++;
    }
  }
  return rendered;
}"""


def write_data(root: Path) -> np.ndarray:
    import zarr
    from zarr.codecs import ZstdCodec

    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:SHAPE[1], 0:SHAPE[2]]
    base = 1000 + 800 * np.sin(x / 97.0) * np.cos(y / 131.0)
    data = np.stack([np.clip(base + rng.normal(0, 40, base.shape), 0, 65535) for _ in range(SHAPE[0])]).astype("<u2")
    a = zarr.create_array(str(root / "soak.zarr"), shape=SHAPE, dtype="<u2", chunks=CHUNKS,
                          compressors=[ZstdCodec(level=3)])
    a[...] = data
    return data


class WorkerHeap:
    """Runtime.getHeapUsage of the page's dedicated workers, through the page's CDP session (workers are
    attached as targets; messages go through Target.sendMessageToTarget)."""

    def __init__(self, page, cdp):
        self.page, self.cdp, self.sessions, self.replies, self.next = page, cdp, {}, {}, 1
        cdp.on("Target.attachedToTarget",
               lambda e: self.sessions.__setitem__(e["targetInfo"]["url"], e["sessionId"]))
        cdp.on("Target.receivedMessageFromTarget", self._reply)
        cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": False})

    def _reply(self, event):
        msg = json.loads(event["message"])
        if "id" in msg:
            self.replies[msg["id"]] = msg.get("result")

    def usage(self, suffix: str) -> dict | None:
        session = next((sid for url, sid in self.sessions.items() if url.endswith(suffix)), None)
        if session is None:
            return None
        ask, self.next = self.next, self.next + 1
        self.cdp.send("Target.sendMessageToTarget", {"sessionId": session, "message": json.dumps(
            {"id": ask, "method": "Runtime.getHeapUsage"})})
        for _ in range(100):  # events are delivered while Playwright waits
            if ask in self.replies:
                return self.replies.pop(ask)
            self.page.wait_for_timeout(20)
        return None


def renderer_rss(cdp) -> int | None:
    """Resident bytes of the largest renderer process of this browser (None where /proc is not there)."""
    best = None
    for proc in cdp.send("SystemInfo.getProcessInfo")["processInfo"]:
        if proc["type"] != "renderer":
            continue
        try:
            status = Path(f"/proc/{proc['id']}/status").read_text()
        except OSError:
            continue
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        best = max(best or 0, kib * 1024)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reads", type=int, default=2000)
    ap.add_argument("--renders", type=int, default=500)
    ap.add_argument("--every", type=int, default=100, help="reads between samples")
    ap.add_argument("--chunk-workers", type=int, default=None, help="default: zarrlite's own")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    dist = ROOT / "web" / "dist"
    if not (dist / "zarrlite.js").exists():
        sys.exit("web/dist/ is not built: run ./build.sh")
    tmp = Path(tempfile.mkdtemp(prefix="zarrlite-soak-"))
    try:
        data = write_data(tmp)
        sums = [int(plane.sum(dtype=np.int64)) for plane in data]
        server = start_server(dist, tmp)
        rows = []
        with sync_playwright() as p:
            chromium = shutil.which("chromium") or shutil.which("chromium-browser")
            browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
            page = browser.new_page()
            page.set_default_timeout(600_000)
            page.goto(server.url + "/protocol.js")
            page_cdp = page.context.new_cdp_session(page)
            browser_cdp = browser.new_browser_cdp_session()
            page.evaluate(START_JS, {"url": f"{server.url}/data/soak.zarr", "chunkWorkers": args.chunk_workers})
            workers = WorkerHeap(page, page_cdp)

            def sample(reads, renders, ms_per_read):
                heap = page_cdp.send("Runtime.getHeapUsage")
                worker = workers.usage("/worker.js") or {}
                stats = page.evaluate("() => zl.stats()")
                rows.append({"reads": reads, "renders": renders, "js_heap_used": heap["usedSize"],
                             "js_buffers": heap.get("backingStorageSize"), "worker_heap_used": worker.get("usedSize"),
                             "worker_buffers": worker.get("backingStorageSize"), "wasm_bytes": stats.get("wasmBytes"),
                             "renderer_rss": renderer_rss(browser_cdp), "ms_per_read": ms_per_read})

            sample(0, 0, None)
            reads = renders = 0
            per_batch = args.renders * args.every / args.reads
            while reads < args.reads:
                n = min(args.every, args.reads - reads)
                want = round(per_batch * (reads + n) / args.every) - renders
                t0 = time.perf_counter()
                renders += page.evaluate(BATCH_JS, {"start": reads, "reads": n, "renders": want,
                                                    "planes": SHAPE[0], "sums": sums})
                reads += n
                page_cdp.send("HeapProfiler.collectGarbage")
                sample(reads, renders, (time.perf_counter() - t0) * 1000 / n)
            browser.close()
        server.httpd.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    mib = lambda v: "-" if v is None else f"{v / 2**20:.1f}"  # noqa: E731
    print(f"soak: {SHAPE} uint16 zstd, chunks {CHUNKS}; plane reads (2 MiB each) and renders (window auto, viridis)")
    print("MiB; page and worker: JS heap used / ArrayBuffers held; WASM: the worker's Pyodide memory")
    print(f"{'reads':>6} {'renders':>8} {'page heap':>10} {'page bufs':>10} {'worker heap':>12} {'worker bufs':>12} "
          f"{'WASM':>7} {'renderer RSS':>13} {'ms/read':>8}")
    for r in rows:
        ms = "-" if r["ms_per_read"] is None else f"{r['ms_per_read']:.1f}"
        print(f"{r['reads']:>6} {r['renders']:>8} {mib(r['js_heap_used']):>10} {mib(r['js_buffers']):>10} "
              f"{mib(r['worker_heap_used']):>12} {mib(r['worker_buffers']):>12} {mib(r['wasm_bytes']):>7} "
              f"{mib(r['renderer_rss']):>13} {ms:>8}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"shape": SHAPE, "chunks": CHUNKS, "codec": "zstd", "chunk_workers": args.chunk_workers,
                               "rows": rows}, indent=1))
    print(f"written: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
