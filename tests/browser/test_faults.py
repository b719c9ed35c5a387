"""Network faults in Chromium read as they do in CPython: the same faults (tests/faultserver.py, on
another origin with CORS open), the same HTTP options, through the JS API (`zl.open(url, options)`,
`zl.read`) with chunk workers off (`chunkWorkers: 0`) and on (2), and through CPython's HttpStore in
the same cells. Each cell's expected outcome is written out below from the rules (README, http_rules.py):
transient faults are retried and read right, persistent ones end in a StoreError naming the URL and the
cause, 401 fails at once, 403/404 read as missing, an ignored Range still reads right, other bytes than
asked for are refused, a stall times out after `timeout`. A broken transfer is never called a CORS
refusal, and a CORS refusal is said to be one. `test_fault_matrix` prints fault x runtime -> outcome,
seconds (pytest -s)."""

from __future__ import annotations

import collections
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from faultserver import FaultServer
from pages import pyodide_page
from writers import make_data, zarr_python

import zarrlite

RETRIES, TIMEOUT, BACKOFF = 2, 1.0, 0.01
OPTIONS = {"retries": RETRIES, "timeout": TIMEOUT, "backoff": BACKOFF}
WATCHDOG = 30.0
RUNTIMES = ("cpython", "workers0", "workers2")  # CPython HttpStore; the browser, chunk workers off and on
WORKERS = {"workers0": 0, "workers2": 2}

# read name: (array below the server root, the key the fault is put on, Range pattern or None)
READS = {
    "metadata": ("v2", "v2/.zarray", None),
    "v2 chunk": ("v2", "v2/1.1", None),
    "shard ranges": ("shard", "shard/c/0/0", None),
    "shard index, raw": ("shard", "shard/c/", r"^bytes=-"),
    "inner chunk, raw": ("shard", "shard/c/", r"^bytes=\d"),
    "shard index, zstd": ("shardz", "shardz/c/", r"^bytes=-"),
    "inner chunk, zstd": ("shardz", "shardz/c/", r"^bytes=\d"),
}
BASIC = ("metadata", "v2 chunk", "shard ranges")
RANGED = ("shard index, raw", "inner chunk, raw", "shard index, zstd", "inner chunk, zstd")
TRANSIENT = ("500", "503", "429", "reset", "close", "reset-body", "truncate", "stall")
# What each runtime can name of the cause of a persistent fault (the browser is not told the socket error)
CAUSES = {
    "500": ("HTTP 500",), "503": ("HTTP 503",), "429": ("HTTP 429",), "stall": (f"timed out after {TIMEOUT:g} s",),
    "reset": ("ConnectionResetError", "Connection reset", "connection"),
    "close": ("RemoteDisconnected", "connection"),
    "reset-body": ("IncompleteRead", "ConnectionResetError", "connection"),
    "truncate": ("IncompleteRead", "truncated", "connection"),
}
NOT_CORS = ("Failed to fetch", "cross-origin", "CORS")  # what the viewer's error panel reads as a CORS refusal


def _cells():
    cells = []
    for fault in TRANSIENT:
        for mode in ("once", "always"):
            cells += [(fault, mode, r, "ok" if mode == "once" else "StoreError") for r in BASIC]
    cells += [(s, "always", r, "StoreError") for s in ("401",) for r in BASIC]
    cells += [(s, "always", r, "NotFoundError" if r == "metadata" else "fill") for s in ("403", "404") for r in BASIC]
    cells += [("ignore-range", m, r, "ok") for m in ("once", "always") for r in BASIC + RANGED]
    cells += [(f, "always", r, "StoreError") for f in ("bad-content-range", "other-range") for r in RANGED]
    return cells


CELLS = _cells()
MATRIX: dict = collections.defaultdict(dict)


