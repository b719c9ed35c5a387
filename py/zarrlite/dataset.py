"""The dataset view of a group that holds an xarray dataset: its data variables (dimensions, shape,
dtype, units, long name), its coordinates (1-D arrays named as their dimension, and what `coordinates`
attributes name) and its global attributes, as xarray lists them (web/viewer/dataset.js shows it).
"""

from __future__ import annotations

import numpy as np

from .errors import ZarrliteError

MAX_VARIABLES = 1000       # members described (a larger group is described in part, and says so)


def _dims_of(arr):
    from .model import dimension_names

    return dimension_names(arr)


async def dataset_of(group) -> dict | None:
    """{"path", "variables": [...], "coordinates": [...], "attrs", "truncated"} of a group whose arrays
    name their dimensions (as xarray writes them), or None for any other group. Each entry: {"name",
    "path", "dims", "shape", "dtype", "units", "longName", "image" (2 or more dimensions: it shows as
    an image)}."""
    if _is_multiscale(group):
        return None
    names = await group.members()
    children = await group.children(names[:MAX_VARIABLES])
    arrays = [(n, c) for n, c in children if not isinstance(c, ZarrliteError) and hasattr(c, "shape")]
    named = [(n, c, _dims_of(c)) for n, c in arrays]
    named = [(n, c, d) for n, c, d in named if d is not None]
    if not named:
        return None
    listed = set()
    for _, c, _ in named:
        extra = c.attrs.get("coordinates") if isinstance(c.attrs, dict) else None
        listed.update(extra.split() if isinstance(extra, str) else ())
    coords, variables = [], []
    for n, c, dims in named:
        is_coord = (c.ndim == 1 and dims[0] == n) or n in listed
        (coords if is_coord else variables).append(_entry(n, c, dims))
    if not variables:
        return None
    return {"path": group.path, "variables": variables, "coordinates": coords,
            "attrs": group.attrs if isinstance(group.attrs, dict) else {}, "truncated": len(names) > MAX_VARIABLES}


async def is_dataset(group) -> bool:
    """Whether a group shows as a dataset (`dataset_of` is not None)."""
    try:
        return await dataset_of(group) is not None
    except ZarrliteError:
        return False


def _entry(name, arr, dims) -> dict:
    attrs = arr.attrs if isinstance(arr.attrs, dict) else {}
    text = lambda k: attrs.get(k) if isinstance(attrs.get(k), str) else None   # noqa: E731
    return {"name": name, "path": arr.path, "dims": dims, "shape": list(arr.shape),
            "dtype": np.dtype(arr.dtype).str, "units": text("units"), "longName": text("long_name"),
            "image": arr.ndim >= 2}


def _is_multiscale(group) -> bool:
    from .ome import is_plate

    try:
        return group.multiscale is not None or is_plate(group.attrs)
    except ZarrliteError:
        return True
