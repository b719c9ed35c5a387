"""The viewer's calls for labelled arrays (web/viewer/coords.js, plot.js, dataset.js): values read and
CF-decoded (cf_values), coordinate labels and axis ticks (coords), the line of values under the cursor
along one dimension, and the dataset view of a group (dataset). Registered by viewer_api.
"""

from __future__ import annotations

import json

import numpy as np

from .cf_values import decode, packing_async
from .coords import coordinate_labels, coordinate_ticks, coordinate_values, coordinates_of, format_labels
from .dataset import dataset_of
from .errors import ZarrliteError

MAX_PROFILE = 1 << 16      # values of one line plot (longer lines are read with a stride)


async def decoded_read(arr, selection: str) -> np.ndarray:
    """`arr[selection]` as the values it stands for (CF unpacked, NaN where missing)."""
    from .indexing import parse_selection

    return decode(await arr.get(parse_selection(selection)), await packing_async(arr))


async def profile_of(arr, parent, index: list, dim: int, start: int = 0, stop: int | None = None) -> dict:
    """The values of `arr` along dimension `dim` at `index` (one level-0 index per other dimension) over
    [start, stop), with a stride keeping it within MAX_PROFILE: {"dim", "positions", "values" (NaN:
    missing), "labels" (coordinate labels, or the positions), "numbers" (coordinate numbers for the x
    axis, or the positions), "xName", "xUnits", "name", "units", "csv" (`profile_csv`)}."""
    n = arr.shape[dim]
    stop = n if stop is None else min(int(stop), n)
    start = max(0, int(start))
    if len(index) != arr.ndim or not 0 <= dim < arr.ndim:
        raise ZarrliteError(f"profile: index {index} and dimension {dim} do not fit {arr.ndim} dimensions")
    step = max(1, -(-(stop - start) // MAX_PROFILE))
    sel = tuple(slice(start, stop, step) if d == dim else int(i) for d, i in enumerate(index))
    packing = await packing_async(arr)
    values = decode(await arr.get(sel), packing).astype(np.float64)
    positions = list(range(start, stop, step))
    coords = await coordinates_of(arr, parent)
    desc = coords["dims"][dim] if coords else None
    name = arr.path.rpartition("/")[2] or "values"
    out = {"dim": dim, "positions": positions, "values": values.tolist(), "labels": [str(p) for p in positions],
           "numbers": [float(p) for p in positions], "xName": desc["name"] if desc else None,
           "xUnits": desc["units"] if desc else None,
           "name": (packing or {}).get("longName") or name, "units": (packing or {}).get("units")}
    if desc:
        c = await parent.get_child(desc["name"])   # coordinates_of found it there
        raw = await coordinate_values(c, start, stop, step)
        out["labels"] = format_labels(raw, desc["kind"], c.attrs)
        if raw.dtype.kind == "M":
            out["numbers"] = (raw.astype("datetime64[s]").astype(np.int64)).astype(float).tolist()
        elif np.all(np.isfinite(raw)):
            out["numbers"] = np.asarray(raw, np.float64).tolist()
    out["csv"] = profile_csv(out)
    return out


def profile_csv(p: dict) -> str:
    """The line as CSV: the coordinate (or index) and the value per row; a missing value is empty."""
    head = [p["xName"] or f"dim_{p['dim']}", p["name"] + (f" ({p['units']})" if p["units"] else "")]
    rows = [",".join(_csv_cell(h) for h in head)]
    rows += [f"{_csv_cell(label)},{'' if np.isnan(v) else repr(float(v))}" for label, v in zip(p["labels"], p["values"])]
    return "\n".join(rows) + "\n"


def _csv_cell(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(ch in text for ch in ',"\n') else text


def viewer_calls(node) -> dict:
    """The viewer_api functions of this module; `node(path)` opens a node of the session's source."""
    from .webworker import json_text, transferable

    async def cf_read(path: str, selection: str):
        """(values ready for transfer, meta JSON) of `arr[selection]` CF-decoded."""
        out = transferable(await decoded_read(await node(path), selection))
        return out, json.dumps({"dtype": out.dtype.str})

    async def coord_labels(path: str, start: int, stop: int) -> str:
        """JSON: the labels of positions [start, stop) of the coordinate at `path`."""
        return json_text(await coordinate_labels(await node(path), int(start), int(stop)))

    async def coord_ticks(path: str, start: int, stop: int, count: int = 6) -> str:
        """JSON: ticks [{at, label}] over positions [start, stop) of the coordinate at `path`."""
        return json_text(await coordinate_ticks(await node(path), start, stop, int(count)))

    async def profile(path: str, index: list, dim: int, start: int = 0, stop: int | None = None) -> str:
        """JSON: the line of values along `dim` at `index` (see `profile_of`)."""
        arr = await node(path)
        parent = await node(path.rpartition("/")[0]) if path else None
        return json_text(await profile_of(arr, parent, index, int(dim), start, stop))

    async def dataset(path: str) -> str:
        """JSON: the dataset view of the group at `path` (see zarrlite.dataset.dataset_of), or null."""
        return json_text(await dataset_of(await node(path)))

    return {"cf_read": cf_read, "coord_labels": coord_labels, "coord_ticks": coord_ticks, "profile": profile,
            "dataset": dataset}
