"""Outer (orthogonal) selections read by zarrlite.outer_read against numpy's `a[np.ix_(...)]` on the data
zarr-python wrote, over a local directory and over HTTP (counting the chunks fetched)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import zarrlite
from writers import make_data, zarr_python
from zarrlite.outer_read import read_outer

SHAPE, CHUNKS = (23, 17, 9), (5, 4, 3)


@pytest.fixture(scope="module")
def arrays(fixture_dir, http_server):
    root = fixture_dir("outer-read")
    truth = zarr_python(root / "a.zarr", make_data(SHAPE, "int32", seed=3), zarr_format=3, chunks=CHUNKS,
                        missing=[(1, 1, 1)])
    url = http_server.mount("outer", root)
    return {"truth": truth, "local": zarrlite.open(str(root / "a.zarr")), "http": zarrlite.open(f"{url}/a.zarr"),
            "server": http_server}


def entry(size):
    """One dimension's key: an int, a slice with a positive step, or a nondecreasing int array (what
    xarray hands a backend that supports outer indexing)."""
    ints = st.integers(0, size - 1)
    return st.one_of(
        ints,
        st.builds(slice, st.integers(0, size), st.integers(0, size), st.integers(1, 4)),
        st.lists(ints, min_size=0, max_size=8).map(lambda v: np.array(sorted(v), dtype=np.int64)),
    )


def numpy_outer(truth, key):
    """The same selection by numpy alone: arrays and slices as index lists through np.ix_, ints last."""
    lists = [np.arange(n)[k] if isinstance(k, slice) else np.atleast_1d(k) for k, n in zip(key, truth.shape)]
    out = truth[np.ix_(*lists)]
    drop = tuple(d for d, k in enumerate(key) if isinstance(k, (int, np.integer)))
    return out.reshape([n for d, n in enumerate(out.shape) if d not in drop])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.tuples(*(entry(n) for n in SHAPE)))
def test_outer_selection_equals_numpy(arrays, key):
    got = asyncio.run(read_outer(arrays["local"], key))
    want = numpy_outer(arrays["truth"], key)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_only_the_chunks_holding_selected_indices_are_fetched(arrays):
    server = arrays["server"]
    key = (np.array([0, 1, 21, 22]), slice(None), np.array([8]))
    server.stats.reset()
    got = asyncio.run(read_outer(arrays["http"], key))
    np.testing.assert_array_equal(got, numpy_outer(arrays["truth"], key))
    fetched = sorted(p.split("/a.zarr/c/", 1)[1] for p in server.stats.paths() if "/a.zarr/c/" in p)
    # dimension 0: chunks 0 and 4 (indices 0-1 and 21-22), not 1-3; all 5 along dimension 1; chunk 2 of the last
    assert fetched == sorted(f"{i}/{j}/2" for i in (0, 4) for j in range(5)), fetched


def test_out_of_bounds_is_an_error(arrays):
    with pytest.raises(zarrlite.SelectionError, match="out of bounds"):
        asyncio.run(read_outer(arrays["local"], (np.array([0, 23]), slice(None), 0)))
