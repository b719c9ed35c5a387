"""Cancellation through the JS API (web/rpc.js -> the worker's Python task -> its fetches): an aborted
read rejects at once with AbortError, the requests it had not sent yet never reach the (slow) server,
whether they run in the zarrlite worker or on chunk workers, and the next read works."""

from __future__ import annotations

import numpy as np
import pytest
from writers import zarr_python

SHAPE, CHUNKS = (64, 64), (4, 4)   # 256 chunks: a whole read needs 256 chunk requests

START_JS = """async n => {
  const { Zarrlite } = await import("./zarrlite.js");
  window.cancelling ??= {};
  window.cancelling[n] ??= await Zarrlite.create({ chunkWorkers: n });
  return window.cancelling[n].stats();
}"""

BEGIN_JS = """async ({n, url}) => {
  const zl = window.cancelling[n];
  await zl.open(url);
  window.controller = new AbortController();
  window.reading = zl.read("", "...", { signal: window.controller.signal });
  window.reading.catch(() => {});
}"""

ABORT_JS = """async () => {
  const t0 = performance.now();
  window.controller.abort();
  try { await window.reading; return { error: null }; }
  catch (e) { return { error: { name: e.name, message: e.message }, ms: performance.now() - t0 }; }
}"""

NEXT_JS = """async ({n, url}) => {
  const zl = window.cancelling[n];
  await zl.open(url);
  const r = await zl.read("", "0:8,0:12");
  return { shape: r.shape, values: Array.from(r.data), stats: await zl.stats() };
}"""


@pytest.fixture(scope="module")
def many_chunks(server):
    truth = (np.arange(np.prod(SHAPE)) % 65521).astype("<u2").reshape(SHAPE)
    root = server.data / "cancel-many.zarr"
    if not root.exists():
        zarr_python(root, truth, zarr_format=3, chunks=CHUNKS, compressors=None)
    return truth


def _chunk_requests(server, prefix):
    return sum(1 for path, _, status in list(server.counters.requests)
               if path.startswith(prefix) and status == "arrived" and not path.endswith("zarr.json"))


@pytest.mark.parametrize("workers", [0, 2], ids=["in-the-worker", "on-chunk-workers"])
def test_an_aborted_read_stops_its_fetches_and_the_next_read_works(shared_page, server, many_chunks, workers):
    shared_page.evaluate(START_JS, workers)
    if workers:  # the pool starts after a first read, and takes fetches once its workers are ready
        for _ in range(40):
            shared_page.evaluate(NEXT_JS, {"n": workers, "url": f"{server.url}/data/cancel-many.zarr"})
            if shared_page.evaluate("n => window.cancelling[n].stats()", workers)["fetch"]["workers"]:
                break
            shared_page.wait_for_timeout(250)
        else:
            pytest.fail("the chunk workers never took a fetch")
    url = f"{server.url}/slow/data/cancel-many.zarr"
    prefix = "/slow/data/cancel-many.zarr/c/"
    before = _chunk_requests(server, prefix)
    shared_page.evaluate(BEGIN_JS, {"n": workers, "url": url})
    # waits go through the page: the tests' request routing answers only while Playwright is called
    shared_page.wait_for_timeout(800)  # a few rounds of chunk requests (Chromium keeps 6 connections per host)
    result = shared_page.evaluate(ABORT_JS)
    at_abort = _chunk_requests(server, prefix) - before
    assert result["error"] is not None and result["error"]["name"] == "AbortError", result
    assert result["ms"] < 100, result
    shared_page.wait_for_timeout(2000)  # long enough for ~48 more requests, had the read gone on
    after = _chunk_requests(server, prefix) - before
    assert 0 < at_abort < 100, (at_abort, after)
    assert after - at_abort <= 8, f"{after - at_abort} chunk requests reached the server after the abort"
    assert after < SHAPE[0] * SHAPE[1] // (CHUNKS[0] * CHUNKS[1]) // 2

    got = shared_page.evaluate(NEXT_JS, {"n": workers, "url": url})
    assert got["shape"] == [8, 12]
    assert got["values"] == many_chunks[0:8, 0:12].ravel().tolist()
    assert got["stats"]["running"] == 0, got["stats"]
    if workers:
        assert got["stats"]["workers"] == workers, got["stats"]
