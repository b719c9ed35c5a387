"""A worker that dies is noticed: a real Pyodide fatal error (a C stack overflow inside the event loop,
caused through the worker's debugger handle `self.pyodide`, which no page can reach) or a crashed worker
rejects the pending calls with a WorkerDiedError within seconds, a new worker starts with the same options
and the last source re-opened, and the next call returns the right values. A chunk worker that crashes
has its pending work done by the zarrlite worker and is replaced."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from zarr.codecs import ZstdCodec

SMALL = np.arange(50, dtype="<u2").reshape(2, 5, 5)
BIG = np.random.default_rng(11).integers(0, 2**16, size=(4, 256, 256), dtype="<u2")  # 128 KiB chunks

START_JS = """async ({url, chunkWorkers}) => {
  const { Zarrlite } = await import("./zarrlite.js");
  window.restarts = [];
  window.zl = await Zarrlite.create({ chunkWorkers, onRestart: r => window.restarts.push(
    { stage: r.stage, cause: r.cause.message, reopened: r.reopened ?? null, error: r.error ? r.error.message : null }) });
  await zl.open(url);
  window.firstWorker = zl._worker;
}"""

PENDING_JS = """selection => {
  const t0 = performance.now();
  window.pending = zl.read("", selection).then(r => ({ resolved: Array.from(r.data) }),
    e => ({ name: e.name, message: e.message, ms: performance.now() - t0 }));
}"""

SETTLED_JS = """() => Promise.race([window.pending,
  new Promise(resolve => setTimeout(() => resolve("still pending after 10 s"), 10_000))])"""

READ_JS = """async selection => {
  const r = await zl.read("", selection);
  return { shape: r.shape, values: Array.from(r.data) };
}"""

# A real fatal error: json's C decoder recursing 20,000 levels overflows the WASM stack ("Maximum call
# stack size exceeded"), inside a coroutine of Pyodide's event loop as a read's task would be.
FATAL_PY = "import asyncio, json\nawait asyncio.sleep(0)\njson.loads('[' * 20000 + ']' * 20000)"


@pytest.fixture(scope="module")
def data(server):
    for name, values, chunks in [("dead-small.zarr", SMALL, (1, 5, 5)), ("dead-big.zarr", BIG, (1, 256, 256))]:
        root = server.data / name
        if not root.exists():
            a = zarr.create_array(str(root), shape=values.shape, dtype=values.dtype, chunks=chunks,
                                  compressors=[ZstdCodec()])
            a[...] = values
    return server


def _worker(page, suffix):
    found = [w for w in page.workers if w.url.endswith(suffix)]
    assert len(found) == 1, [w.url for w in page.workers]
    return found[0]


def _start(page, server, name, chunk_workers):
    page.set_default_timeout(90_000)
    page.goto(server.url + "/protocol.js")
    page.evaluate(START_JS, {"url": f"{server.url}/slow/data/{name}", "chunkWorkers": chunk_workers})


def _assert_restarted(page, settled):
    assert settled != "still pending after 10 s"
    assert settled["name"] == "WorkerDiedError", settled
    assert "stopped" in settled["message"] and "is restarting" in settled["message"], settled
    assert settled["ms"] < 5_000, settled
    # the next call waits for the new worker, which has the source open again
    got = page.evaluate(READ_JS, "0,0:3,0:2")
    assert got == {"shape": [3, 2], "values": SMALL[0, 0:3, 0:2].ravel().tolist()}
    assert page.evaluate("() => zl._worker !== window.firstWorker")
    restarts = page.evaluate("() => window.restarts")
    assert [r["stage"] for r in restarts] == ["restarting", "restarted"], restarts
    assert restarts[1]["reopened"] is True and restarts[1]["error"] is None, restarts
    return restarts


@pytest.mark.parametrize("hook", ["on_fatal", "without on_fatal"])
def test_a_fatal_pyodide_error_rejects_pending_calls_and_restarts(page, data, hook):
    """Pyodide's internal on_fatal hook tells at once; without it (another Pyodide), the uncaught
    rejection the fatal error leaves does, through Pyodide's public API that throws from then on."""
    _start(page, data, "dead-small.zarr", 0)
    page.evaluate(PENDING_JS, "...")
    page.wait_for_timeout(50)  # the read waits on the slow server
    worker = _worker(page, "/worker.js")
    if hook == "without on_fatal":
        worker.evaluate("() => { delete self.pyodide._api.on_fatal; }")
    worker.evaluate("code => { self.pyodide.runPythonAsync(code); }", FATAL_PY)
    settled = page.evaluate(SETTLED_JS)
    assert settled != "still pending after 10 s"
    assert "Maximum call stack size exceeded" in settled["message"], settled
    restarts = _assert_restarted(page, settled)
    assert "Maximum call stack size exceeded" in restarts[0]["cause"], restarts
    stats = page.evaluate("() => zl.stats()")
    assert stats["running"] == 0 and stats["wasmBytes"] > 0, stats