@pytest.fixture(scope="module")
def fault_server():
    from zarr.codecs import ZstdCodec

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        truths = {
            "v2": zarr_python(root / "v2", make_data((6, 7), "<u2"), zarr_format=2, chunks=(4, 3),
                              compressors=__import__("numcodecs").Zlib(level=1)),
            # 8 x 6 in shards of 4 x 8: no shard is wanted whole (its last inner chunks lie outside the
            # array), so a full read still takes each index and the inner chunks with byte ranges
            "shard": zarr_python(root / "shard", make_data((8, 6), "<i4", seed=3), zarr_format=3, chunks=(2, 2),
                                 shards=(4, 8), compressors=None),
            "shardz": zarr_python(root / "shardz", make_data((8, 6), "<i4", seed=4), zarr_format=3, chunks=(2, 2),
                                  shards=(4, 8), compressors=ZstdCodec(level=1)),
        }
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    srv = FaultServer(files, stall_seconds=4, cors=True).start()
    yield srv, truths
    srv.stop()


START_JS = """async n => {
  const { Zarrlite } = await import("./zarrlite.js");
  window.faultZl ??= {};
  window.faultZl[n] ??= await Zarrlite.create({ chunkWorkers: n });
  return true;
}"""

CELL_JS = """async ({n, url, options}) => {
  const zl = window.faultZl[n];
  const before = (await zl.stats()).fetch;
  const t0 = performance.now();
  let out;
  try {
    await zl.open(url, options);
    const r = await zl.read("", "...");
    out = { values: Array.from(r.data, Number), shape: r.shape };
  } catch (e) {
    out = { name: e.name, message: e.message };
  }
  out.seconds = (performance.now() - t0) / 1000;
  const after = (await zl.stats()).fetch;
  out.onWorkers = after.workers - before.workers;
  return out;
}"""


@pytest.fixture(scope="module")
def fault_page(shared_page, fault_server):
    """Two Zarrlite instances on the shared page, chunk workers off and on; the pool's workers started
    and taking fetches before the first cell."""
    srv, truths = fault_server
    for n in WORKERS.values():
        shared_page.evaluate(START_JS, n)
    for _ in range(50):
        got = shared_page.evaluate(CELL_JS, {"n": 2, "url": f"{srv.url}/v2", "options": OPTIONS})
        if got.get("onWorkers"):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the chunk workers never took a fetch")
    srv.clear()
    return shared_page


def _cpython(url):
    box = {}

    def target():
        t0 = time.perf_counter()
        try:
            values = zarrlite.open(url, **OPTIONS)[...]
            box.update(values=values.ravel().tolist(), shape=list(values.shape))
        except Exception as e:  # noqa: BLE001 - classified by the test
            box.update(name=type(e).__name__ if isinstance(e, zarrlite.ZarrliteError) else f"!! {type(e).__name__}",
                       message=str(e))
        box["seconds"] = time.perf_counter() - t0

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(WATCHDOG)
    assert not t.is_alive(), f"CPython: no answer within {WATCHDOG} s"
    return box


def run_cell(runtime, page, srv, array):
    url = f"{srv.url}/{array}"
    if runtime == "cpython":
        return _cpython(url)
    return page.evaluate(CELL_JS, {"n": WORKERS[runtime], "url": url, "options": OPTIONS})


def outcome_of(got, truth) -> str:
    if "name" in got:
        return got["name"]
    if got["shape"] != list(truth.shape):
        return f"!! shape {got['shape']}"
    values = np.array(got["values"], dtype=truth.dtype).reshape(truth.shape)
    if np.array_equal(values, truth):
        return "ok"
    # a chunk read as missing: the fill value (0) where the faulty key's values were, the rest right
    return "fill" if (values == 0).any() and ((values == truth) | (values == 0)).all() else "!! wrong values"


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("fault,mode,read,expected", CELLS,
                         ids=[f"{f}-{m}-{r.replace(', ', '-').replace(' ', '_')}" for f, m, r, _ in CELLS])
