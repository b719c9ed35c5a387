"""Coordinates and CF values of labelled arrays (zarrlite.cftime_decode, coords, cf_values, coords_api):
every expectation is what xarray (with cftime) decodes from the same store, or numpy on the raw values."""

from __future__ import annotations

import asyncio
import sys
import warnings
from pathlib import Path

import cftime
import numpy as np
import pytest
import xarray as xr
import zarr

import zarrlite
from zarrlite.cftime_decode import decode_times, iso
from zarrlite.coords import INLINE_LABELS, MAX_LABELS, choose_ticks, coordinate_labels, coordinate_ticks, nice_step
from zarrlite.coords_api import decoded_read, profile_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from make_samples_climate import SST_FILL, dataset, land, write_climate  # noqa: E402

CALENDARS = ["standard", "gregorian", "proleptic_gregorian", "julian", "noleap", "365_day", "all_leap",
             "366_day", "360_day"]


def run(coro):
    return asyncio.run(coro)


def text_of(v) -> str:
    """xarray's decoded time as ISO text: datetime64 to seconds (fractions when any), cftime isoformat."""
    if isinstance(v, np.datetime64):
        s = str(np.datetime_as_string(v.astype("datetime64[us]"), unit="us"))
        head, _, frac = s.partition(".")
        return head + (f".{frac}" if frac.strip("0") else "")
    return v.isoformat()


def write(ds, path, zarr_format):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.to_zarr(path, mode="w", zarr_format=zarr_format, consolidated=True)
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("climate")
    write_climate(out)
    return out


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("calendar", CALENDARS)
@pytest.mark.parametrize("units,values", [
    ("hours since 2001-01-01", np.arange(0, 24 * 800, 6)),
    ("days since 1850-01-01 12:00:00", np.arange(0, 60000, 37)),
    ("seconds since 1999-12-30T23:00:00Z", np.arange(0, 10 ** 8, 86_399 * 7)),
])
def test_cf_time_labels_equal_xarray(tmp_path, zarr_format, calendar, units, values):
    ds = xr.Dataset({"v": (("time", "x"), np.zeros((values.size, 2), np.float32))},
                    coords={"time": ("time", values, {"units": units, "calendar": calendar})})
    path = write(ds, tmp_path / "t.zarr", zarr_format)
    real = calendar in ("standard", "gregorian", "proleptic_gregorian")   # datetime64 when they fit
    want = [text_of(v) for v in xr.open_zarr(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=not real)).time.values]
    g = zarrlite.open(path)
    assert run(coordinate_labels(g["time"], 0, values.size)) == want
    model = zarrlite.image_model(g["v"])
    desc = model.coordinates["dims"][0]
    assert desc["kind"] == "time" and desc["labels"] == (want if len(want) <= INLINE_LABELS else None)


@pytest.mark.parametrize("calendar", CALENDARS)
def test_cf_time_before_1582_equals_cftime(calendar):
    # the standard calendar is Julian before 1582-10-15: the dates cftime gives, not numpy's proleptic ones
    values = np.arange(-400_000, 400_000, 997)
    units = "days since 1582-10-15"
    want = [d.isoformat() for d in cftime.num2date(values, units, calendar=calendar)]
    assert [iso(d) for d in decode_times(values, units, calendar)] == want


def test_cf_time_refuses_months_and_unknown_calendars():
    with pytest.raises(zarrlite.ZarrliteError, match="units"):
        decode_times(np.arange(3), "months since 2000-01-01", "360_day")
    with pytest.raises(zarrlite.ZarrliteError, match="calendar"):
        decode_times(np.arange(3), "days since 2000-01-01", "martian")


def test_datetime64_coordinate(tmp_path):
    times = np.datetime64("2020-02-28T18:00", "ns") + np.arange(10).astype("timedelta64[6h]")
    ds = xr.Dataset({"v": (("time", "x"), np.zeros((10, 3), np.float32))}, coords={"time": times})
    ds.time.encoding = {"dtype": "datetime64[ns]"}   # Zarr's own datetime64, not CF numbers
    path = write(ds, tmp_path / "d.zarr", 3)
    g = zarrlite.open(path)
    assert np.dtype(g["time"].dtype).kind == "M"
    assert run(coordinate_labels(g["time"], 0, 10)) == [text_of(v) for v in xr.open_zarr(path).time.values]


@pytest.mark.parametrize("name", ["climate.zarr", "climate-v2.zarr"])
def test_sample_coordinates_and_labels_equal_xarray(sample, name):
    path = sample / name
    ds = xr.open_zarr(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))
    g = zarrlite.open(path)
    for var, tname in (("tas", "time"), ("sst", "model_time")):
        model = zarrlite.image_model(g[var])
        dims = model.coordinates["dims"]
        assert [d["name"] for d in dims] == list(ds[var].dims) == [tname, "lat", "lon"]
        assert [d["kind"] for d in dims] == ["time", "latitude", "longitude"]
        assert model.axes[0].type == "time" and model.default_index[0] == 0   # a time axis starts at the first
        assert dims[0]["labels"] == [text_of(v) for v in ds[tname].values]
        assert dims[1]["labels"] == [f"{abs(v):.10g}°{'S' if v < 0 else 'N'}" for v in ds.lat.values]
        assert dims[2]["labels"] == [f"{v:.10g}°E" for v in ds.lon.values]
        assert (model.cf["longName"], model.cf["units"]) == (ds[var].attrs["long_name"], ds[var].attrs["units"])
    assert ds.model_time.values[0].calendar == "noleap"


