"""High-content screening plates (OME-NGFF `plate` / `well`, 0.1-0.5): the grid of wells a plate names,
the fields (images) of a well, and a thumbnail of one field from its lowest resolution.

A thumbnail reads only what it needs: the well's metadata, the field's, the lowest level's, and that
level's chunks of one plane (the default z and t, every channel). Nothing else of the plate is opened,
so a plate over plain HTTP costs a few requests per well shown, whatever its size.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from .errors import MetadataError, ZarrliteError
from .model import CHANNEL_PALETTE
from .ome import multiscale_from_attrs, ome_block
from .render import composite

MAX_THUMBNAIL = 512


@dataclass(frozen=True)
class Well:
    path: str          # from the plate, e.g. "A/1"
    row: int           # index into Plate.rows
    column: int        # index into Plate.columns


@dataclass(frozen=True)
class Plate:
    name: str | None
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    wells: tuple[Well, ...]
    field_count: int | None
    acquisitions: tuple[dict, ...]

    def as_dict(self) -> dict:
        out = asdict(self)
        out["fieldCount"] = out.pop("field_count")
        return out


def _names(block: dict, key: str) -> tuple[str, ...]:
    entries = block.get(key)
    if not isinstance(entries, list) or not entries:
        raise MetadataError(f"OME plate.{key} must be a non-empty list")
    out = []
    for e in entries:
        name = e.get("name") if isinstance(e, dict) else e
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            raise MetadataError(f"OME plate.{key} entry {e!r} has no name")
        out.append(str(name))
    return tuple(out)


def _position(value, names, well, what) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < len(names):
            raise MetadataError(f"OME plate well {well!r}: {what} {value} is not in 0..{len(names) - 1}")
        return value
    raise MetadataError(f"OME plate well {well!r} has no {what}")


def plate_layout(attrs) -> Plate:
    """The plate a group's attributes describe. Wells give `rowIndex` / `columnIndex` (0.4+); older
    plates only a path "row/column", matched to the row and column names."""
    block = ome_block(attrs).get("plate")
    if not isinstance(block, dict):
        raise MetadataError("no OME plate metadata")
    rows, columns = _names(block, "rows"), _names(block, "columns")
    wells = []
    for w in block.get("wells") if isinstance(block.get("wells"), list) else []:
        if not isinstance(w, dict) or not isinstance(w.get("path"), str) or not w["path"].strip("/"):
            raise MetadataError(f"OME plate well {w!r} has no path")
        path = w["path"].strip("/")
        parts = path.split("/")
        row, col = w.get("rowIndex"), w.get("columnIndex")
        if row is None and len(parts) == 2 and parts[0] in rows:
            row = rows.index(parts[0])
        if col is None and len(parts) == 2 and parts[1] in columns:
            col = columns.index(parts[1])
        wells.append(Well(path, _position(row, rows, path, "rowIndex"), _position(col, columns, path, "columnIndex")))
    count = block.get("field_count")
    acquisitions = tuple(a for a in block.get("acquisitions") or () if isinstance(a, dict)) \
        if isinstance(block.get("acquisitions"), list) else ()
    return Plate(block.get("name") if isinstance(block.get("name"), str) else None, rows, columns, tuple(wells),
                 count if isinstance(count, int) and not isinstance(count, bool) else None, acquisitions)


def well_fields(attrs) -> list[dict]:
    """The images of a well (`well.images`): `[{path, acquisition}]` in the metadata's order."""
    block = ome_block(attrs).get("well")
    if not isinstance(block, dict) or not isinstance(block.get("images"), list):
        raise MetadataError("no OME well metadata (well.images)")
    out = []
    for im in block["images"]:
        if not isinstance(im, dict) or not isinstance(im.get("path"), str) or not im["path"].strip("/"):
            raise MetadataError(f"OME well image {im!r} has no path")
        out.append({"path": im["path"].strip("/"), "acquisition": im.get("acquisition")})
    return out


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def _thumbnail_channels(ms, n: int) -> list[dict]:
    """Channels as render.composite takes them: omero colours and windows where given."""
    if not ms.channels and n == 1:
        return [{"index": 0, "color": "gray", "window": "auto"}]
    out = []
    for i in range(n):
        m = ms.channels[i] if i < len(ms.channels) else None
        color = f"#{m.color}" if m is not None else CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)]
        out.append({"index": i, "color": color, "window": list(m.window) if m and m.window else "auto",
                    "visible": m.active if m is not None else i < 4})
    if not any(c["visible"] for c in out):
        out[0]["visible"] = True
    return out


