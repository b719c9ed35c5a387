"""HDF5 and NetCDF4 files (written by h5py and netCDF4) and their kerchunk references, for the reference
tests in CPython (tests/test_refs.py) and in Chromium (tests/browser/test_refs.py). The truth of each
array is what h5py / netCDF4 read back."""

from __future__ import annotations

import json

import h5py
import netCDF4
import numpy as np
from kerchunk.combine import MultiZarrToZarr
from kerchunk.df import refs_to_dataframe
from kerchunk.hdf import SingleHdf5ToZarr
from writers import make_data

H5_DATASETS = ["gz", "raw", "grp/deep", "contig", "big", "scalar", "partial", "empty"]


def kerchunk_refs(path, url, inline_threshold=0):
    with open(path, "rb") as f:
        return SingleHdf5ToZarr(f, url=url, inline_threshold=inline_threshold).translate()


def chunk_refs(refs, prefix):
    """The references of the chunks of array `prefix` that point into a file ([url, offset, length])."""
    return {k: v for k, v in refs["refs"].items()
            if k.startswith(prefix + "/") and isinstance(v, list) and "/." not in k}


def write_h5(root):
    """root/data.h5 (gzip + shuffle, plain chunks with edges, a deep group, a contiguous dataset, big
    incompressible chunks, a scalar, chunks never written, an empty dataset) and its kerchunk references root/refs.json (target "data.h5", relative).
    Returns (references, {name: truth})."""
    path = root / "data.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("gz", data=make_data((60, 70), "<i4", seed=1), chunks=(10, 14), compression="gzip",
                         compression_opts=4, shuffle=True)
        f.create_dataset("raw", data=make_data((33, 17), "<f8", seed=2), chunks=(8, 8))
        f.create_dataset("grp/deep", data=make_data((4, 20, 20), ">u2", seed=3), chunks=(1, 20, 20),
                         compression="gzip")
        f.create_dataset("contig", data=make_data((50,), "<i2", seed=4))
        rng = np.random.default_rng(5)
        f.create_dataset("big", data=rng.integers(0, 2**63, (4, 16384), dtype="<i8"), chunks=(1, 16384))
        f.create_dataset("scalar", data=np.float64(3.5))
        partial = f.create_dataset("partial", shape=(20,), dtype="<i4", chunks=(5,), fillvalue=-7)
        partial[0:5] = np.arange(5)  # chunks 1-3 never written: no reference, the fill value
        f.create_dataset("empty", shape=(0, 4), dtype="<i2", chunks=(1, 4), maxshape=(None, 4))
        f["gz"].attrs["units"] = "K"
        truth = {name: f[name][()] for name in H5_DATASETS}
    refs = kerchunk_refs(path, "data.h5")
    (root / "refs.json").write_text(json.dumps(refs))
    return refs, truth


def write_netcdf(root, parquet=True):
    """Three NetCDF4 files root/f0.nc ... (t2m: float32, zlib + shuffle, chunks (1, 16, 16); time along
    the files), their references combined by MultiZarrToZarr into root/combined.json (targets relative:
    f0.nc ...) and, with `parquet`, the same as a Parquet reference set (root/combined.parq).
    Returns (references, {"t2m": truth, "time": truth})."""
    singles, t2m, times = [], [], []
    for i in range(3):
        path = root / f"f{i}.nc"
        with netCDF4.Dataset(path, "w") as ds:
            ds.createDimension("time", None)
            ds.createDimension("lat", 32)
            ds.createDimension("lon", 48)
            t = ds.createVariable("time", "f8", ("time",))
            t.units = "days since 2000-01-01"
            ds.createVariable("lat", "f4", ("lat",))[:] = np.linspace(-80, 80, 32)
            ds.createVariable("lon", "f4", ("lon",))[:] = np.linspace(0, 355, 48)
            v = ds.createVariable("t2m", "f4", ("time", "lat", "lon"), zlib=True, complevel=4, shuffle=True,
                                  chunksizes=(1, 16, 16))
            t[:] = np.arange(2) + 2 * i
            v[:] = (np.random.default_rng(10 + i).normal(285, 8, (2, 32, 48))).astype("<f4")
        with netCDF4.Dataset(path) as ds:
            t2m.append(ds["t2m"][:].data)
            times.append(ds["time"][:].data)
        singles.append(kerchunk_refs(path, str(path)))
    combined = MultiZarrToZarr(singles, concat_dims=["time"], identical_dims=["lat", "lon"]).translate()
    for v in combined["refs"].values():  # the targets, relative to the reference file
        if isinstance(v, list):
            v[0] = v[0].rsplit("/", 1)[-1]
    (root / "combined.json").write_text(json.dumps(combined))
    if parquet:
        refs_to_dataframe(combined, str(root / "combined.parq"), record_size=5)
    return combined, {"t2m": np.concatenate(t2m), "time": np.concatenate(times)}


def write_fletcher32(root):
    """root/f.h5, written by h5py with shuffle, deflate and fletcher32 (kerchunk 0.2 refuses to translate
    fletcher32), and root/f.json: references made from h5py's own chunk index, the filters as HDF5
    applies them. Returns (truth, h5py's chunk infos)."""
    truth = make_data((40, 30), "<i4", seed=8)
    with h5py.File(root / "f.h5", "w") as f:
        d = f.create_dataset("x", data=truth, chunks=(16, 16), compression="gzip", shuffle=True, fletcher32=True)
        chunks = [d.id.get_chunk_info(i) for i in range(d.id.get_num_chunks())]
    zarray = {"zarr_format": 2, "shape": [40, 30], "chunks": [16, 16], "dtype": "<i4", "compressor": None,
              "fill_value": 0, "order": "C",
              "filters": [{"id": "shuffle", "elementsize": 4}, {"id": "zlib", "level": 4}, {"id": "fletcher32"}]}
    refs = {"version": 1, "refs": {".zgroup": '{"zarr_format": 2}', "x/.zarray": json.dumps(zarray),
                                   **{f"x/{c.chunk_offset[0] // 16}.{c.chunk_offset[1] // 16}":
                                      ["f.h5", c.byte_offset, c.size] for c in chunks}}}
    (root / "f.json").write_text(json.dumps(refs))
    return truth, chunks
