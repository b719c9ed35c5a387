"""Reads in a process forked after the parent has read (multiprocessing's default start method on Linux
before Python 3.14): the child has none of the parent's threads and shares its sockets, so it must make
its own loop, CPU and request threads, and connections. A read that hangs fails here within 60 s."""

from __future__ import annotations

import multiprocessing
import sys

import numpy as np
import pytest
import zarr

import zarrlite
from httpserver import RangeHTTPServer
from writers import make_data, zarr_python

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork, as multiprocessing does on Linux")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("fork")
    truth = zarr_python(root / "a", make_data((8, 6), "<u2", seed=11), zarr_format=3, chunks=(4, 3),
                        compressors=[zarr.codecs.ZstdCodec(level=1)])
    server = RangeHTTPServer()
    server.start()
    yield server, server.mount("data", root), str(root), truth
    server.stop()


def _read(source):
    return zarrlite.open(source, "a")[...]


def test_a_forked_child_reads_after_its_parent_has(served):
    server, url, local, truth = served
    np.testing.assert_array_equal(_read(url), truth)      # the parent's threads and kept connections
    np.testing.assert_array_equal(_read(local), truth)    # ... and its CPU threads
    before = server.stats.connections
    with multiprocessing.get_context("fork").Pool(1) as pool:
        over_http, from_disk = pool.apply_async(_read, (url,)), pool.apply_async(_read, (local,))
        np.testing.assert_array_equal(over_http.get(timeout=60), truth)
        np.testing.assert_array_equal(from_disk.get(timeout=60), truth)
    assert server.stats.connections > before, "the child used a connection it shares with its parent"
    np.testing.assert_array_equal(_read(url), truth)      # and the parent's own still work
