"""Volumes for the viewer's three orthogonal views: which dimension of an image model is the third
spatial one (beside its displayed rows and columns), and what each view (XY, XZ, YZ) costs to read at
every level from the chunk grid alone: chunks a whole plane touches, bytes decoded for them, bytes the
plane holds. Chunks thin along z make the XZ and YZ planes cost many chunks for few pixels; the page
says so from these numbers.

    plan = volume_plan(image_model)     # None when the image is not a volume
    plan["z"], plan["views"]["xz"]["levels"][0]["chunks"], plan["notes"]
"""

from __future__ import annotations

import math

import numpy as np

# a view decoding this many times the bytes it shows is called out in the page
COSTLY_RATIO = 8
VIEWS = ("xy", "xz", "yz")


def z_dim(model) -> int:
    """The third spatial dimension of an image model: the one dimension besides the displayed rows and
    columns (and channels) whose axis type is "space" and that has more than one index; -1 when there is
    no such dimension (or more than one: which is z is then not said)."""
    shown = (model.y_dim, model.x_dim, model.c_dim)
    if any(model.axes[d].type not in ("space", None) for d in (model.y_dim, model.x_dim)):
        return -1
    found = [d for d, a in enumerate(model.axes)
             if d not in shown and a.type == "space" and model.levels[0].shape[d] > 1]
    return found[0] if len(found) == 1 else -1


def view_dims(model, z: int) -> dict[str, tuple[int, int]]:
    """(rows, columns) dimensions of each view: XY as the image shows it, XZ and YZ with z as rows."""
    return {"xy": (model.y_dim, model.x_dim), "xz": (z, model.x_dim), "yz": (z, model.y_dim)}


def plane_cost(shape, chunks, itemsize: int, rows: int, cols: int) -> dict:
    """What reading one whole (rows, cols) plane costs: the chunks it touches (one along every other
    dimension), the bytes they decode to, and the bytes of the plane."""
    n = math.ceil(shape[rows] / chunks[rows]) * math.ceil(shape[cols] / chunks[cols])
    chunk_bytes = math.prod(chunks) * itemsize
    plane = shape[rows] * shape[cols] * itemsize
    return {"chunks": n, "decodedBytes": n * chunk_bytes, "planeBytes": plane,
            "ratio": round(n * chunk_bytes / plane, 1) if plane else 0.0}


def volume_plan(model) -> dict | None:
    """For an image model with three spatial dimensions: `{z, views: {xy|xz|yz: {dims, levels: [cost per
    level]}}, aspect: {xy|xz|yz: rows:columns physical size of a pixel}, notes: [text]}`; None otherwise."""
    z = z_dim(model)
    if z < 0:
        return None
    itemsize = np.dtype(model.levels[0].dtype).itemsize
    views, notes = {}, []
    for name, (rows, cols) in view_dims(model, z).items():
        costs = [plane_cost(lv.shape, lv.chunks, itemsize, rows, cols) for lv in model.levels]
        views[name] = {"dims": [rows, cols], "levels": costs}
        top = costs[0]
        if name != "xy" and top["ratio"] >= COSTLY_RATIO:
            thin = model.levels[0].chunks[z]
            notes.append(f"{name.upper()} at full resolution reads {top['chunks']} chunks "
                         f"({_size(top['decodedBytes'])} decoded) for a {_size(top['planeBytes'])} plane: "
                         f"chunks are {thin} thick along {model.axes[z].name}. Coarser levels are read first.")
    aspect = {name: _aspect(model, rows, cols) for name, (rows, cols) in view_dims(model, z).items()}
    return {"z": z, "views": views, "aspect": aspect, "notes": notes}


def _aspect(model, rows: int, cols: int) -> float:
    """Physical height over width of a level-0 pixel (1 when the scales or units do not compare)."""
    a, b = model.axes[rows], model.axes[cols]
    if not (a.scale > 0 and b.scale > 0) or (a.unit or None) != (b.unit or None):
        return 1.0
    return min(64.0, max(1 / 64, a.scale / b.scale))


def _size(n: int) -> str:
    for unit, f in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= f:
            return f"{n / f:.1f} {unit}"
    return f"{n} B"


def viewer_calls(node) -> dict:
    """The volume call of the viewer page (zarrlite.viewer_api), given `node(path)` (async)."""
    from .model import image_model_async
    from .webworker import json_text

    async def volume(path: str) -> str:
        target = await node(path)
        parent = await node(path.rpartition("/")[0]) if path and hasattr(target, "shape") else None
        return json_text(volume_plan(await image_model_async(target, parent)))

    return {"volume": volume}