def test_a_crashed_worker_rejects_pending_calls_and_restarts(page, data):
    """The Worker ends with an "error" event (what a script error or a crash outside Pyodide fires)."""
    _start(page, data, "dead-small.zarr", 0)
    page.evaluate(PENDING_JS, "...")
    page.wait_for_timeout(50)
    page.evaluate("""() => { zl._worker.terminate();
        zl._worker.dispatchEvent(new ErrorEvent("error", { message: "simulated crash" })); }""")
    settled = page.evaluate(SETTLED_JS)
    assert "simulated crash" in settled["message"], settled
    # a call waiting for the new worker (start-up takes seconds) still rejects at once when aborted
    aborted = page.evaluate("""async () => {
        const controller = new AbortController();
        const t0 = performance.now();
        const call = zl.read("", "...", { signal: controller.signal }).then(() => "resolved", e => e.name);
        setTimeout(() => controller.abort(), 100);
        return { name: await call, ms: performance.now() - t0, restarts: window.restarts.length };
    }""")
    assert aborted["name"] == "AbortError" and aborted["ms"] < 1_000 and aborted["restarts"] == 1, aborted
    _assert_restarted(page, settled)


def test_calls_after_close_reject_and_nothing_restarts(page, data):
    _start(page, data, "dead-small.zarr", 0)
    got = page.evaluate("""async () => {
        const pending = zl.read("", "...").then(() => "resolved", e => e.message);
        zl.close();
        const later = await zl.read("", "...").then(() => "resolved", e => e.message);
        await new Promise(resolve => setTimeout(resolve, 200));
        return { pending: await pending, later, restarts: window.restarts.length };
    }""")
    assert got == {"pending": "zarrlite closed", "later": "zarrlite closed", "restarts": 0}


def _crash_a_chunk_worker_during_a_read(page, data, crash_js, options=None):
    url = f"{data.url}/slow/data/dead-big.zarr"
    for _ in range(40):  # the chunk worker starts after the first read and takes work once ready
        # opened again each time: a fresh store, whose chunk cache does not answer the read without a fetch
        page.evaluate("([url, options]) => zl.open(url, options)", [url, options or {}])
        page.evaluate(READ_JS, "0,0,0")
        if page.evaluate("() => zl.stats()")["fetch"]["workers"]:
            break
        page.wait_for_timeout(250)
    else:
        pytest.fail("the chunk worker never started")
    page.evaluate(PENDING_JS, "...")
    page.wait_for_timeout(100)  # its fetches wait on the slow server, on the chunk worker
    _worker(page, "/chunk-worker.js").evaluate(crash_js)
    settled = page.evaluate(SETTLED_JS)
    assert settled == {"resolved": BIG.ravel().tolist()}
    stats = page.evaluate("() => zl.stats()")
    assert stats["fetch"]["retried"] + stats["decode"]["retried"] > 0, stats
    assert stats["replaced"] == 1 and stats["workers"] == 1, stats
    assert page.evaluate("() => window.restarts.length") == 0


def test_a_crashed_chunk_worker_is_replaced_and_its_work_done_here(page, data):
    _start(page, data, "dead-big.zarr", 1)
    _crash_a_chunk_worker_during_a_read(page, data, "() => { setTimeout(() => { throw new Error('simulated crash'); }, 0); }")


