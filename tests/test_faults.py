"""Network faults against zarrlite's HttpStore (tests/faultserver.py injects them on 127.0.0.1).

Every fault runs against six ways of reading: the store's own `get`, `get_range` and suffix range,
and `zarrlite.open(url)` reading metadata, a Zarr v2 chunk and a sharded Zarr v3 array (byte ranges),
each once with the fault transient (the first request only) and once persistent (every request).

The rules: transient faults (500, 503, 429, connection reset, truncated body, stall) are retried with
back-off and the read succeeds; persistent ones end, after a bounded number of tries, in a StoreError
naming the URL and the status or cause; statuses that are not transient fail at once; 404 and 403 mean
"missing" (a fill-value chunk, or no node); a server ignoring Range still gives the right bytes; a
wrong Content-Range is an error; a stall times out. Every read runs under a watchdog: nothing hangs.
The outcome table of the run is printed by `test_fault_matrix` (pytest -s).
"""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path

import numcodecs
import numpy as np
import pytest

import zarrlite
from faultserver import FaultServer
from hang_watch import within
from writers import make_data, zarr_python
from zarrlite.stores import HttpStore

RETRIES, TIMEOUT, BACKOFF = 2, 0.5, 0.01
OPTIONS = {"retries": RETRIES, "timeout": TIMEOUT, "backoff": BACKOFF}
WATCHDOG = 20.0  # seconds any one read may take before the test calls it a hang


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    v2 = zarr_python(root / "v2", make_data((6, 7), "<u2"), zarr_format=2, chunks=(4, 3),
                     compressors=numcodecs.Zlib(level=1))
    # 8 x 6 in shards of 4 x 8: no shard is wanted whole (its last inner chunks lie outside the array),
    # so even a full read takes the index and the inner chunks with byte ranges
    shard = zarr_python(root / "shard", make_data((8, 6), "<i4", seed=3), zarr_format=3, chunks=(2, 2),
                        shards=(4, 8), compressors=None)
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    return files, {"v2": v2, "shard": shard}


@pytest.fixture(scope="module")
def server(dataset):
    srv = FaultServer(dataset[0], stall_seconds=5).start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(server):
    server.clear()
    yield server
    server.clear()


# ------------------------------------------------------------------------------------ the six reads

def _store_read(method, key, *args):
    def read(url, data):
        store = HttpStore(url, **OPTIONS)
        value = asyncio.run(getattr(store, method)(key, *args))
        if value is not None:
            whole = data[key]
            want = whole if method == "get" else (whole[args[0]:] if args[0] < 0 else whole[args[0]:args[0] + args[1]])
            assert value == want, f"{method}: wrong bytes"
        return value
    return read


def _open_read(path):
    def read(url, data):
        return zarrlite.open(url, path, **OPTIONS)[...]
    return read


READS = {
    # name: (key the fault is put on, the read)
    "HttpStore.get": ("v2/0.0", _store_read("get", "v2/0.0")),
    "HttpStore.get_range": ("v2/0.0", _store_read("get_range", "v2/0.0", 2, 5)),
    "HttpStore suffix range": ("v2/0.0", _store_read("get_range", "v2/0.0", -8, 8)),
    "open: metadata": ("v2/.zarray", _open_read("v2")),
    "open: v2 chunk": ("v2/1.1", _open_read("v2")),
    "open: v3 shard ranges": ("shard/c/0/0", _open_read("shard")),
}
RANGED = {"HttpStore.get_range", "HttpStore suffix range", "open: v3 shard ranges"}
STALL_READS = {"HttpStore.get", "HttpStore suffix range", "open: v3 shard ranges"}
TRANSIENT = ("500", "503", "429", "reset", "close", "truncate", "reset-body", "stall")
MATRIX: dict = collections.defaultdict(dict)


def run_read(srv, dataset, read_name):
    key, read = READS[read_name]
    box = within(WATCHDOG, lambda: read(srv.url, dataset[0]))
    return key, box


