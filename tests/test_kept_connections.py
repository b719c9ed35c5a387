"""Connections kept between requests (stores/kept_connections.py), against a real HTTP/1.1 server on
127.0.0.1 that counts the connections it accepts: a store opened anew reuses the ones an earlier store
left idle; ones the server ended meanwhile cost no back-off (a kept connection closed as the request
arrives, and that tries stay bounded, are test_faults.py's); one idle for too long is not used."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import zarrlite
from httpserver import RangeHTTPServer
from hang_watch import within
from writers import make_data, zarr_python
from zarrlite.stores import kept_connections


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("kept")
    truth = zarr_python(root / "a", make_data((8, 6), "<u2", seed=5), zarr_format=3, chunks=(4, 6),
                        compressors=[zarr.codecs.GzipCodec(level=1)])
    server = RangeHTTPServer()
    server.start()
    url = server.mount("data", root)
    yield server, f"{url}/a", truth
    server.stop()


@pytest.fixture
def server(served):
    srv = served[0]
    srv.stats.reset()
    return srv


def read(url, **options):
    return zarrlite.open(url, **options)[...]


def test_a_store_opened_anew_reuses_the_idle_connections(served, server):
    _, url, truth = served
    np.testing.assert_array_equal(read(url), truth)
    first = (server.stats.requests, server.stats.connections)
    np.testing.assert_array_equal(read(url), truth)
    assert server.stats.requests == 2 * first[0]
    assert server.stats.connections == first[1], "the second store opened connections of its own"


def test_connections_the_server_ended_while_idle_cost_no_wait(served, server):
    _, url, truth = served
    read(url)
    server.end_connections()   # as a keep-alive time-out does, while the store keeps them
    server.stats.reset()
    # back-off of a minute: a retry that waited for it would not be done within the watchdog's 20 s
    box = within(20, lambda: read(url, retries=1, backoff=60.0))
    assert "error" not in box, box.get("error")
    np.testing.assert_array_equal(box["value"], truth)
    assert server.stats.connections >= 1   # connected anew


def test_a_connection_idle_for_too_long_is_not_used(served, server, monkeypatch):
    _, url, truth = served
    read(url)
    before = server.stats.connections
    monkeypatch.setattr(kept_connections, "IDLE_SECONDS", -1.0)   # every kept one is now too old
    np.testing.assert_array_equal(read(url), truth)
    assert server.stats.connections > before
