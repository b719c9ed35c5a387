"""Projections of a volume along one of its axes: the maximum (maximum-intensity projection) or the
mean of a region of the planes across the axis, at the finest pyramid level whose work fits a memory
budget. The axis is read one chunk slab at a time (the slab's chunks, then the next slab), so memory
holds one slab and the accumulators, and progress is the slabs done.

    out = await project(image_model, axis=z, index=[...], region={y: (0, 512), x: (0, 512)}, kind="max")
    out.data, out.level, out.region, out.slabs
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from .errors import ZarrliteError

KINDS = ("max", "mean")
MAX_PIXELS = 4 << 20         # of a projection (as an expression's plane)


@dataclass(frozen=True)
class Projection:
    data: np.ndarray             # (rows, columns) in dimension order of the two remaining region dims
    level: int
    region: dict                 # {dim: [lo, hi)} at that level
    slabs: int                   # chunk slabs accumulated


def slab_bounds(arr, axis: int) -> list[int]:
    """Where the slabs along `axis` start, and its end: the (inner) chunk boundaries of the array."""
    grid = arr.meta.chunk_grid
    n = arr.shape[axis]
    bounds = None if grid.regular else grid.boundaries(axis)
    if bounds is None:
        step = max(1, arr.chunks[axis])
        bounds = list(range(0, n, step)) + [n]
    return bounds


def level_region(model, lv: int, region: dict) -> dict:
    """A region {dim: (lo, hi)} in level-0 pixels as whole pixels of level `lv` (never empty)."""
    L = model.levels[lv]
    out = {}
    for d, (lo, hi) in region.items():
        f = L.factor[d] or 1
        a = min(max(0, math.floor(lo / f)), L.shape[d] - 1)
        out[d] = (a, min(L.shape[d], max(a + 1, math.ceil(hi / f))))
    return out


def work_bytes(model, lv: int, axis: int, region: dict) -> int:
    """Memory a projection at level `lv` holds at once: one slab of the region, the maximum and the sum."""
    L = model.levels[lv]
    r = level_region(model, lv, region)
    pixels = math.prod(hi - lo for lo, hi in r.values())
    itemsize = np.dtype(L.dtype).itemsize
    return pixels * (L.chunks[axis] * itemsize + itemsize + 8)


def choose_level(model, axis: int, region: dict, budget: int) -> int:
    """The finest level whose projection fits `budget` bytes of work and MAX_PIXELS pixels (the
    coarsest when none does)."""
    for lv in range(len(model.levels)):
        r = level_region(model, lv, region)
        if work_bytes(model, lv, axis, region) <= budget and math.prod(hi - lo for lo, hi in r.values()) <= MAX_PIXELS:
            return lv
    return len(model.levels) - 1


async def project(model, axis: int, index, region: dict, kind: str = "max", budget: int = 256 << 20,
                  report=None) -> Projection:
    """The `kind` ("max" or "mean") of the image along `axis` over `region` ({dim: (lo, hi)} in level-0
    pixels, for the two dimensions kept), the other dimensions at `index` (level-0 pixels).

    The level is `choose_level`'s with the budget capped by the source's own memory budget. `report(done,
    total)` is called after every slab. Mean is float64; max keeps the data type."""
    if kind not in KINDS:
        raise ZarrliteError(f"projection: kind {kind!r} is not one of {', '.join(KINDS)}")
    ndim = model.ndim
    region = {int(d): (int(lo), int(hi)) for d, (lo, hi) in region.items()}
    if not 0 <= axis < ndim or axis in region or len(region) != 2 or any(not 0 <= d < ndim for d in region):
        raise ZarrliteError(f"projection: axis {axis} and region dims {sorted(region)} must be three different "
                            f"dimensions of {ndim}")
    arrays = model.arrays
    budget = min(int(budget), arrays[0].context.max_bytes)
    lv = choose_level(model, axis, region, budget)
    arr, L = arrays[lv], model.levels[lv]
    r = level_region(model, lv, region)
    fixed = [min(L.shape[d] - 1, int(i // (L.factor[d] or 1))) for d, i in enumerate(index)]
    bounds = slab_bounds(arr, axis)
    total = len(bounds) - 1
    acc = None
    for k, (z0, z1) in enumerate(zip(bounds, bounds[1:])):
        sel = tuple(slice(*r[d]) if d in r else slice(z0, z1) if d == axis else fixed[d] for d in range(ndim))
        slab = await arr.get(sel)
        # the kept dimensions and the axis, in dimension order: the axis' position among them
        at = sorted([*r, axis]).index(axis)
        part = slab.max(axis=at) if kind == "max" else slab.sum(axis=at, dtype=np.float64)
        acc = part if acc is None else (np.maximum(acc, part) if kind == "max" else acc + part)
        if report is not None:
            report(k + 1, total)
    if kind == "mean":
        acc = acc / arr.shape[axis]
    return Projection(np.ascontiguousarray(acc), lv, {d: list(v) for d, v in r.items()}, total)


def viewer_calls(node, session) -> dict:
    """The projection call of the viewer page (zarrlite.viewer_api), given `node(path)` (async) and
    `session()` (the worker's Session, whose `progress` holds each running projection's slabs done)."""
    from .model import image_model_async
    from .webworker import transferable

    async def projection(path: str, axis: int, index: list, region: dict, kind: str, budget: int, token: str):
        progress = session().progress
        target = await node(path)
        parent = await node(path.rpartition("/")[0]) if path and hasattr(target, "shape") else None
        model = await image_model_async(target, parent)
        progress[token] = {"done": 0, "total": None}
        try:
            out = await project(model, int(axis), index, {int(d): v for d, v in region.items()}, kind, budget,
                                report=lambda done, total: progress.__setitem__(token, {"done": done, "total": total}))
        finally:
            progress.pop(token, None)
        data = transferable(out.data)
        return data, json.dumps({"dtype": data.dtype.str, "level": out.level, "region": out.region,
                                 "slabs": out.slabs, "kind": kind})

    async def projection_progress(token: str) -> str:
        return json.dumps(session().progress.get(token))

    return {"projection": projection, "projection_progress": projection_progress}
