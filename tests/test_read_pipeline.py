"""The read pipeline over HTTP: requests and decoding overlap. Observed in the log of a loopback
S3-compatible server (tests/s3server.py) while the CPU threads are held busy; data written by
zarr-python 3. No timings are asserted."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

import zarrlite
from s3server import S3Server
from zarrlite.runtime import CPU_THREADS, run_cpu

CONCURRENCY = 4


@pytest.fixture
def server():
    with S3Server() as s3:
        yield s3


def _write(root, layout):
    import zarr

    data = (np.arange(64 * 64, dtype="<u2").reshape(64, 64) * 7) % 1000
    if layout == "chunked":
        arr = zarr.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(8, 8))
    else:  # 64 shards of 8 x 8, each 4 inner chunks of 4 x 4: each shard wanted whole is one GET
        arr = zarr.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(4, 4), shards=(8, 8))
    arr[...] = data
    return data


@pytest.mark.parametrize("layout", ["chunked", "sharded"])
def test_requests_go_on_while_decoding_waits_for_a_thread(tmp_path, server, layout):
    # Every CPU thread is held busy: no chunk can be decoded. The fetches must not wait for that: with
    # 4 requests allowed at once, more than 4 chunks are fetched (their bytes queued for decoding), where
    # a request slot held until its chunk is decoded would stop the read at 4 requests.
    data = _write(tmp_path / "a.zarr", layout)
    server.add_bucket("b", tmp_path)

    async def read():
        arr = await zarrlite.open_async(f"{server.endpoint_url}/b/a.zarr", concurrency=CONCURRENCY)
        release = threading.Event()
        busy = [asyncio.ensure_future(run_cpu(release.wait)) for _ in range(CPU_THREADS)]
        server.clear_log()
        reading = asyncio.ensure_future(arr.get(...))
        deadline = time.monotonic() + 10
        while len(server.log) < 2 * CONCURRENCY and time.monotonic() < deadline and not reading.done():
            await asyncio.sleep(0.01)
        fetched_while_busy = len(server.log)
        release.set()
        await asyncio.gather(*busy)
        return fetched_while_busy, await reading

    fetched_while_busy, value = asyncio.run(read())
    np.testing.assert_array_equal(value, data)
    assert fetched_while_busy >= 2 * CONCURRENCY, fetched_while_busy


def _request_threads():
    return {t.ident for t in threading.enumerate() if t.name.startswith("zarrlite-http")}


def test_a_new_store_starts_no_new_request_threads(tmp_path, server):
    # Starting a thread waits for it to run: a store that started its own for every request in flight
    # sent its first requests one after another on a loaded machine. The threads are the process's.
    data = _write(tmp_path / "a.zarr", "chunked")
    server.add_bucket("b", tmp_path)
    server.latency = 0.05  # long enough that the chunk requests are all waiting at once
    url = f"{server.endpoint_url}/b/a.zarr"
    first = zarrlite.open(url, concurrency=8)
    np.testing.assert_array_equal(first[...], data)
    before = _request_threads()
    second = zarrlite.open(url, concurrency=8)
    server.clear_log()
    np.testing.assert_array_equal(second[...], data)
    assert server.most_in_flight >= 4  # the second store's requests overlapped too
    started = _request_threads() - before
    assert len(started) < 4, started  # a store with threads of its own starts 8 here
    del first


def test_a_read_keeps_more_than_32_requests_in_flight_by_default(tmp_path, server):
    # 64 chunks, a server 0.3 s away: with the default concurrency (64 in CPython) they are asked
    # together; 32 would take two round trips.
    data = _write(tmp_path / "a.zarr", "chunked")
    server.add_bucket("b", tmp_path)
    arr = zarrlite.open(f"{server.endpoint_url}/b/a.zarr")
    server.latency = 0.3
    server.clear_log()
    np.testing.assert_array_equal(arr[...], data)
    assert len(server.log) == 64
    assert server.most_in_flight > 32, server.most_in_flight