def describe(box, truth_ok) -> str:
    if "error" in box:
        e = box["error"]
        return f"{type(e).__name__}" if isinstance(e, zarrlite.ZarrliteError) else f"!! {type(e).__name__}: {e}"
    return "ok" if truth_ok else "ok (missing: fill)"


def _truth_ok(read_name, value, dataset):
    if read_name.startswith("open:") and value is not None:
        truth = dataset[1]["shard" if "shard" in read_name else "v2"]
        return np.array_equal(value, truth)
    return value is not None


def _record(fault, mode, read_name, box, dataset, srv, key):
    outcome = describe(box, _truth_ok(read_name, box.get("value"), dataset))
    MATRIX[(fault, mode)][read_name] = f"{outcome}, {srv.requests(key)} req"
    return outcome


def _assert_store_error(box, srv, key, *needles):
    e = box.get("error")
    assert isinstance(e, zarrlite.StoreError), f"expected a StoreError, got {e!r} / {box.get('value')!r}"
    message = str(e)
    assert f"{srv.url}/{key}" in message, f"the URL is not named: {message}"
    assert any(n in message for n in needles), f"the cause ({needles}) is not named: {message}"


# ------------------------------------------------------------------------------------------ the tests

@pytest.mark.parametrize("read_name", list(READS))
@pytest.mark.parametrize("fault", TRANSIENT)
def test_transient_fault_is_retried(srv, dataset, fault, read_name):
    key = READS[read_name][0]
    srv.inject(fault, match=key, times=1)
    key, box = run_read(srv, dataset, read_name)
    outcome = _record(fault, "once", read_name, box, dataset, srv, key)
    assert outcome == "ok", box.get("error")
    assert srv.requests(key) >= 2  # the fault, then the retry


CAUSES = {"500": ("HTTP 500",), "503": ("HTTP 503",), "429": ("HTTP 429",),
          "reset": ("ConnectionResetError", "RemoteDisconnected", "Connection reset", "BrokenPipe"),
          "close": ("RemoteDisconnected",), "truncate": ("IncompleteRead", "truncated"),
          "reset-body": ("IncompleteRead", "ConnectionResetError", "Connection reset"),
          "stall": (f"timed out after {TIMEOUT:g} s",)}


@pytest.mark.parametrize("read_name", list(READS))
@pytest.mark.parametrize("fault", TRANSIENT)
def test_persistent_fault_is_a_store_error(srv, dataset, fault, read_name):
    if fault == "stall" and read_name not in STALL_READS:
        pytest.skip("a persistent stall costs (retries + 1) x timeout: three reads show it")
    key = READS[read_name][0]
    srv.inject(fault, match=key)
    key, box = run_read(srv, dataset, read_name)
    _record(fault, "always", read_name, box, dataset, srv, key)
    _assert_store_error(box, srv, key, *CAUSES[fault])
    assert f"gave up after {RETRIES + 1} tries" in str(box["error"])
    assert srv.requests(key) == RETRIES + 1  # bounded: no more tries than configured


@pytest.mark.parametrize("read_name", list(READS))
@pytest.mark.parametrize("status", ["400", "401", "418"])
def test_other_status_fails_at_once(srv, dataset, status, read_name):
    key = READS[read_name][0]
    srv.inject(status, match=key)
    key, box = run_read(srv, dataset, read_name)
    _record(status, "always", read_name, box, dataset, srv, key)
    _assert_store_error(box, srv, key, f"HTTP {status}")
    assert srv.requests(key) == 1


@pytest.mark.parametrize("read_name", list(READS))
@pytest.mark.parametrize("status", ["404", "403"])
def test_missing_status_means_missing(srv, dataset, status, read_name):
    key = READS[read_name][0]
    srv.inject(status, match=key)
    key, box = run_read(srv, dataset, read_name)
    _record(status, "always", read_name, box, dataset, srv, key)
    if read_name == "open: metadata":
        assert isinstance(box.get("error"), zarrlite.NotFoundError), box
    else:
        assert "error" not in box, box["error"]
        if read_name.startswith("open:"):  # the missing chunk / shard reads as the fill value
            value, truth = box["value"], dataset[1]["shard" if "shard" in read_name else "v2"]
            assert value.shape == truth.shape and not np.array_equal(value, truth) and (value == 0).any()
        else:
            assert box["value"] is None


