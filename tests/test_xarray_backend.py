"""xr.open_dataset / xr.open_datatree with engine="zarrlite", against engine="zarr" on the same stores written
by xarray itself (to_zarr, Zarr v2 and v3, CF-encoded variables, coordinates, attributes), local and over HTTP;
N5 written by tensorstore against numpy on the data written."""

from __future__ import annotations

import asyncio
import json
import warnings

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")

import zarrlite  # noqa: E402
from writers import assert_same, make_data, smooth_data, ts_n5  # noqa: E402
from zarrlite.xarray_backend import ZarrliteBackendEntrypoint  # noqa: E402

FORMATS = [2, 3]


def climate() -> xr.Dataset:
    """A small dataset with what CF encoding touches: packed integers with a fill value, NaN, times,
    time deltas, a non-dimension coordinate, booleans, attributes of several JSON types."""
    rng = np.random.default_rng(7)
    temp = (280 + 10 * rng.standard_normal((8, 6, 5))).astype("f4")
    temp[0, 0, 0] = np.nan
    ds = xr.Dataset(
        {
            "temp": (("time", "y", "x"), temp, {"units": "K", "long_name": "air temperature", "valid": [1, 2]}),
            "precip": (("time", "y", "x"), rng.random((8, 6, 5)), {"units": "mm"}),
            "mask": (("y", "x"), rng.random((6, 5)) > 0.5),
            "count": (("y", "x"), np.arange(30, dtype="i2").reshape(6, 5)),
            "lag": (("time",), pd.to_timedelta(np.arange(8), unit="h").values),
        },
        coords={
            "time": pd.date_range("2021-03-01", periods=8, freq="6h"),
            "y": np.linspace(-10, 10, 6),
            "x": [100, 110, 120, 130, 140],
            "station": (("y", "x"), np.arange(30, dtype="i4").reshape(6, 5), {"kind": "id"}),
        },
        attrs={"title": "test", "version": 3, "scale": 0.5, "tags": ["a", "b"], "nested": {"k": 1}},
    )
    ds["temp"].encoding = {"dtype": "i2", "scale_factor": 0.01, "add_offset": 280.0, "_FillValue": -32768,
                           "chunks": (4, 3, 5)}
    ds["precip"].encoding = {"chunks": (2, 6, 5)}
    ds["time"].encoding = {"units": "hours since 2021-01-01", "calendar": "standard"}
    return ds


@pytest.fixture(scope="module")
def stores(fixture_dir, http_server):
    root = fixture_dir("xarray-stores")
    ds = climate()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr-python's note that v3 consolidated metadata is not in the spec
        for fmt in FORMATS:
            ds.to_zarr(root / f"v{fmt}.zarr", zarr_format=fmt, mode="w")
            ds.to_zarr(root / f"v{fmt}-plain.zarr", zarr_format=fmt, mode="w", consolidated=False)
        sharded = ds.copy()
        sharded["precip"].encoding = {"chunks": (2, 3, 5), "shards": (4, 6, 5)}
        sharded.to_zarr(root / "sharded.zarr", zarr_format=3, mode="w")
    return {"root": root, "url": http_server.mount("xarray", root), "ds": ds, "server": http_server}


def assert_as_written(ours: xr.Dataset, written: xr.Dataset):
    """Equal to what was written: exactly, but for temp, packed into int16 steps of 0.01."""
    written = written.load()
    others = [v for v in ours.data_vars if v != "temp"]
    xr.testing.assert_identical(ours.drop_vars("temp", errors="ignore"), written[others])
    if "temp" in ours:
        np.testing.assert_allclose(ours["temp"].values, written["temp"].values, atol=0.0051, rtol=0)


def source(stores, where, name):
    return f"{stores['url']}/{name}" if where == "http" else str(stores["root"] / name)


