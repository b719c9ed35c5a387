"""Requests are the cost: zarrlite vs its peers against a server that is far away, in one run.

    .venv/bin/python bench/requests_bench.py [--latency 20,100] [--no-browser] [--out bench/results]

A loopback S3-compatible server (tests/s3server.py) adds a fixed latency to every answer (20 ms and
100 ms: a nearby and a distant region), and once more to the first answer on a new connection (the
round trip of TCP's handshake), serves only the bytes asked for, and logs every request. It runs
in a process of its own, as a distant server would: in the readers' process its handler threads took
the GIL from the Python readers (not from tensorstore's, which run in C++), and were measured as theirs. The
data, written by zarr-python 3 (consolidated metadata, zstd): a group with `chunked` (16x512x512
uint16, chunks 1x128x128: 256 objects), `sharded` (the same in 16 shards of 1x512x512, 64 inner
chunks 1x64x64 each) and `labels/cells`. Cases, each from a cold start (a new store, nothing cached):
  - open: the hierarchy, every node's metadata (tensorstore cannot open a group: it opens the three
    arrays by name);
  - plane: open the array, read z=7 (a 512x512 plane);
  - boxes: open the array, 100 boxes of 48x48 at seeded random places, read concurrently;
  - full: open the array, read all of it.
Readers in CPython: zarrlite; zarr-python 3 on fsspec's HTTP file system (aiohttp); zarr-python 3 on
obstore's HTTPStore; tensorstore's HTTP kvstore. zarrlite and tensorstore keep idle connections for their
process (the untimed first read opens them); zarr-python's stores are made anew for each run, their
sessions being bound to the run's event loop, so they connect anew. In Chromium (bench/requests_browser.py): zarrlite
vs zarrita.js with and without `withRangeCoalescing`. Every result is compared with the truth.
Printed as a table (time in s, the CPython reader's CPU s, requests; the ratios are to the best
peer), written to bench/results/requests-<stamp>.md and .json. One run: times at this scale vary by ~10%.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

# The server process: reads one command a line on stdin, answers one JSON line on stdout.
SERVE = r"""
import dataclasses, json, sys
sys.path.insert(0, sys.argv[1])
from s3server import S3Server
with S3Server() as server:
    print(json.dumps(server.endpoint_url), flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        answer = None
        if command == "bucket":
            server.add_bucket(*json.loads(arg))
        elif command == "latency":  # an answer and a new connection's handshake alike cost a round trip
            server.latency = server.connect_latency = float(arg)
        elif command == "clear":
            server.clear_log()
        elif command == "log":
            answer = [dataclasses.asdict(e) for e in server.log]
        print(json.dumps(answer), flush=True)
"""


@dataclasses.dataclass
class Entry:  # what the tables use of a logged request (s3server.Entry)
    method: str
    status: int
    nbytes: int


class ServerProcess:
    """S3Server (tests/s3server.py) in a process of its own, with the same `endpoint_url`, `add_bucket`,
    `latency`, `log` and `clear_log`."""

    def __enter__(self):
        self._proc = subprocess.Popen([sys.executable, "-c", SERVE, str(ROOT / "tests")], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
        self.endpoint_url = json.loads(self._proc.stdout.readline())
        self._latency = 0.0
        return self

    def __exit__(self, *exc):
        self._proc.stdin.close()
        self._proc.wait(timeout=10)

    def _ask(self, command):
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline())

    def add_bucket(self, name, directory):
        self._ask(f"bucket {json.dumps([name, str(directory)])}")

    @property
    def latency(self):
        return self._latency

    @latency.setter
    def latency(self, seconds):
        self._latency = seconds
        self._ask(f"latency {seconds}")

    def clear_log(self):
        self._ask("clear")

    @property
    def log(self):
        return [Entry(e["method"], e["status"], e["nbytes"]) for e in self._ask("log")]

SHAPE, CHUNKS, SHARDS, INNER = (16, 512, 512), (1, 128, 128), (1, 512, 512), (1, 64, 64)
ARRAYS = ("chunked", "sharded")
CASES = ("plane", "boxes", "full")
BUCKET, PREFIX = "bench", "h.zarr"


def write_data(root: Path) -> np.ndarray:
    import zarr

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:SHAPE[1], 0:SHAPE[2]]
    base = 1000 + 800 * np.sin(x / 37.0) * np.cos(y / 51.0)
    data = np.stack([base + rng.normal(0, 30, base.shape) for _ in range(SHAPE[0])]).astype("<u2")
    g = zarr.open_group(str(root / PREFIX), mode="w", zarr_format=3)
    g.create_array("chunked", shape=SHAPE, dtype="<u2", chunks=CHUNKS)[...] = data
    g.create_array("sharded", shape=SHAPE, dtype="<u2", chunks=INNER, shards=SHARDS)[...] = data
    g.create_group("labels").create_array("cells", shape=(64, 64), dtype="u4", chunks=(32, 32))[...] = 7
    zarr.consolidate_metadata(str(root / PREFIX))
    return data


def selections(case: str) -> list[tuple]:
    if case == "plane":
        return [(7, slice(None), slice(None))]
    if case == "full":
        return [(slice(None),) * 3]
    rng = np.random.default_rng(1)
    return [(int(z), slice(int(y), int(y) + 48), slice(int(x), int(x) + 48))
            for z, y, x in zip(rng.integers(0, SHAPE[0], 100), rng.integers(0, SHAPE[1] - 48, 100),
                               rng.integers(0, SHAPE[2] - 48, 100))]


# -- the readers: open(url) walks the hierarchy; read(url, name, sels) -> list of ndarrays ------------

async def zarrlite_open(url):
    import zarrlite

    async def walk(group):
        for _, child in await group.children():
            if isinstance(child, zarrlite.Group):
                await walk(child)

    await walk(await zarrlite.open_async(url))


async def zarrlite_read(url, name, sels):
    import zarrlite

    arr = await zarrlite.open_async(url, name)
    return await asyncio.gather(*(arr.get(s) for s in sels))


def zarr_store(kind: str, url: str):
    import zarr

    if kind == "fsspec":
        # a new file system (and aiohttp session) per run: fsspec caches instances per loop
        return zarr.storage.FsspecStore.from_url(url, read_only=True, storage_options={"skip_instance_cache": True})
    from obstore.store import HTTPStore

    return zarr.storage.ObjectStore(HTTPStore.from_url(url, client_options={"allow_http": True}), read_only=True)


def zarr_reader(kind):
    async def open_(url):
        import zarr.api.asynchronous as za

        group = await za.open_group(store=zarr_store(kind, url), mode="r")
        async for _ in group.members(max_depth=None):
            pass

    async def read(url, name, sels):
        import zarr.api.asynchronous as za

        arr = await za.open_array(store=zarr_store(kind, url), path=name, mode="r")
        return await asyncio.gather(*(arr.getitem(s) for s in sels))

    return open_, read


def ts_spec(url, name):
    return {"driver": "zarr3", "kvstore": {"driver": "http", "base_url": f"{url}/{name}"},
            "context": {"cache_pool": {"total_bytes_limit": 0}}}


async def tensorstore_open(url):
    import tensorstore as ts

    await asyncio.gather(*(ts.open(ts_spec(url, n), read=True) for n in (*ARRAYS, "labels/cells")))


async def tensorstore_read(url, name, sels):
    import tensorstore as ts

    arr = await ts.open(ts_spec(url, name), read=True)
    return await asyncio.gather(*(arr[s].read() for s in sels))


READERS = {
    "zarrlite": (zarrlite_open, zarrlite_read),
    "zarr-python+fsspec": zarr_reader("fsspec"),
    "zarr-python+obstore": zarr_reader("obstore"),
    "tensorstore": (tensorstore_open, tensorstore_read),
}


def counted(server: ServerProcess, run) -> dict:
    """Run `run()` (a coroutine function) against a clean log: seconds, the reader's CPU seconds (all its
    threads; the server runs in another process), requests, and of those the 404s and HEADs."""
    server.clear_log()
    t0, c0 = time.perf_counter(), time.process_time()
    result = asyncio.run(run())
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    log = server.log
    return {"s": seconds, "cpu_s": cpu, "requests": len(log), "404": sum(e.status == 404 for e in log),
            "head": sum(e.method == "HEAD" for e in log), "options": sum(e.method == "OPTIONS" for e in log),
            "bytes": sum(e.nbytes for e in log), "result": result}


def check(results, data, sels, who):
    for got, sel in zip(results, sels):
        if not np.array_equal(np.asarray(got), data[sel]):
            raise SystemExit(f"{who}: wrong values for {sel}")


def cpython_rows(server, url, data, latency):
    rows = []
    for reader, (open_, read) in READERS.items():
        asyncio.run(read(url, "labels/cells", [(0, 0)]))  # untimed: imports, thread pools
        r = counted(server, lambda: open_(url))
        rows.append({"latency_ms": latency, "case": "open", "reader": reader, **_public(r)})
        for name in ARRAYS:
            for case in CASES:
                sels = selections(case)
                r = counted(server, lambda: read(url, name, sels))
                check(r["result"], data, sels, f"{reader} {name} {case}")
                rows.append({"latency_ms": latency, "case": f"{case} {name}", "reader": reader, **_public(r)})
    return rows


def _public(r):
    return {k: v for k, v in r.items() if k != "result"}


def table(rows) -> str:
    """One line per (latency, case, reader); the ratios are to the best of the other readers of the same
    runtime (CPython or the browser)."""
    out = ["| latency | case | reader | time s | CPU s | requests | 404 | HEAD | OPTIONS | MB | time / best peer | "
           "requests / fewest of peers |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    groups = {}
    for row in rows:
        groups.setdefault((row["latency_ms"], row["case"], row["runtime"]), []).append(row)
    for (latency, case, runtime), group in groups.items():
        ours = [r for r in group if r["reader"].startswith("zarrlite")]
        peers = [r for r in group if not r["reader"].startswith("zarrlite")]
        best_s = min((r["s"] for r in peers), default=None)
        fewest = min((r["requests"] for r in peers), default=None)
        for r in sorted(group, key=lambda r: (not r["reader"].startswith("zarrlite"), r["reader"])):
            ratio_s = f"{ours[0]['s'] / best_s:.2f}x" if r in ours and best_s else ""
            ratio_n = f"{ours[0]['requests'] / fewest:.2f}x" if r in ours and fewest else ""
            cpu = f"{r['cpu_s']:.3f}" if "cpu_s" in r else ""
            out.append(f"| {latency} ms | {case} | {r['reader']} ({runtime}) | {r['s']:.3f} | {cpu} | {r['requests']} | "
                       f"{r['404']} | {r['head']} | {r['options']} | {r['bytes'] / 1e6:.2f} | {ratio_s} | {ratio_n} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency", default="20,100", help="ms per request, comma-separated")
    ap.add_argument("--no-browser", action="store_true", help="CPython readers only")
    ap.add_argument("--readers", default=",".join(READERS), help="CPython readers to run")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    for name in set(READERS) - set(args.readers.split(",")):
        del READERS[name]
    rows = []
    with tempfile.TemporaryDirectory(prefix="zarrlite-requests-") as tmp, ServerProcess() as server:
        print("writing the data ...", file=sys.stderr)
        data = write_data(Path(tmp))
        server.add_bucket(BUCKET, tmp)
        url = f"{server.endpoint_url}/{BUCKET}/{PREFIX}"
        for latency in (int(v) for v in args.latency.split(",")):
            server.latency = latency / 1000
            print(f"CPython readers, {latency} ms a request ...", file=sys.stderr)
            rows += [{**r, "runtime": "CPython"} for r in cpython_rows(server, url, data, latency)]
            if not args.no_browser:
                from requests_browser import browser_rows

                print(f"Chromium readers, {latency} ms a request ...", file=sys.stderr)
                rows += [{**r, "runtime": "Chromium"}
                         for r in browser_rows(server, url, data, latency, selections, ARRAYS, CASES)]
    text = table(rows)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"requests-{stamp}.md").write_text(__doc__.split("\n\n", 1)[1] + "\n" + text + "\n")
    (out / f"requests-{stamp}.json").write_text(json.dumps(rows, indent=1))
    print(f"\nwritten: {out / f'requests-{stamp}.md'}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