def test_fault(fault_page, fault_server, runtime, fault, mode, read, expected):
    srv, truths = fault_server
    array, key, ranges = READS[read]
    srv.clear()
    srv.inject(fault, match=key, times=1 if mode == "once" else None, ranges=ranges)
    got = run_cell(runtime, fault_page, srv, array)
    requests = srv.requests(key)
    srv.clear()
    outcome = outcome_of(got, truths[array])
    MATRIX[(fault, mode, read)][runtime] = f"{outcome}, {got['seconds']:.2f} s, {requests} req"
    message = got.get("message", "")
    assert outcome == expected, f"{runtime}: {got.get('name')}: {message}"
    if runtime != "cpython" and expected != "ok":
        assert (got["onWorkers"] > 0) == (WORKERS[runtime] > 0), got  # the fetches ran where asked
    if expected == "StoreError":
        assert f"{srv.url}/{key}" in message, f"the URL is not named: {message}"
        assert not any(s in message for s in NOT_CORS), f"a {fault} told as a CORS refusal: {message}"
    if fault in TRANSIENT and mode == "always":
        assert any(c in message for c in CAUSES[fault]), f"the cause of {fault} is not named: {message}"
        assert f"gave up after {RETRIES + 1} tries" in message, message
        assert got["seconds"] < (RETRIES + 1) * (TIMEOUT + 1) + 2, got["seconds"]
    if fault in TRANSIENT and mode == "once":
        assert requests >= 2  # the fault, then the retry
    if fault in ("401", "bad-content-range", "other-range"):
        assert "Content-Range" in message or f"HTTP {fault}" in message, message
        assert fault == "401" or "206" in message, message


@pytest.mark.parametrize("runtime", list(WORKERS))
def test_cors_refusal_is_told_as_one_and_not_retried_with_back_off(fault_page, fault_server, runtime):
    """A server on another origin that sends no CORS headers: a clear CORS message, at once (the
    second try tells it from a broken connection, with no back-off in between)."""
    srv, _ = fault_server
    closed = FaultServer(srv.files, cors=False).start()
    try:
        options = {**OPTIONS, "retries": 4, "backoff": 2.0}  # back-off would cost 2 + 4 + 8 + 16 s
        got = fault_page.evaluate(CELL_JS, {"n": WORKERS[runtime], "url": f"{closed.url}/v2", "options": options})
    finally:
        closed.stop()
    MATRIX[("no CORS headers", "always", "metadata")][runtime] = f"{got.get('name')}, {got['seconds']:.2f} s"
    assert got.get("name") == "StoreError", got
    assert "Access-Control-Allow-Origin" in got["message"], got["message"]
    assert "gave up" not in got["message"], got["message"]
    assert got["seconds"] < 2.0, got["seconds"]


@pytest.mark.parametrize("runtime", list(WORKERS))
def test_403_chunks_are_counted_in_stats(fault_page, fault_server, runtime):
    """Chunks refused with 403 read as the fill value, as in CPython, and `zl.stats().forbidden` counts
    them (metadata documents answered 403 are not counted), so a page can tell an expired signed URL."""
    srv, truths = fault_server
    srv.clear()
    srv.inject("403", match="v2/1.")  # the second row of chunks: 1.0, 1.1, 1.2
    srv.inject("403", match=".zattrs")
    got = fault_page.evaluate(CELL_JS, {"n": WORKERS[runtime], "url": f"{srv.url}/v2", "options": OPTIONS})
    stats = fault_page.evaluate("async n => (await window.faultZl[n].stats()).forbidden", WORKERS[runtime])
    srv.clear()
    assert outcome_of(got, truths["v2"]) == "fill", got
    assert stats["count"] == 3 and sorted(stats["keys"]) == ["1.0", "1.1", "1.2"], stats  # below the opened URL


def test_the_viewer_says_how_many_chunks_were_refused(page, server, fault_server):
    """403 chunks are drawn as empty (as in CPython) and the page says how many the server refused."""
    srv, _ = fault_server
    srv.clear()
    srv.inject("403", match="v2/1.")  # the second row of chunks: 1.0, 1.1, 1.2
    try:
        page.set_default_timeout(90_000)
        page.goto(f"{server.url}/viewer/?source={srv.url}/v2")
        page.wait_for_selector("body[data-shown='1']")
        page.wait_for_selector("#forbidden:not([hidden])")
        text, title = page.locator("#forbidden").inner_text(), page.locator("#forbidden").get_attribute("title")
    finally:
        srv.clear()
    assert text.startswith("3 chunks refused by the server (HTTP 403)"), text
    assert all(k in title for k in ("1.0", "1.1", "1.2")), title
    assert page.locator("#error").is_hidden()