def test_a_chunk_worker_gone_silent_is_replaced_and_its_work_done_here(page, data):
    """It closes itself: no event at all. A live chunk worker answers a fetch within the fetch's timeout
    (here 2 s), so one that has not answered 2 s after that is taken for dead."""
    _start(page, data, "dead-big.zarr", 1)
    _crash_a_chunk_worker_during_a_read(page, data, "() => { setTimeout(() => self.close(), 0); }", {"timeout": 2})


HELD_JS = "() => self.zarrliteHeld.size"


def _held_read(page, url):
    """Open `url` afresh and read it whole until the chunk worker held what it fetched; its stats then."""
    for _ in range(40):
        page.evaluate("url => zl.open(url)", url)
        before = page.evaluate("() => zl.stats()")["fetch"]["held"]
        assert page.evaluate(READ_JS, "...")["values"] == BIG.ravel().tolist()
        stats = page.evaluate("() => zl.stats()")
        if stats["fetch"]["held"] - before == 4:
            return stats
        page.wait_for_timeout(250)
    pytest.fail("the chunk worker never held the chunks it fetched")


def test_chunks_held_by_a_chunk_worker_are_let_go_with_the_store(page, data):
    """The chunk cache of an open source keeps values a chunk worker holds (web/chunk-worker.js "hold");
    opening another source lets them go there."""
    _start(page, data, "dead-big.zarr", 1)
    url = f"{data.url}/data/dead-big.zarr"
    _held_read(page, url)
    for _ in range(3):
        page.evaluate("url => zl.open(url)", url)
        assert page.evaluate(READ_JS, "...")["values"] == BIG.ravel().tolist()
    page.wait_for_timeout(200)  # the drops are posted, not awaited
    assert _worker(page, "/chunk-worker.js").evaluate(HELD_JS) == 4  # the last open's 4 chunks


def test_chunks_held_by_a_chunk_worker_that_died_are_fetched_again(page, data):
    _start(page, data, "dead-big.zarr", 1)
    url = f"{data.url}/data/dead-big.zarr"
    _held_read(page, url)
    before = page.evaluate("() => zl.stats()")
    assert page.evaluate(READ_JS, "...")["values"] == BIG.ravel().tolist()
    assert page.evaluate("() => zl.stats()")["fetch"] == before["fetch"]  # the cache answered: the held values
    _worker(page, "/chunk-worker.js").evaluate("() => { setTimeout(() => { throw new Error('simulated crash'); }, 0); }")
    page.wait_for_function("async () => (await zl.stats()).replaced === 1")
    got = page.evaluate(READ_JS, "...")  # the same open: cached values whose chunk worker is gone
    assert got["values"] == BIG.ravel().tolist()
    stats = page.evaluate("() => zl.stats()")
    assert stats["fetch"]["inline"] + stats["fetch"]["workers"] - before["fetch"]["inline"] - before["fetch"]["workers"] == 4, stats


IDLE = "() => window.viewer && window.viewer.idle && window.viewer.idle() && window.viewer.timings.firstImage !== undefined"


def test_the_viewer_says_the_reader_stopped_and_was_restarted_and_draws_again(page, server):
    page.set_default_timeout(90_000)
    page.goto(f"{server.url}/viewer/?source=../sample/cells.ome.zarr")
    page.wait_for_function(IDLE)
    loads = page.evaluate("() => window.viewer.loader.loads")
    _worker(page, "/worker.js").evaluate("code => { self.pyodide.runPythonAsync(code).catch(() => {}); }", FATAL_PY)
    page.wait_for_selector("#error[data-kind='restart']:not([hidden])", timeout=30_000)
    title = page.text_content("#error-title")
    assert "The reader stopped (RangeError: Maximum call stack size exceeded) and was restarted" in title, title
    page.wait_for_function(f"{IDLE} && window.viewer.loader.loads > {loads}")
    assert page.evaluate("() => window.viewer.tileErrors.size") == 0
