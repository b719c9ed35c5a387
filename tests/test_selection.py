"""Property tests: random numpy basic selections (ints incl. negative, slices with any steps incl.
negative, Ellipsis, omitted trailing dims) on arrays in each format equal numpy's `truth[sel]`."""

from __future__ import annotations

import asyncio

import numcodecs
import numpy as np
import pytest
import zarrlite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from writers import assert_same, make_data, manual_n5, manual_zarr2, ts_zarr3, zarr_python

SHAPE = (23, 17, 9)
CHUNKS = (5, 4, 3)


@pytest.fixture(scope="module")
def written(fixture_dir):
    """name -> (root, truth): the same data in each format (some chunks missing)."""
    data = make_data(SHAPE, "<i4", seed=21)
    sharding = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(CHUNKS), "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                                {"name": "zstd", "configuration": {"level": 1}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "end"}}]
    makers = {
        "zarr2-F": lambda root: manual_zarr2(root, data, CHUNKS, order="F", compressor=numcodecs.Zlib(1),
                                             missing={(1, 1, 1)}),
        "zarr3-transpose": lambda root: zarr_python(
            root, data, zarr_format=3, chunks=CHUNKS, fill_value=-5,
            filters=[{"name": "transpose", "configuration": {"order": [2, 0, 1]}}]),
        "zarr3-sharded": lambda root: ts_zarr3(root, data, chunks=(10, 8, 6), data_type="int32", codecs=sharding,
                                               fill_value=7, missing={(1, 1, 1)}),
        "n5": lambda root: manual_n5(root, data, chunks_c=CHUNKS, data_type="int32", compression={"type": "gzip"},
                                     missing={(0, 1, 2)}),
    }
    out = {}
    for name, make in makers.items():
        root = fixture_dir(f"sel-{name}")
        out[name] = (root, make(root))
    return out


class Opened(dict):
    """name -> (zarrlite array, truth); a short repr keeps hypothesis' failure reports readable."""

    def __repr__(self):
        return f"<opened arrays {sorted(self)}>"


@pytest.fixture(scope="module")
def opened(written):
    return Opened({name: (zarrlite.open(str(root)), truth) for name, (root, truth) in written.items()})


def _index(n):
    return st.integers(-n - 4, n + 4) | st.none()


@st.composite
def basic_selection(draw, shape):
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "slice", "full"]))
        if kind == "int":
            i = draw(st.integers(-n, n - 1))
            items.append(draw(st.sampled_from([int, np.int64, np.intp]))(i))
        elif kind == "full":
            items.append(slice(None))
        else:
            step = draw(st.none() | st.integers(-6, 6).filter(bool))
            items.append(slice(draw(_index(n)), draw(_index(n)), step))
    # drop some trailing dims, or replace a run of leading/middle dims by Ellipsis
    form = draw(st.sampled_from(["all", "trailing", "ellipsis"]))
    if form == "trailing":
        items = items[:draw(st.integers(0, len(items)))]
    elif form == "ellipsis":
        a = draw(st.integers(0, len(items)))
        b = draw(st.integers(a, len(items)))
        items = items[:a] + [Ellipsis] + items[b:]
    return tuple(items) if draw(st.booleans()) or len(items) != 1 else items[0]


FORMATS = ["zarr2-F", "zarr3-transpose", "zarr3-sharded", "n5"]


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_basic_selection(opened, fmt, data):
    arr, truth = opened[fmt]
    sel = data.draw(basic_selection(SHAPE), label="selection")
    assert_same(arr[sel], np.asarray(truth[sel]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_async_get_equals_numpy(opened, data):
    arr, truth = opened["zarr3-sharded"]
    sel = data.draw(basic_selection(SHAPE), label="selection")
    assert_same(asyncio.run(arr.get(sel)), np.asarray(truth[sel]))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sel", [
    (Ellipsis,), (), (0,), (-1, -1, -1), (slice(None, None, -1),) * 3, (Ellipsis, 4), (2, Ellipsis, slice(1, 8, 3)),
    (slice(100, 200),), (slice(-100, 3),), (slice(5, 2),), (slice(None, None, 50),), (slice(22, None, -22),),
], ids=str)
def test_edge_case_selections(opened, fmt, sel):
    arr, truth = opened[fmt]
    assert_same(arr[sel], np.asarray(truth[sel]))


@pytest.mark.parametrize("sel", [(23,), (0, -18), (0, 0, 9), (0, 0, 0, 0), (slice(None, None, 0),),
                                 (Ellipsis, Ellipsis), (1.5,), ("a",)], ids=str)
def test_invalid_selection_raises(opened, sel):
    arr, _ = opened["zarr3-sharded"]
    with pytest.raises(zarrlite.errors.SelectionError):
        arr[sel]


def test_out_of_bounds_is_also_an_index_error(opened):
    arr, _ = opened["zarr2-F"]
    with pytest.raises(IndexError):
        arr[23]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_selection_1d(fixture_dir, data):
    arr, truth = _one_d(fixture_dir)
    sel = data.draw(basic_selection((100,)), label="selection")
    assert_same(arr[sel], np.asarray(truth[sel]))


_ONE_D = {}


def _one_d(fixture_dir):
    if "a" not in _ONE_D:
        root = fixture_dir("sel-1d")
        truth = zarr_python(root, make_data((100,), "float64", seed=22), zarr_format=2, chunks=(7,),
                            compressors=numcodecs.Blosc("lz4"), fill_value=float("nan"), missing={(3,), (14,)})
        _ONE_D["a"] = (zarrlite.open(str(root)), truth)
    return _ONE_D["a"]