@pytest.mark.parametrize("read_name", list(READS))
@pytest.mark.parametrize("mode", ["once", "always"])
def test_ignored_range_still_gives_the_right_bytes(srv, dataset, mode, read_name):
    key = READS[read_name][0]
    srv.inject("ignore-range", match=key, times=1 if mode == "once" else None)
    key, box = run_read(srv, dataset, read_name)
    assert _record("ignore-range", mode, read_name, box, dataset, srv, key) == "ok", box.get("error")


@pytest.mark.parametrize("read_name", list(READS))
def test_wrong_content_range_is_an_error(srv, dataset, read_name):
    key = READS[read_name][0]
    srv.inject("bad-content-range", match=key)
    key, box = run_read(srv, dataset, read_name)
    outcome = _record("bad-content-range", "always", read_name, box, dataset, srv, key)
    if read_name in RANGED:
        _assert_store_error(box, srv, key, "Content-Range")
        assert "206" in str(box["error"])
    else:  # whole-key reads send no Range: nothing to get wrong
        assert outcome == "ok", box.get("error")


def test_stall_times_out_in_bounded_time(srv, dataset):
    """A server that never answers: the read ends after (retries + 1) x timeout plus back-off."""
    srv.inject("stall")
    box = within(WATCHDOG, lambda: zarrlite.open(srv.url, "v2", timeout=1, retries=2, backoff=BACKOFF))
    _assert_store_error(box, srv, "v2/", "timed out after 1 s")
    assert 3 <= box["seconds"] < 3 + 2, box["seconds"]


def test_a_kept_connection_closed_as_the_request_arrives_is_tried_again_at_once(srv, dataset):
    """The server closes a kept connection without an answer (as when its keep-alive time-out crosses
    the request): the next try goes at once on a new connection, not after the back-off."""
    files = dataset[0]
    first, second = "v2/.zarray", "v2/0.0"

    async def two_reads():
        store = HttpStore(srv.url, retries=1, timeout=TIMEOUT, backoff=60.0)
        await store.get(first)                           # its connection is kept
        srv.inject("close", match=second, times=1)
        return await store.get(second)                   # on the kept connection, which the server closes
    box = within(WATCHDOG, lambda: asyncio.run(two_reads()))
    assert "error" not in box, box.get("error")
    assert box["value"] == files[second] and srv.requests(second) == 2


def test_default_options_retry_and_bound(srv, dataset):
    """Without options: a flaky server (two 503s on every key) still reads, with default retries."""
    for key in dataset[0]:
        srv.inject("503", match=key, times=2)
    box = within(60, lambda: zarrlite.open(srv.url, "v2", backoff=BACKOFF)[...])
    assert "error" not in box, box["error"]
    np.testing.assert_array_equal(box["value"], dataset[1]["v2"])


def test_fault_matrix(capsys):
    """Prints the fault x read -> outcome table of this run (shown with pytest -s)."""
    if not MATRIX:
        pytest.skip("run with the rest of the module")
    bad = {cell for row in MATRIX.values() for cell in row.values() if cell.startswith("!!")}
    lines = ["| fault | when | " + " | ".join(READS) + " |", "|---|---|" + "---|" * len(READS)]
    for (fault, mode), row in sorted(MATRIX.items()):
        lines.append(f"| {fault} | {mode} | " + " | ".join(row.get(r, "") for r in READS) + " |")
    with capsys.disabled():
        print("\n\nfault matrix (outcome, requests for the faulty key)\n" + "\n".join(lines))
    assert not bad, bad