@pytest.mark.parametrize("name", ["climate.zarr", "climate-v2.zarr"])
@pytest.mark.parametrize("var", ["tas", "sst"])
def test_packed_values_equal_xarray(sample, name, var):
    path = sample / name
    want = xr.open_zarr(path)[var][100:103].values
    got = run(decoded_read(zarrlite.open(path)[var], "100:103,:,:"))
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    if var == "sst":   # the land mask is what is missing, and only that
        assert np.array_equal(np.isnan(got[0]), land(ds_lat(path), ds_lon(path)))
        raw = zarr.open_array(str(path / var), mode="r")[100]
        assert np.array_equal(raw == SST_FILL, np.isnan(got[0]))


def ds_lat(path):
    return xr.open_zarr(path).lat.values


def ds_lon(path):
    return xr.open_zarr(path).lon.values


def test_valid_range_and_missing_value_mask_in_packed_units(tmp_path):
    raw = np.arange(-10, 30, dtype=np.int16).reshape(4, 10)
    a = zarr.create_array(str(tmp_path / "v.zarr"), shape=raw.shape, dtype="int16", chunks=(2, 5), zarr_format=3,
                          attributes={"scale_factor": 0.5, "add_offset": 100.0, "valid_range": [-5, 20],
                                      "missing_value": 7})
    a[:] = raw
    got = run(decoded_read(zarrlite.open(tmp_path / "v.zarr"), ":,:"))
    want = raw * 0.5 + 100.0
    want = np.where((raw < -5) | (raw > 20) | (raw == 7), np.nan, want)
    np.testing.assert_array_equal(got, want.astype(np.float32))


def test_v2_null_fill_value_masks_nothing_and_plain_images_are_raw(tmp_path):
    # an xarray v2 array whose fill_value is null reads 0 where unwritten: 0 is data, not missing
    ds = xr.Dataset({"v": (("y", "x"), np.array([[0, 1], [2, 3]], np.int16))})
    ds.v.encoding = {"_FillValue": None}
    path = write(ds, tmp_path / "n.zarr", 2)
    got = run(decoded_read(zarrlite.open(path)["v"], ":,:"))
    np.testing.assert_array_equal(got, xr.open_zarr(path).v.values)
    # an array of no xarray dataset (no _ARRAY_DIMENSIONS) with fill 0: nothing decoded, no coordinates
    z = zarr.create_array(str(tmp_path / "img.zarr"), shape=(4, 4), dtype="uint16", chunks=(2, 2), zarr_format=2,
                          fill_value=0)
    z[:] = np.arange(16).reshape(4, 4)
    m = zarrlite.image_model(zarrlite.open(tmp_path / "img.zarr"))
    assert m.cf is None and m.coordinates is None


def test_long_coordinate_is_not_shipped_whole(tmp_path):
    n = 10 ** 7
    g = zarr.open_group(str(tmp_path / "long.zarr"), mode="w", zarr_format=3)
    x = g.create_array("x", shape=(n,), dtype="float64", chunks=(10 ** 6,), dimension_names=["x"],
                       attributes={"units": "m"})
    x[:] = np.arange(n) * 0.25
    v = g.create_array("v", shape=(2, n), dtype="uint8", chunks=(2, 10 ** 6), dimension_names=["y", "x"])
    z = zarrlite.open(tmp_path / "long.zarr")
    desc = zarrlite.image_model(z["v"]).coordinates["dims"][1]
    assert desc["labels"] is None and desc["size"] == n and v.shape[1] == n
    assert run(coordinate_labels(z["x"], 5_000_000, 5_000_003)) == ["1250000 m", "1250000.25 m", "1250000.5 m"]
    with pytest.raises(zarrlite.ZarrliteError, match="at most"):
        run(coordinate_labels(z["x"], 0, MAX_LABELS + 1))
    ticks = run(coordinate_ticks(z["x"], 4_000_000, 4_004_000, 5))   # values 1e6 .. 1.001e6
    values = [1_000_000 + 200 * k for k in range(5)]
    assert [t["at"] for t in ticks] == pytest.approx([(v / 0.25) + 0.5 for v in values])


