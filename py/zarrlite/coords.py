"""Coordinates of an array's dimensions (xarray / CF conventions): a dimension named by `dimension_names`
(Zarr v3) or `_ARRAY_DIMENSIONS` (Zarr v2) is labelled by the 1-D array of that name beside it in its
group, or by a 1-D array the `coordinates` attribute names whose own dimension it is. Labels are CF times
decoded in the coordinate's calendar (cftime_decode), datetime64 values, latitudes and longitudes in
degrees, other values with their `units`.

Read lazily and bounded: the image model says which coordinate labels a dimension (and inlines the
labels of short ones); longer ones are read a window at a time (`coordinate_labels`), and axis ticks
from a strided sample of the visible range (`coordinate_ticks`).
"""

from __future__ import annotations

import asyncio
import math

import numpy as np

from .cf_values import decode as cf_decode, packing_async
from .cftime_decode import calendar_name, decode_times, is_time_units, iso
from .errors import NotFoundError, ZarrliteError

INLINE_LABELS = 2048       # coordinates at most this long ship their labels with the image model
MAX_LABELS = 4096          # labels of one request
TICK_SAMPLES = 2048        # values read to place ticks over a visible range
LAT_UNITS = ("degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn")
LON_UNITS = ("degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese")


async def coordinates_of(arr, parent) -> dict | None:
    """{"dims": [a coordinate's description, or None, per dimension]} of an array in group `parent`,
    or None when no dimension has a coordinate. A description: {"name", "path", "size", "kind" ("time" |
    "latitude" | "longitude" | "value"), "units", "calendar", "longName", "labels" (when at most
    INLINE_LABELS long, else None)}."""
    from .model import dimension_names

    names = dimension_names(arr)
    if not names or parent is None:
        return None
    extra = arr.attrs.get("coordinates") if isinstance(arr.attrs, dict) else None
    listed = extra.split() if isinstance(extra, str) else []
    members = set(await parent.members())   # only members: asking for absent names costs 404s over HTTP
    wanted = [n for n in dict.fromkeys([n for n in names if n] + listed)
              if n in members and n != arr.path.rpartition("/")[2]]
    if not wanted:
        return None
    opened = await asyncio.gather(*(_child(parent, n) for n in wanted))
    by_dim: dict[str, object] = {}
    for name, c in zip(wanted, opened):
        if c is None or c.ndim != 1:
            continue
        own = dimension_names(c)
        dim = own[0] if own else name
        if dim in names and (dim not in by_dim or name == dim):
            by_dim[dim] = c
    dims = []
    for d, n in enumerate(names):
        c = by_dim.get(n)
        dims.append(await describe_coordinate(c) if c is not None and c.shape[0] == arr.shape[d] else None)
    return {"dims": dims} if any(dims) else None


async def describe_coordinate(c) -> dict:
    """The description of a 1-D coordinate array (see `coordinates_of`)."""
    attrs = c.attrs if isinstance(c.attrs, dict) else {}
    kind = coordinate_kind(c.path.rpartition("/")[2], attrs, np.dtype(c.dtype))
    out = {"name": c.path.rpartition("/")[2], "path": c.path, "size": int(c.shape[0]), "kind": kind,
           "units": attrs.get("units") if isinstance(attrs.get("units"), str) else None,
           "calendar": calendar_name(attrs.get("calendar")) if kind == "time" and np.dtype(c.dtype).kind != "M" else None,
           "longName": attrs.get("long_name") if isinstance(attrs.get("long_name"), str) else None,
           "labels": None}
    if c.shape[0] <= INLINE_LABELS:
        out["labels"] = await coordinate_labels(c, 0, c.shape[0])
    return out


def coordinate_kind(name: str, attrs: dict, dtype: np.dtype) -> str:
    """"time", "latitude", "longitude" or "value": what a coordinate's labels are."""
    units = attrs.get("units")
    if dtype.kind == "M" or (dtype.kind in "iuf" and is_time_units(units)):
        return "time"
    u = str(units or "").strip().lower()
    std, axis = str(attrs.get("standard_name") or "").lower(), str(attrs.get("axis") or "").upper()
    n = name.lower()
    if u in LAT_UNITS or std == "latitude" or (n in ("lat", "latitude", "nav_lat") and u.startswith("degree")) \
            or (axis == "Y" and u.startswith("degree")):
        return "latitude"
    if u in LON_UNITS or std == "longitude" or (n in ("lon", "long", "longitude", "nav_lon") and u.startswith("degree")) \
            or (axis == "X" and u.startswith("degree")):
        return "longitude"
    return "value"


async def coordinate_values(c, start: int, stop: int, step: int = 1) -> np.ndarray:
    """Coordinate numbers over [start, stop) (CF-unpacked; datetime64 as given)."""
    start, stop = max(0, int(start)), min(int(c.shape[0]), int(stop))
    raw = await c.get(slice(start, max(start, stop), max(1, int(step))))
    return raw if raw.dtype.kind == "M" else cf_decode(raw, await packing_async(c))