# ------------------------------------------- Pyodide without zarrlite's worker (a notebook kernel)

KERNEL_PY = """
import json, time, zarrlite
from zarrlite.stores.browser import FetchStore

async def read(url, options):
    t0 = time.perf_counter()
    try:
        arr = await zarrlite.open_async(FetchStore(url, **json.loads(options)))
        values = await arr.get((Ellipsis,))
        out = {"values": values.ravel().tolist(), "shape": list(values.shape)}
    except zarrlite.ZarrliteError as e:
        out = {"name": type(e).__name__, "message": str(e)}
    out["seconds"] = time.perf_counter() - t0
    return json.dumps(out)
"""


@pytest.fixture(scope="module")
def kernel_page(browser, server, outside_requests):
    """Pyodide on a page's main thread, as in a notebook: FetchStore fetches through `fetch_here`."""
    ctx, page = pyodide_page(browser, server, outside_requests, KERNEL_PY)
    yield page
    ctx.close()


KERNEL_READ_JS = """async ({url, options}) => {
  const pyodide = await window.pyodideReady;
  return JSON.parse(await pyodide.globals.get("read")(url, JSON.stringify(options)));
}"""


@pytest.mark.parametrize("fault,mode,expected", [
    ("reset", "once", "ok"), ("reset", "always", "StoreError"), ("close", "once", "ok"),
    ("reset-body", "always", "StoreError"), ("truncate", "once", "ok"), ("truncate", "always", "StoreError")])
def test_kernel_fetch_retries_broken_transfers(kernel_page, fault_server, fault, mode, expected):
    srv, truths = fault_server
    srv.clear()
    srv.inject(fault, match="v2/1.1", times=1 if mode == "once" else None)
    got = kernel_page.evaluate(KERNEL_READ_JS, {"url": f"{srv.url}/v2", "options": OPTIONS})
    srv.clear()
    MATRIX[(fault, mode, "v2 chunk, notebook kernel")]["workers0"] = f"{outcome_of(got, truths['v2'])}, " \
                                                                     f"{got['seconds']:.2f} s"
    assert outcome_of(got, truths["v2"]) == expected, got
    if expected == "StoreError":
        message = got["message"]
        assert f"{srv.url}/v2/1.1" in message and "connection" in message, message
        assert f"gave up after {RETRIES + 1} tries" in message and not any(s in message for s in NOT_CORS), message


def test_kernel_fetch_tells_a_cors_refusal(kernel_page, fault_server):
    srv, _ = fault_server
    closed = FaultServer(srv.files, cors=False).start()
    try:
        got = kernel_page.evaluate(KERNEL_READ_JS, {"url": f"{closed.url}/v2",
                                                    "options": {**OPTIONS, "retries": 4, "backoff": 2.0}})
    finally:
        closed.stop()
    assert got.get("name") == "StoreError" and "Access-Control-Allow-Origin" in got["message"], got
    assert "gave up" not in got["message"] and got["seconds"] < 2.0, got


def test_fault_matrix(capsys):
    """Prints the fault x runtime -> outcome, seconds, requests table of this run (shown with pytest -s)."""
    if not MATRIX:
        pytest.skip("run with the rest of the module")
    lines = ["| fault | when | read | " + " | ".join(RUNTIMES) + " |", "|---|---|---|" + "---|" * len(RUNTIMES)]
    for (fault, mode, read), row in MATRIX.items():
        lines.append(f"| {fault} | {mode} | {read} | " + " | ".join(row.get(r, "") for r in RUNTIMES) + " |")
    with capsys.disabled():
        print("\n\nbrowser fault matrix (outcome, seconds, requests for the faulty key)\n" + "\n".join(lines))
