"""The viewer's climate-like sample (written by web/make_sample.py), synthetic (no download), written by
xarray as a CF dataset would be:

- `climate.zarr` (Zarr v3, consolidated metadata) and `climate-v2.zarr` (the same dataset as Zarr v2):
  `tas`, near-surface air temperature (K) over `time` (6-hourly through 2001, CF units "hours since
  2001-01-01", standard calendar), and `sst`, sea surface temperature (degC) over `model_time` (the
  same steps in a model's `noleap` calendar, "days since 2001-01-01"), both on a 5-degree `lat` x `lon`
  grid, packed as int16 with `scale_factor`/`add_offset`; `sst` has a `_FillValue` over "land" (a
  synthetic mask of two continents), `tas` none.

`write_climate(out)` returns the examples menu entries; `dataset()` is what the tests compare with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STEPS = 4 * 365                           # 6-hourly, one (noleap-length) year
LAT = np.arange(87.5, -90, -5.0)          # 36 cell centres, north first (as ERA5)
LON = np.arange(0, 360, 5.0)              # 72
SST_FILL = -32767


def land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(lat, lon) bool: two elliptic "continents" and a polar cap."""
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    a = ((la - 30) / 25) ** 2 + ((lo - 100) / 40) ** 2 < 1
    b = ((la + 15) / 30) ** 2 + ((lo - 300) / 25) ** 2 < 1
    return a | b | (la < -72)


def dataset():
    """The sample as an xarray Dataset (decoded values; the encodings say how it is stored)."""
    import xarray as xr

    hours = np.arange(STEPS) * 6
    time = np.datetime64("2001-01-01T00:00", "ns") + hours.astype("timedelta64[h]")
    model_time = xr.date_range("2001-01-01", periods=STEPS, freq="6h", calendar="noleap", use_cftime=True)
    la = LAT[None, :, None]
    lo = LON[None, None, :]
    season = np.cos(2 * np.pi * (hours[:, None, None] / 24 - 15) / 365)
    day = np.cos(2 * np.pi * (hours[:, None, None] % 24) / 24 - np.radians(lo))
    tas = (288 - 40 * np.abs(np.sin(np.radians(la))) ** 1.5 - 15 * season * np.sin(np.radians(la))
           + 4 * day * np.cos(np.radians(la)) + 3 * np.sin(np.radians(3 * lo)) * np.cos(np.radians(2 * la)))
    sst = np.maximum(-1.8, 28 * np.cos(np.radians(la)) ** 2 - 2 - 4 * season * np.sin(np.radians(la))
                     + 0.5 * day)
    sst = np.where(land(LAT, LON)[None], np.nan, sst)
    ds = xr.Dataset(
        {"tas": (("time", "lat", "lon"), tas.astype(np.float32),
                 {"long_name": "Near-surface air temperature", "units": "K", "standard_name": "air_temperature"}),
         "sst": (("model_time", "lat", "lon"), sst.astype(np.float32),
                 {"long_name": "Sea surface temperature", "units": "degC", "standard_name": "sea_surface_temperature"})},
        coords={"time": ("time", time, {"long_name": "time", "standard_name": "time", "axis": "T"}),
                "model_time": ("model_time", model_time, {"long_name": "model time", "axis": "T"}),
                "lat": ("lat", LAT, {"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude"}),
                "lon": ("lon", LON, {"units": "degrees_east", "standard_name": "longitude", "long_name": "longitude"})},
        attrs={"title": "zarrlite synthetic climate sample", "Conventions": "CF-1.8",
               "source": "web/make_samples_climate.py (synthetic: no observations)"})
    chunks = (STEPS // 10, LAT.size, LON.size)
    ds.tas.encoding = {"dtype": "int16", "scale_factor": 0.01, "add_offset": 273.15, "chunks": chunks}
    ds.sst.encoding = {"dtype": "int16", "scale_factor": 0.002, "add_offset": 15.0, "_FillValue": SST_FILL,
                       "chunks": chunks}
    ds.time.encoding = {"units": "hours since 2001-01-01", "calendar": "standard", "dtype": "int32"}
    ds.model_time.encoding = {"units": "days since 2001-01-01", "calendar": "noleap", "dtype": "float64"}
    return ds


def write_climate(out: Path) -> list[dict]:
    import warnings

    ds = dataset()
    with warnings.catch_warnings():   # consolidated metadata is not part of the v3 spec: that is known
        warnings.simplefilter("ignore")
        ds.to_zarr(out / "climate.zarr", mode="w", zarr_format=3, consolidated=True)
        ds.to_zarr(out / "climate-v2.zarr", mode="w", zarr_format=2, consolidated=True)
    return [{"name": "Climate-like dataset: tas, sst over time x lat x lon (xarray, Zarr v3, CF)", "source": "climate.zarr"},
            {"name": "The same dataset as Zarr v2 (xarray, consolidated)", "source": "climate-v2.zarr"}]


if __name__ == "__main__":
    import sys

    write_climate(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