async def coordinate_labels(c, start: int, stop: int) -> list[str]:
    """The labels of coordinate positions [start, stop), at most MAX_LABELS of them."""
    if stop - start > MAX_LABELS:
        raise ZarrliteError(f"coordinate '{c.path}': {stop - start} labels asked for, at most {MAX_LABELS} a request")
    values = await coordinate_values(c, start, stop)
    return format_labels(values, coordinate_kind(c.path.rpartition("/")[2], c.attrs, np.dtype(c.dtype)), c.attrs)


def format_labels(values: np.ndarray, kind: str, attrs: dict) -> list[str]:
    """Text of coordinate values of `kind`: ISO dates, degrees N/S/E/W, numbers with their units."""
    if kind == "time":
        if values.dtype.kind == "M":
            return [iso_datetime64(v) for v in values]
        return [iso(d) for d in decode_times(values, attrs["units"], attrs.get("calendar"))]
    units = attrs.get("units") if isinstance(attrs.get("units"), str) else ""
    return [format_value(float(v), kind, units) for v in values]


def iso_datetime64(v) -> str:
    """A datetime64 as `iso` writes CF dates (seconds always, fractions when there are some)."""
    if np.isnat(v):
        return "NaT"
    text = str(np.datetime_as_string(v.astype("datetime64[us]"), unit="us"))
    head, _, frac = text.partition(".")
    return head + (f".{frac}" if frac.strip("0") else "")


def format_value(v: float, kind: str, units: str = "") -> str:
    if math.isnan(v):
        return "NaN"
    if kind == "latitude":
        return f"{_g(abs(v))}°{'S' if v < 0 else 'N'}"
    if kind == "longitude":
        return f"{_g(abs(v))}°{'W' if v < 0 else 'E'}"
    return f"{_g(v)} {units}".strip()


def _g(v: float) -> str:
    return f"{v:.10g}"


# -- ticks ----------------------------------------------------------------------------------------------
def nice_step(span: float, count: int) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about `count` steps over `span`."""
    raw = span / max(count, 1)
    if not raw > 0 or not math.isfinite(raw):
        return 1.0
    p = 10 ** math.floor(math.log10(raw))
    return next(m * p for m in (1, 2, 5, 10) if m * p >= raw * 0.999)


def choose_ticks(positions: np.ndarray, values: np.ndarray, count: int = 6) -> list[tuple[float, float]]:
    """(position, value) ticks at round coordinate values over sampled (position, value) pairs of a
    monotonic coordinate: positions interpolated between the samples; [] when not monotonic."""
    v = np.asarray(values, np.float64)
    p = np.asarray(positions, np.float64)
    ok = np.isfinite(v)
    v, p = v[ok], p[ok]
    if v.size < 2:
        return [(float(p[0]), float(v[0]))] if v.size else []
    diffs = np.diff(v)
    if not (np.all(diffs > 0) or np.all(diffs < 0)):
        return []
    if diffs[0] < 0:
        v, p = v[::-1], p[::-1]
    step = nice_step(v[-1] - v[0], count)
    first = math.ceil(v[0] / step - 1e-9)
    ticks = []
    for k in range(first, first + 4 * count):
        t = k * step
        if t > v[-1] + step * 1e-9:
            break
        ticks.append((float(np.interp(t, v, p)), float(round(t / step) * step)))
    return ticks


def index_ticks(start: int, stop: int, count: int = 6) -> list[int]:
    """Positions at a round index step over [start, stop) (for coordinates whose values are not numbers)."""
    step = max(1, int(nice_step(stop - start, count)))
    return list(range(-(-start // step) * step, stop, step))


async def coordinate_ticks(c, start: int, stop: int, count: int = 6) -> list[dict]:
    """[{"at": index position (pixel centre = i + 0.5), "label"}] of ticks over [start, stop) of a
    coordinate, read from at most TICK_SAMPLES of its values."""
    start, stop = max(0, int(start)), min(int(c.shape[0]), int(stop))
    if stop <= start:
        return []
    attrs = c.attrs if isinstance(c.attrs, dict) else {}
    kind = coordinate_kind(c.path.rpartition("/")[2], attrs, np.dtype(c.dtype))
    if kind == "time":
        at = index_ticks(start, stop, count)
        labels = [(await coordinate_labels(c, i, i + 1))[0] for i in at]
        return [{"at": i + 0.5, "label": t} for i, t in zip(at, labels)]
    step = max(1, -(-(stop - start) // TICK_SAMPLES))
    values = await coordinate_values(c, start, stop, step)
    positions = np.arange(start, stop, step)[:values.size] + 0.5
    if stop - 1 not in range(start, stop, step):   # the last pixel too, so ticks reach the edge
        values = np.append(values, await coordinate_values(c, stop - 1, stop))
        positions = np.append(positions, stop - 0.5)
    units = attrs.get("units") if isinstance(attrs.get("units"), str) else ""
    return [{"at": at, "label": format_value(v, kind, units if kind == "value" else "")}
            for at, v in choose_ticks(positions, values, count)]


async def _child(group, name):
    try:
        node = await group.get_child(name)
    except NotFoundError:
        return None
    except ZarrliteError:    # an unreadable member labels nothing
        return None
    return node if hasattr(node, "shape") else None