def test_choose_ticks_round_values_at_interpolated_positions():
    assert nice_step(87, 5) == 20 and nice_step(0.9, 6) == 0.2 and nice_step(1000, 4) == 500
    lat = np.arange(87.5, -90, -5.0)
    ticks = choose_ticks(np.arange(36) + 0.5, lat, 9)
    assert [v for _, v in ticks] == [-80, -60, -40, -20, 0, 20, 40, 60, 80]
    for at, v in ticks:   # where lat == v on a grid of cell centres 5 degrees apart, north first
        assert at == pytest.approx((87.5 - v) / 5 + 0.5)
    assert choose_ticks(np.arange(4), np.array([0, 2, 1, 3.0])) == []   # not monotonic: no ticks


@pytest.mark.parametrize("name", ["climate.zarr", "climate-v2.zarr"])
def test_profile_equals_xarray_series(sample, name):
    path = sample / name
    ds = xr.open_zarr(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))
    g = zarrlite.open(path)
    y, x = 20, 9     # an ocean pixel, then a land one (all missing)
    for var, tname in (("tas", "time"), ("sst", "model_time")):
        for yy, xx in ((y, x), (10, 21)):
            p = run(profile_of(g[var], g, [0, yy, xx], 0))
            want = ds[var][:, yy, xx].values
            np.testing.assert_allclose(p["values"], want, rtol=1e-6, equal_nan=True)
            assert p["labels"] == [text_of(v) for v in ds[tname].values]
            assert p["xName"] == tname and p["units"] == ds[var].attrs["units"]
    assert np.isnan(run(profile_of(g["sst"], g, [0, 10, 21], 0))["values"]).all()
    assert land(ds.lat.values, ds.lon.values)[10, 21] and not land(ds.lat.values, ds.lon.values)[20, 9]
    along_lon = run(profile_of(g["tas"], g, [7, 3, 0], 2))
    np.testing.assert_allclose(along_lon["values"], ds.tas[7, 3, :].values, rtol=1e-6)
    assert along_lon["numbers"] == ds.lon.values.tolist()


def test_sample_dataset_is_what_the_module_says():
    ds = dataset()
    assert ds.sizes == {"time": 1460, "model_time": 1460, "lat": 36, "lon": 72}
    assert ds.sst.encoding["_FillValue"] == SST_FILL


@pytest.mark.parametrize("name", ["climate.zarr", "climate-v2.zarr"])
def test_dataset_view_lists_what_xarray_lists(sample, name):
    from zarrlite.dataset import dataset_of

    path = sample / name
    ds = xr.open_zarr(path)
    view = run(dataset_of(zarrlite.open(path)))
    assert sorted(v["name"] for v in view["variables"]) == sorted(ds.data_vars)
    assert sorted(c["name"] for c in view["coordinates"]) == sorted(ds.coords)
    for v in view["variables"] + view["coordinates"]:
        assert v["dims"] == list(ds[v["name"]].dims) and v["shape"] == list(ds[v["name"]].shape)
        x = ds[v["name"]]   # a decoded time keeps its CF units in the encoding
        assert (v["units"], v["longName"]) == (x.attrs.get("units", x.encoding.get("units")), x.attrs.get("long_name"))
    assert {k: view["attrs"][k] for k in ds.attrs} == ds.attrs


def test_groups_of_no_dataset_have_no_dataset_view(tmp_path):
    from zarrlite.dataset import dataset_of

    g = zarr.open_group(str(tmp_path / "plain.zarr"), mode="w", zarr_format=3)
    g.create_array("a", shape=(4, 4), dtype="uint8", chunks=(2, 2))          # no dimension names
    assert run(dataset_of(zarrlite.open(tmp_path / "plain.zarr"))) is None
    ome = zarr.open_group(str(tmp_path / "img.zarr"), mode="w", zarr_format=3, attributes={"ome": {
        "version": "0.5", "multiscales": [{"axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                                           "datasets": [{"path": "0", "coordinateTransformations": [
                                               {"type": "scale", "scale": [1.0, 1.0]}]}]}]}})
    ome.create_array("0", shape=(4, 4), dtype="uint8", chunks=(2, 2), dimension_names=["y", "x"])
    assert run(dataset_of(zarrlite.open(tmp_path / "img.zarr"))) is None


def test_profile_csv_rows(sample):
    import csv
    import io

    path = sample / "climate.zarr"
    p = run(profile_of(zarrlite.open(path)["sst"], zarrlite.open(path), [0, 10, 21], 0))
    rows = list(csv.reader(io.StringIO(p["csv"])))
    assert rows[0] == ["model_time", "Sea surface temperature (degC)"]
    assert len(rows) == 1461 and all(r[1] == "" for r in rows[1:])    # a land pixel: all missing
    q = run(profile_of(zarrlite.open(path)["tas"], zarrlite.open(path), [0, 20, 9], 0))
    rows = list(csv.reader(io.StringIO(q["csv"])))[1:]
    want = xr.open_zarr(path).tas[:, 20, 9].values
    assert [r[0] for r in rows] == [text_of(v) for v in xr.open_zarr(path).time.values]
    np.testing.assert_allclose([float(r[1]) for r in rows], want, rtol=1e-6)