async def image_thumbnail(image, open_node, size: int = 96):
    """(RGBA (h, w, 4) uint8, meta) of a multiscale image group from its lowest resolution: the plane
    at the default z and t (omero `rdefs`, else the middle z and the first t), every channel
    composited, strided to at most `size` pixels along its longer side."""
    ms = multiscale_from_attrs(image.attrs)
    if ms is None:
        raise ZarrliteError(f"'{image.path}' is not a multiscale image")
    size = max(1, min(int(size), MAX_THUMBNAIL))
    lowest = ms.levels[-1]
    arr = await open_node(_join(image.path, lowest.path))
    if arr.ndim != len(ms.axes) or arr.ndim < 2:
        raise ZarrliteError(f"'{arr.path}' has {arr.ndim} dimensions for {len(ms.axes)} axes")
    c_dim = next((d for d, a in enumerate(ms.axes) if a.type == "channel"), -1)
    spatial = [d for d in range(arr.ndim) if d != c_dim]
    y_dim, x_dim = spatial[-2], spatial[-1]
    step = max(1, math.ceil(max(arr.shape[y_dim], arr.shape[x_dim]) / size))
    sel = []
    for d, axis in enumerate(ms.axes):
        want = ms.default_t if axis.type == "time" else ms.default_z if axis.name == "z" else None
        factor = (lowest.scale[d] / ms.levels[0].scale[d]) if ms.levels[0].scale[d] else 1.0
        if d in (y_dim, x_dim):
            sel.append(slice(None, None, step))
        elif d == c_dim:
            sel.append(slice(None))
        elif want is not None:
            sel.append(min(int(want / factor), arr.shape[d] - 1))
        else:
            sel.append(0 if axis.type == "time" else (arr.shape[d] - 1) // 2)
    planes = np.asarray(await arr.get(tuple(sel)))
    if c_dim < 0:
        planes, axis = planes[np.newaxis], 0
    else:
        axis = sum(1 for d in range(c_dim) if isinstance(sel[d], slice))
    rgba = composite(planes, _thumbnail_channels(ms, planes.shape[axis]), axis)
    if y_dim > x_dim:
        rgba = np.ascontiguousarray(rgba.transpose(1, 0, 2))
    meta = {"dtype": rgba.dtype.str, "image": image.path, "level": arr.path, "levelShape": list(arr.shape),
            "step": step}
    return rgba, meta


async def well_thumbnail(open_node, well_path: str, size: int = 96, field: int = 0):
    """(RGBA, meta) of field `field` of the well at `well_path` (see image_thumbnail); meta adds the
    well's `fields` (their paths from the source's root)."""
    well = await open_node(well_path)
    fields = well_fields(well.attrs)
    if not 0 <= field < len(fields):
        raise ZarrliteError(f"well '{well_path}' has {len(fields)} field(s): no field {field}")
    image = await open_node(_join(well.path, fields[field]["path"]))
    rgba, meta = await image_thumbnail(image, open_node, size)
    meta["fields"] = [_join(well.path, f["path"]) for f in fields]
    return rgba, meta


def viewer_calls(node, session) -> dict:
    """The plate calls of the viewer page (zarrlite.viewer_api), given `node(path)` (async) and
    `session()` (the worker's Session)."""
    from .webworker import json_text

    async def plate(path: str) -> str:
        group = await node(path)
        out = plate_layout(group.attrs).as_dict()
        out["path"] = group.path
        for w in out["wells"]:
            w["path"] = _join(group.path, w["path"])
        return json_text(out)

    async def well(path: str) -> str:
        group = await node(path)
        return json_text({"path": group.path, "fields": [{**f, "path": _join(group.path, f["path"])}
                                                         for f in well_fields(group.attrs)]})

    async def thumbnail(path: str, size: int = 96, field: int = 0):
        rgba, meta = await well_thumbnail(node, path, int(size), int(field))
        return rgba, json.dumps(meta)

    async def tree_node(path: str) -> str:
        """The tree entry of a node the listing did not reach (a plate's fields over plain HTTP)."""
        return json_text(await session().describe(await node(path), path.strip("/")))

    return {"plate": plate, "well": well, "well_thumbnail": thumbnail, "tree_node": tree_node}