def both(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (xr.open_dataset(path, engine="zarr", **kwargs), xr.open_dataset(path, engine="zarrlite", **kwargs))


def test_the_entry_point_is_registered():
    assert "zarrlite" in xr.backends.list_engines()
    assert isinstance(xr.backends.list_engines()["zarrlite"], ZarrliteBackendEntrypoint)


CONSOLIDATED = ("v2.zarr", "v3.zarr", "sharded.zarr")


@pytest.mark.parametrize("where, name", [(w, n) for w in ("local", "http") for n in CONSOLIDATED]
                         + [("local", "v2-plain.zarr"), ("local", "v3-plain.zarr")])  # plain HTTP cannot list
def test_identical_to_the_zarr_engine_after_decoding(stores, where, name):
    path = source(stores, where, name)
    theirs, ours = both(path) if where == "local" else (both(source(stores, "local", name))[0], both(path)[1])
    xr.testing.assert_identical(ours.load(), theirs.load())
    assert_as_written(ours, stores["ds"])
    assert ours["temp"].dtype == np.float64 and ours["time"].dtype.kind == "M" and ours["lag"].dtype.kind == "m"
    assert ours["count"].dtype == np.int16 and ours["mask"].dtype == bool
    assert np.isnan(ours["temp"].values[0, 0, 0]) and "station" in ours.coords
    for var in ("temp", "precip", "time"):
        for key in ("scale_factor", "add_offset", "_FillValue", "units", "calendar", "dtype", "chunks", "shards"):
            assert (key in ours[var].encoding) == (key in theirs[var].encoding), (var, key)
            if key in theirs[var].encoding:
                want = theirs[var].encoding[key]
                assert np.array_equal(ours[var].encoding[key], want, equal_nan=isinstance(want, float)), (var, key)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("options", [dict(mask_and_scale=False), dict(decode_times=False),
                                     dict(decode_coords=False), dict(decode_timedelta=False),
                                     dict(drop_variables=["precip", "lag"]), dict(drop_variables="precip")])
def test_decoding_options_pass_through(stores, fmt, options):
    theirs, ours = both(source(stores, "local", f"v{fmt}.zarr"), **options)
    xr.testing.assert_identical(ours.load(), theirs.load())


@pytest.mark.parametrize("where", ["local", "http"])
def test_chunks_are_stored_chunks_or_shards_as_dask_blocks(stores, where):
    ours = xr.open_dataset(source(stores, where, "sharded.zarr"), engine="zarrlite", chunks={})
    assert ours["temp"].chunks == ((4, 4), (3, 3), (5,))
    assert ours["precip"].chunks == ((4, 4), (6,), (5,))  # a shard per block, not an inner chunk
    assert ours["precip"].encoding["chunks"] == (2, 3, 5) and ours["precip"].encoding["shards"] == (4, 6, 5)
    want = stores["ds"].load()
    assert_as_written(ours.compute(), want)
    np.testing.assert_allclose(ours["precip"].mean("time").values, want["precip"].mean("time").values)


@pytest.mark.parametrize("fmt", FORMATS)
def test_outer_and_vectorized_indexing_equal_numpy(stores, fmt):
    want = stores["ds"].load()
    ours = xr.open_dataset(source(stores, "local", f"v{fmt}.zarr"), engine="zarrlite")
    sel = dict(time=[0, 3, 4, 7], y=slice(1, 5), x=[4, 0, 0, 2])
    xr.testing.assert_identical(ours["precip"].isel(sel).load(), want["precip"].isel(sel))
    theirs = both(source(stores, "local", f"v{fmt}.zarr"))[0]
    xr.testing.assert_identical(ours["temp"].isel(time=2, x=[1, 3]).load(), theirs["temp"].isel(time=2, x=[1, 3]))
    pts = dict(y=xr.DataArray([0, 5, 2], dims="p"), x=xr.DataArray([4, 1, 1], dims="p"))
    xr.testing.assert_identical(ours["precip"].isel(pts).load(), want["precip"].isel(pts))
    xr.testing.assert_identical(ours["precip"].isel(time=slice(None, None, -3)).load(),
                                want["precip"].isel(time=slice(None, None, -3)))


def test_outer_reads_touch_only_the_chunks_selected(stores):
    server = stores["server"]
    ours = xr.open_dataset(source(stores, "http", "v3.zarr"), engine="zarrlite")
    server.stats.reset()
    got = ours["precip"].isel(time=[0, 1, 6]).values  # time chunks of 2: chunks 0 and 3, not 1 and 2
    assert_same(got, stores["ds"]["precip"].values[[0, 1, 6]])
    chunk_keys = sorted(p.rsplit("/precip/", 1)[1] for p in server.stats.paths() if "/precip/c" in p)
    assert chunk_keys == ["c/0/0/0", "c/3/0/0"], chunk_keys


def test_consolidated_metadata_is_used(stores):
    server = stores["server"]
    documents = (".zarray", ".zattrs", ".zgroup", "zarr.json")
    for name in ("v2.zarr", "v3.zarr"):
        server.stats.reset()
        ds = xr.open_dataset(source(stores, "http", name), engine="zarrlite")
        fetched = [p.split(name, 1)[1] for p in server.stats.paths()]
        members = [p for p in fetched if p.count("/") > 1 and p.endswith(documents)]
        assert not members, fetched  # no member's own metadata document: all from the consolidated one
        assert set(ds.data_vars) == {"temp", "precip", "mask", "count", "lag"}
    plain = xr.open_dataset(source(stores, "local", "v3-plain.zarr"), engine="zarrlite")  # listed instead
    assert set(plain.data_vars) == {"temp", "precip", "mask", "count", "lag"}
    with pytest.warns(zarrlite.ZarrliteWarning, match="cannot be listed"):  # plain HTTP cannot list
        assert not xr.open_dataset(source(stores, "http", "v3-plain.zarr"), engine="zarrlite").data_vars


def test_lazy_until_values_are_asked_for_and_async_loading(stores):
    server = stores["server"]
    server.stats.reset()
    ours = xr.open_dataset(source(stores, "http", "v2.zarr"), engine="zarrlite")
    assert not [p for p in server.stats.paths() if "/temp/" in p]  # dimension coordinates are read; temp not
    loaded = asyncio.run(ours[["temp", "precip"]].load_async())
    assert_as_written(loaded, stores["ds"])


def test_datatree_identical_to_the_zarr_engine(stores, fixture_dir):
    ds = stores["ds"]
    tree = xr.DataTree.from_dict({"/": ds[["count"]], "/surface": ds[["temp", "mask"]],
                                  "/surface/rain": ds[["precip"]].assign_attrs(origin="gauge")})
    root = fixture_dir("xarray-tree")
    for fmt in FORMATS:
        path = root / f"tree{fmt}.zarr"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree.to_zarr(path, zarr_format=fmt)
            theirs = xr.open_datatree(path, engine="zarr")
        ours = xr.open_datatree(path, engine="zarrlite")
        xr.testing.assert_identical(ours.load(), theirs.load())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs_sub = xr.open_datatree(path, engine="zarr", group="surface")
        xr.testing.assert_identical(xr.open_datatree(path, engine="zarrlite", group="surface").load(),
                                    theirs_sub.load())


def test_guess_can_open():
    guess = ZarrliteBackendEntrypoint().guess_can_open
    for yes in ["data.zarr", "data.zarr/", "/a/b.n5", "https://host.test/x/data.zarr?sig=1", "s3://b/k/d.ZARR/",
                "pack.zarr.zip"]:
        assert guess(yes), yes
    for no in ["data.nc", "https://host.test/data.zarr.json", "x.zarr/array", 42, b"data.zarr"]:
        assert not guess(no), no


def test_a_malformed_member_is_an_error_unless_dropped(stores, fixture_dir, tmp_path):
    import shutil

    path = tmp_path / "broken.zarr"
    shutil.copytree(stores["root"] / "v3-plain.zarr", path)
    meta = json.loads((path / "lag" / "zarr.json").read_text())
    meta["codecs"] = [{"name": "no-such-codec"}]
    (path / "lag" / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(zarrlite.ZarrliteError, match="drop_variables=\\['lag'\\]"):
        xr.open_dataset(path, engine="zarrlite")
    ours = xr.open_dataset(path, engine="zarrlite", drop_variables=["lag"])
    assert_as_written(ours.load(), stores["ds"])


def test_storage_options_are_zarrlite_open_options(stores):
    with pytest.raises(zarrlite.BudgetError):
        xr.open_dataset(source(stores, "http", "v3.zarr"), engine="zarrlite",
                        storage_options={"max_bytes": 64, "retries": 0}).load()


def test_deep_copies_do_not_open_the_source_again(stores):
    server = stores["server"]
    ours = xr.open_dataset(source(stores, "http", "v3.zarr"), engine="zarrlite")
    server.stats.reset()
    copied = ours.copy(deep=True)
    assert server.stats.requests == 0
    assert_as_written(copied.load(), stores["ds"])


# ------------------------------------------------------------------------------------------------ N5


@pytest.fixture(scope="module")
def n5(fixture_dir):
    """An N5 group written by tensorstore: a dataset with `axes`, one without, and a pyramid of two
    levels without axes on the datasets but `axes` on the group."""
    root = fixture_dir("xarray-n5")
    (root / "attributes.json").write_text(json.dumps({"n5": "2.0.0", "title": "n5 test"}))
    named = ts_n5(root / "named", smooth_data((12, 10, 6), "uint16", seed=4), block_size=(5, 4, 3),
                  data_type="uint16", compression={"type": "gzip"}, attributes={"axes": ["x", "y", "z"],
                                                                               "units": ["um", "um", "um"]})
    bare = ts_n5(root / "bare", smooth_data((12, 10), "float32", seed=5), block_size=(5, 5),
                 data_type="float32", compression={"type": "raw"})
    pyramid = root / "pyr"
    pyramid.mkdir()
    (pyramid / "attributes.json").write_text(json.dumps({"axes": ["x", "y"], "scales": [[1, 1], [2, 2]]}))
    s0 = ts_n5(pyramid / "s0", smooth_data((16, 8), "int16", seed=6), block_size=(4, 4), data_type="int16",
               compression={"type": "gzip"})
    s1 = ts_n5(pyramid / "s1", smooth_data((8, 4), "int16", seed=7), block_size=(4, 4), data_type="int16",
               compression={"type": "gzip"})
    return {"root": root, "named": named, "bare": bare, "s0": s0, "s1": s1}


def test_n5_axes_name_the_dimensions_in_c_order(n5):
    ds = xr.open_dataset(n5["root"], engine="zarrlite", chunks={})
    assert ds["named"].dims == ("z", "y", "x") and ds["named"].shape == n5["named"].shape == (6, 10, 12)
    written = json.loads((n5["root"] / "named" / "attributes.json").read_text())
    assert written["axes"] == ["x", "y", "z"] and written["units"] == ["um", "um", "um"]
    # `axes` became the dimension names; the other attributes (not N5's own keys) stay
    assert ds["named"].attrs == {k: v for k, v in written.items()
                                 if k not in ("axes", "dimensions", "blockSize", "dataType", "compression")}
    assert ds["bare"].dims == ("dim_0", "dim_1")  # no names anywhere: xarray's default names
    assert ds.attrs == {"n5": "2.0.0", "title": "n5 test"}
    assert ds["named"].chunks == ((3, 3), (4, 4, 2), (5, 5, 2))
    assert_same(ds["named"].values, n5["named"])
    assert_same(ds["bare"].values, n5["bare"])
    assert_same(ds["named"].isel(x=[0, 11], z=1).values, n5["named"][1][:, [0, 11]])


def test_n5_group_axes_name_its_datasets(n5):
    pyr = xr.open_dataset(n5["root"] / "pyr", engine="zarrlite", drop_variables=["s1"])
    assert pyr["s0"].dims == ("y", "x")
    assert_same(pyr["s0"].values, n5["s0"])
    # both levels take the group's axis names, with other lengths: not one Dataset, as xarray says
    with pytest.raises(ValueError, match="conflicting sizes"):
        xr.open_dataset(n5["root"] / "pyr", engine="zarrlite")
    # a DataTree aligns a group's dimensions with its parent's: 'named' (y: 10) and s0 (y: 8) cannot meet
    tree = xr.open_datatree(n5["root"], engine="zarrlite", drop_variables=["s1", "named"])
    assert set(tree.children) == {"pyr"} and set(tree.data_vars) == {"bare"}
    assert_same(tree["pyr"]["s0"].values, n5["s0"])


def test_n5_arrays_without_names_that_disagree_are_an_error_naming_them(tmp_path):
    (tmp_path / "attributes.json").write_text(json.dumps({"n5": "2.0.0"}))
    for name, shape in (("a", (4, 6)), ("b", (5, 6))):
        ts_n5(tmp_path / name, np.zeros(shape, "uint8"), block_size=(2, 2), data_type="uint8",
              compression={"type": "raw"})
    with pytest.raises(zarrlite.MetadataError, match="'a' and 'b' have no dimension names"):
        xr.open_dataset(tmp_path, engine="zarrlite")
    assert xr.open_dataset(tmp_path, engine="zarrlite", drop_variables="b")["a"].dims == ("dim_0", "dim_1")


# ------------------------------------------------------------------------------ strings and times


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("where", ["local", "http"])
def test_string_and_time_coordinates(fixture_dir, http_server, fmt, where):
    ds = xr.Dataset(
        {"v": (("station", "time"), np.arange(12.0).reshape(3, 4), {"units": "m"})},
        coords={"station": ["alpha", "béta", "γ"], "time": pd.date_range("2000-01-01", periods=4, freq="D"),
                "code": ("station", np.array([b"AB", b"C", b"DEF"])),
                "fixed": ("station", np.array(["x", "yy", "zzz"], dtype="U3")),
                "name": ("station", np.array(["one", "two", "three"], dtype=object))})
    root = fixture_dir(f"xarray-strings-{fmt}-{where}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.to_zarr(root / "s.zarr", zarr_format=fmt)
        theirs = xr.open_dataset(root / "s.zarr", engine="zarr").load()
    path = f"{http_server.mount(root.name, root)}/s.zarr" if where == "http" else root / "s.zarr"
    ours = xr.open_dataset(path, engine="zarrlite").load()
    xr.testing.assert_identical(ours, theirs)
    assert list(ours["station"].values) == ["alpha", "béta", "γ"]
    assert list(ours["name"].values) == ["one", "two", "three"]
    assert list(ours["code"].values) == [b"AB", b"C", b"DEF"] and ours["time"].dtype.kind == "M"
    assert ours.sel(station="béta")["v"].values.tolist() == [4.0, 5.0, 6.0, 7.0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_native_datetime_and_timedelta_arrays(tmp_path, fmt):
    """Arrays of the Zarr data types themselves (written by zarr-python, not CF-encoded by xarray)."""
    import zarr

    when = np.array(["2001-01-01T00:00:01", "2001-01-02", "NaT", "1999-12-31T23:59:59"], dtype="M8[s]")
    lag = np.array([1, 2, -3, 4], dtype="m8[ms]")
    group = zarr.open_group(tmp_path / "t.zarr", mode="w", zarr_format=fmt)
    for name, data in (("when", when), ("lag", lag)):
        arr = group.create_array(name, shape=data.shape, dtype=data.dtype, chunks=(3,),
                                 **({"dimension_names": ["t"]} if fmt == 3 else {}))
        arr[:] = data
        if fmt == 2:
            arr.attrs["_ARRAY_DIMENSIONS"] = ["t"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = xr.open_dataset(tmp_path / "t.zarr", engine="zarr", consolidated=False).load()
    ours = xr.open_dataset(tmp_path / "t.zarr", engine="zarrlite").load()
    xr.testing.assert_identical(ours, theirs)
    np.testing.assert_array_equal(ours["when"].values.astype("M8[s]"), when)
    np.testing.assert_array_equal(ours["lag"].values.astype("m8[ms]"), lag)


def test_a_zarrlite_group_opens_as_is_and_an_array_path_is_an_error(stores):
    group = zarrlite.open(source(stores, "http", "v3.zarr"))
    assert ZarrliteBackendEntrypoint().guess_can_open(group)
    theirs = both(source(stores, "local", "v3.zarr"))[0]
    xr.testing.assert_identical(xr.open_dataset(group, engine="zarrlite").load(), theirs.load())
    with pytest.raises(zarrlite.ZarrliteError, match="is an array, not a group"):
        xr.open_dataset(source(stores, "local", "v3.zarr"), engine="zarrlite", group="temp")


def test_unnamed_v3_dimensions_take_default_names(tmp_path):
    import zarr

    group = zarr.open_group(tmp_path / "u.zarr", mode="w", zarr_format=3)
    data = make_data((4, 3), "float32", seed=8)
    arr = group.create_array("a", shape=data.shape, dtype=data.dtype, chunks=(2, 2), dimension_names=[None, "x"])
    arr[:] = data
    ds = xr.open_dataset(tmp_path / "u.zarr", engine="zarrlite")
    assert ds["a"].dims == ("dim_0", "x")
    assert_same(ds["a"].values, data)
