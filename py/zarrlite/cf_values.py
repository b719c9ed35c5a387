"""CF packing of a variable's values: what a stored number means. `scale_factor` and `add_offset`
unpack it; `_FillValue` and `missing_value` mark it missing, and so does a value outside `valid_range`
(or `valid_min` / `valid_max`), all in stored (packed) units as CF says. The viewer shows, colours and
plots the unpacked values, missing ones as NaN (drawn transparent); `long_name` and `units` label them.

Which fill value counts is xarray's rule: a Zarr v2 array of an xarray dataset (it has
`_ARRAY_DIMENSIONS`) keeps `_FillValue` as the array's `fill_value`; Zarr v3 keeps it in the attributes.
An array of no such dataset (an OME image filled with 0) has nothing masked.
"""

from __future__ import annotations

import math

import numpy as np

from .formats import zarr2
from .nodes import read_documents

CF_KEYS = ("scale_factor", "add_offset", "_FillValue", "missing_value", "valid_range", "valid_min", "valid_max")


async def v2_fill_value_given(arr) -> bool:
    """Whether a Zarr v2 array's `.zarray` gives a fill_value (not null), from its metadata as read
    (consolidated, or the document itself: remote stores have it cached from the open)."""
    doc = (await read_documents(arr.context, arr.path)).get(zarr2.ARRAY_KEY)
    return isinstance(doc, dict) and doc.get("fill_value") is not None


async def packing_async(arr) -> dict | None:
    """`packing_of` an array, knowing whether its Zarr v2 fill_value was null (it reads as 0)."""
    return packing_of(arr, arr.format != "zarr2" or await v2_fill_value_given(arr))


def packing_of(arr, fill_given: bool = True) -> dict | None:
    """{"scale", "offset", "missing", "validMin", "validMax", "decodes", "longName", "units",
    "standardName"} of an array, or None when it carries no CF value attributes. `decodes`: whether the
    stored values change (else reads can stay raw). `fill_given`: a Zarr v2 fill_value is not null."""
    attrs = arr.attrs if isinstance(arr.attrs, dict) else {}
    dtype = np.dtype(arr.dtype)
    if dtype.kind not in "iufb":
        return None
    scale, offset = _number(attrs.get("scale_factor")), _number(attrs.get("add_offset"))
    missing = _numbers(attrs.get("_FillValue")) + _numbers(attrs.get("missing_value"))
    if arr.format == "zarr2" and fill_given and "_ARRAY_DIMENSIONS" in attrs and "_FillValue" not in attrs:
        missing += _numbers(arr.fill_value)
    missing = [v for v in dict.fromkeys(missing) if not math.isnan(v)]   # NaN is missing anyway
    lo, hi = _valid(attrs)
    labels = {"longName": _text(attrs.get("long_name")), "units": _text(attrs.get("units")),
              "standardName": _text(attrs.get("standard_name"))}
    decodes = bool(scale is not None or offset is not None or missing or lo is not None or hi is not None)
    if not decodes and not any(labels.values()):
        return None
    return {"scale": scale, "offset": offset, "missing": missing, "validMin": lo, "validMax": hi,
            "decodes": decodes, **labels}


def decode(raw: np.ndarray, packing: dict | None) -> np.ndarray:
    """The values `raw` (stored numbers) stand for: unpacked, NaN where missing. float32 for stored
    numbers of at most 2 bytes without float64 scale, else float64 (xarray decodes int16 to float32 when
    the scale is float32; the page needs no more digits than float32 holds for 16-bit data)."""
    raw = np.asarray(raw)
    if not packing or not packing["decodes"]:
        return raw
    out_dtype = np.float32 if raw.dtype.itemsize <= 2 else np.float64
    out = raw.astype(np.float64)
    bad = np.zeros(raw.shape, bool)
    for v in packing["missing"]:
        bad |= raw == v
    if packing["validMin"] is not None:
        bad |= raw < packing["validMin"]
    if packing["validMax"] is not None:
        bad |= raw > packing["validMax"]
    if packing["scale"] is not None:
        out *= packing["scale"]
    if packing["offset"] is not None:
        out += packing["offset"]
    out[bad] = np.nan
    return out.astype(out_dtype)


def _valid(attrs) -> tuple[float | None, float | None]:
    rng = _numbers(attrs.get("valid_range"))
    if len(rng) == 2:
        return rng[0], rng[1]
    lo, hi = _numbers(attrs.get("valid_min")), _numbers(attrs.get("valid_max"))
    return (lo[0] if lo else None), (hi[0] if hi else None)


def _number(v) -> float | None:
    found = _numbers(v)
    return found[0] if len(found) == 1 else None


def _numbers(v) -> list[float]:
    values = v if isinstance(v, (list, tuple)) else [v]
    out = []
    for x in values:
        if isinstance(x, bool) or x is None:
            continue
        if isinstance(x, (int, float, np.number)):
            out.append(float(x))
        elif isinstance(x, str) and x in ("NaN", "Infinity", "-Infinity"):
            out.append(float(x.replace("Infinity", "inf")))
    return out


def _text(v) -> str | None:
    return v if isinstance(v, str) and v.strip() else None
