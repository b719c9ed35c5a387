"""The hierarchy the bucket tests (CPython tests/test_buckets.py, Chromium tests/browser/test_cloud.py)
serve from their loopback S3 / GCS / Azure servers, written by zarr-python 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def bucket_hierarchy(root: Path, *, shape, chunks, seed) -> dict:
    """A hierarchy without consolidated metadata at 'exp/h.zarr' below `root` (a bucket's directory, so
    that readers must list it): uint16 'raw', 'labels/cells', 'labels/nuclei' and 'a b' of `shape` and
    `chunks`, an int32 'sharded' (16x24, shards of 8x12 with 4x6 chunks), an 'empty' group. Returns the
    numpy truth of each array by path."""
    import zarr

    g = zarr.open_group(str(root / "exp" / "h.zarr"), mode="w", zarr_format=3)
    rng = np.random.default_rng(seed)
    truth = {}
    for name in ("raw", "labels/cells", "labels/nuclei", "a b"):
        data = rng.integers(0, 60000, shape, dtype="uint16")
        g.create_array(name, shape=data.shape, dtype=data.dtype, chunks=chunks)[...] = data
        truth[name] = data
    data = rng.integers(-1000, 1000, (16, 24), dtype="int32")
    g.create_array("sharded", shape=data.shape, dtype=data.dtype, chunks=(4, 6), shards=(8, 12))[...] = data
    truth["sharded"] = data
    g.create_group("empty")
    return truth