@pytest.mark.parametrize("read_name", list(READS))
def test_other_bytes_of_the_same_length_are_an_error(srv, dataset, read_name):
    """A 206 with as many bytes as asked, but from elsewhere (its Content-Range says so): refused; a raw
    inner chunk read from it would otherwise be another chunk's values."""
    key = READS[read_name][0]
    srv.inject("other-range", match=key)
    key, box = run_read(srv, dataset, read_name)
    outcome = _record("other-range", "always", read_name, box, dataset, srv, key)
    if read_name in RANGED:
        _assert_store_error(box, srv, key, "Content-Range")
        assert "206" in str(box["error"]) and srv.requests(key) == 1
    else:
        assert outcome == "ok", box.get("error")


@pytest.mark.parametrize("read_name", list(READS))
def test_206_without_content_range_is_read_when_its_length_is_the_asked_one(srv, dataset, read_name):
    """As from a cross-origin server that does not expose Content-Range to the browser: every range
    zarrlite asks for has a definite length (a start and a length, or a suffix), so the answer is used
    when it has exactly that length (see http_rules.py)."""
    key = READS[read_name][0]
    srv.inject("no-content-range", match=key)
    key, box = run_read(srv, dataset, read_name)
    assert _record("no-content-range", "always", read_name, box, dataset, srv, key) == "ok", box.get("error")


def test_206_without_content_range_for_an_open_range_is_an_error(srv, dataset):
    srv.inject("no-content-range", match="v2/0.0")
    box = within(WATCHDOG, lambda: asyncio.run(HttpStore(srv.url, **OPTIONS).get_range("v2/0.0", 3, None)))
    _assert_store_error(box, srv, "v2/0.0", "without a valid Content-Range")


def test_headers_reach_the_server(srv, dataset):
    box = within(WATCHDOG, lambda: zarrlite.open(srv.url, "v2", headers={"X-Zarrlite-Test": "yes"}, **OPTIONS))
    assert "error" not in box, box["error"]
    assert srv.header_values("X-Zarrlite-Test") and set(srv.header_values("X-Zarrlite-Test")) == {"yes"}, srv.log


def test_403_chunks_read_as_fill_but_are_counted_and_warned_once_per_store(srv, dataset):
    """403 stays "missing" (buckets without list permission), but an expired signed URL must not pass
    for chunks never written: the store counts the keys and warns once (metadata probes answered 403,
    as such buckets answer every absent document, are not counted)."""
    srv.inject("403", match="v2/1.")  # the second row of chunks: 1.0, 1.1, 1.2
    srv.inject("403", match=".zattrs")

    def read_twice():
        with pytest.warns(zarrlite.ZarrliteWarning) as caught:
            arr = zarrlite.open(srv.url, "v2", **OPTIONS)
            first, second = arr[...], arr[:, :3]
        return arr, first, second, [w for w in caught if issubclass(w.category, zarrlite.ZarrliteWarning)]

    box = within(WATCHDOG, read_twice)
    assert "error" not in box, box["error"]
    arr, first, second, caught = box["value"]
    truth = dataset[1]["v2"]
    np.testing.assert_array_equal(first[:4], truth[:4])
    assert (first[4:] == 0).all() and (second[4:] == 0).all()  # the fill value
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert "403" in str(caught[0].message) and srv.url in str(caught[0].message)
    assert arr.store.forbidden.count == 3
    assert sorted(arr.store.forbidden.keys) == ["v2/1.0", "v2/1.1", "v2/1.2"]


    def read_with_another_store():
        with pytest.warns(zarrlite.ZarrliteWarning, match="403"):
            return zarrlite.open(srv.url, "v2", **OPTIONS)[...]
    other = within(WATCHDOG, read_with_another_store)  # another store warns again
    assert "error" not in other, other["error"]


def test_404_chunks_are_not_counted(srv, dataset):
    srv.inject("404", match="v2/1.")
    box = within(WATCHDOG, lambda: (lambda a: (a, a[...]))(zarrlite.open(srv.url, "v2", **OPTIONS)))
    assert "error" not in box, box["error"]
    assert box["value"][0].store.forbidden.count == 0
