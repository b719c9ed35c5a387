"""What the viewer page (web/viewer/) asks of Python beyond read/render: the image model of a node
(zarrlite.model: levels, axes, channels, default plane), what the tree shows of each group, a node's
description for the page (dimension names, chunk grid), the chunk map of a plane (which chunks and shards are
stored, and how large), an expression over a plane, and the colormap tables.

The worker calls `call(name, args_json)`; answers are JSON text, or `(ndarray, meta_json)` for arrays
(the worker copies the array out once and transfers it). The `*_of` functions take node objects and work
in CPython as well, which is where they are unit-tested.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import math

import numpy as np

from . import coords_api, labels, plate, projection, tables, volume
from .errors import ZarrliteError
from .expression import evaluate_expression
from .dataset import is_dataset
from .model import dimension_names, image_model_async, node_summary
from .ome import multiscale_from_attrs
from .render import colormap_tables

_SESSION = contextvars.ContextVar("zarrlite_viewer_session")  # the worker's Session, set per request
MAX_CELLS = 4096        # chunks (or inner chunks) described by one chunk map
SIZE_CONCURRENCY = 16   # stored-size look-ups in flight


async def call(name: str, args_json: str, session):
    """Entry point for the worker (zarrlite.webworker.Session.viewer): `name` is one of the public
    functions below, run on `session`'s open source."""
    fn = _CALLS.get(name)
    if fn is None:
        raise ZarrliteError(f"viewer_api: no function {name!r} (one of {', '.join(sorted(_CALLS))})")
    _SESSION.set(session)  # this request's Task only (each worker request runs in its own)
    return await fn(*json.loads(args_json or "[]"))


# -- the image model --------------------------------------------------------------------------------
async def image(path: str) -> str:
    """JSON: the image model of the node at `path` (see `image_of`)."""
    from .webworker import json_text

    node = await _node(path)
    parent = await _node(path.rpartition("/")[0]) if path and hasattr(node, "shape") else None
    return json_text(await image_of(node, parent))


async def image_of(node, parent=None) -> dict:
    """`zarrlite.model.ImageModel.as_dict()` plus, per level, `outDtype`: the dtype its reads arrive in."""
    from .packed import read_dtype

    model = (await image_model_async(node, parent)).as_dict()
    for level in model["levels"]:
        level["outDtype"] = read_dtype(level["dtype"])
    return model


async def summaries(paths: list) -> str:
    """JSON {path: `zarrlite.model.node_summary`} of the groups at `paths` (what the tree shows)."""
    from .webworker import json_text

    nodes = await asyncio.gather(*(_node(p) for p in paths))
    found = await asyncio.gather(*(node_summary(n) for n in nodes))
    datasets = await asyncio.gather(*(is_dataset(n) for n in nodes))   # groups shown as xarray datasets
    found = [dict(f, dataset=d) for f, d in zip(found, datasets)]
    return json_text(dict(zip(paths, found)))


# -- node descriptions ------------------------------------------------------------------------------
async def describe(path: str) -> str:
    """JSON: dimension names, the multiscale pyramid of a group (OME-NGFF or N5), the chunk grid."""
    from .webworker import json_text

    node = await _node(path)
    info = describe_of(node)
    if info["kind"] == "array":
        info["node"] = await _SESSION.get().describe(node, node.path)  # for nodes the listing did not reach
    return json_text(info)


def describe_of(node) -> dict:
    info = {"path": node.path, "format": node.format}
    if hasattr(node, "shape"):
        meta = node.meta
        info.update(kind="array", dimension_names=dimension_names(node), grid=list(meta.grid),
                    stored_chunks=list(meta.chunks), nbytes=int(node.nbytes))
    else:
        info["kind"] = "group"
        try:
            ms = multiscale_from_attrs(node.attrs)
        except ZarrliteError as e:
            info["multiscale_error"] = str(e)
            ms = None
        info["multiscale"] = ms.as_dict() if ms is not None else None
    return info


# -- chunk map --------------------------------------------------------------------------------------
async def chunk_map(path: str, plane: list, region: list | None = None) -> str:
    """JSON chunk map of one 2-D plane of an array; see `chunk_map_of`."""
    return json.dumps(await chunk_map_of(await _node(path), plane, region), allow_nan=False)


async def chunk_map_of(arr, plane: list, region: list | None = None) -> dict:
    """Which chunks of a plane are stored, and their stored sizes in bytes.

    `plane`: one entry per dimension, an index for the fixed dimensions and None for the two displayed
    ones (rows, then columns). `region`: [y0, y1, x0, x1] in array pixels (default: everything).

    Returns `{dims, chunk, shard, cells: [[row, col, nbytes], ...], shards: [[row, col, nbytes], ...],
    rawChunkBytes, truncated}` with grid coordinates in chunks (inner chunks when sharded) and shards;
    `nbytes` is None for a chunk that is not stored (it reads as the fill value)."""
    shape, ndim = arr.shape, arr.ndim
    if len(plane) != ndim or sum(p is None for p in plane) != 2:
        raise ZarrliteError(f"chunk map: plane {plane} must give an index for all but two of {ndim} dimensions")
    dy, dx = [i for i, p in enumerate(plane) if p is None]
    y0, y1, x0, x1 = region if region else (0, shape[dy], 0, shape[dx])
    y0, x0 = max(int(y0), 0), max(int(x0), 0)
    y1, x1 = min(int(y1), shape[dy]), min(int(x1), shape[dx])
    chunks = tuple(arr.chunks)
    shards = arr.shards
    stored = tuple(arr.meta.chunks)      # the unit of storage: the shard when sharded
    raw = math.prod(chunks) * arr.dtype.itemsize
    out = {"dims": [dy, dx], "chunk": [chunks[dy], chunks[dx]],
           "shard": None if shards is None else [shards[dy], shards[dx]],
           "rawChunkBytes": raw, "cells": [], "shards": [], "truncated": False}
    if y1 <= y0 or x1 <= x0:
        return out

    dims = arr.meta.chunk_grid.dims      # where stored chunks start: regular or rectilinear (formats/grids.py)

    def span(lo, hi, d):
        return range(dims[d].chunk_of(lo), dims[d].chunk_of(hi - 1) + 1)

    rows, cols = span(y0, y1, dy), span(x0, x1, dx)
    fixed = {d: dims[d].chunk_of(int(p)) for d, p in enumerate(plane) if p is not None}
    inner_per = (stored[dy] // chunks[dy]) * (stored[dx] // chunks[dx])
    if len(rows) * len(cols) * inner_per > MAX_CELLS:
        out["truncated"] = True
        return out

    def key_of(r, c):
        coords = [fixed.get(d, 0) for d in range(ndim)]
        coords[dy], coords[dx] = r, c
        return tuple(coords), arr.chunk_key(coords)

    keys = [(r, c) + key_of(r, c) for r in rows for c in cols]
    sizes = await _bounded_gather([stored_size(arr.store, k) for *_, k in keys])
    if shards is None:
        out["cells"] = [[r, c, n] for (r, c, _, _), n in zip(keys, sizes)]
        return out
    out["shards"] = [[r, c, n] for (r, c, _, _), n in zip(keys, sizes)]
    sharding = arr.meta.pipeline.array_bytes
    inner_fixed = {d: (int(p) - dims[d].start(fixed[d])) // chunks[d] for d, p in enumerate(plane) if p is not None}
    async def inner_cells(r, c, coords, n):
        gy, gx = dims[dy].edge(r) // chunks[dy], dims[dx].edge(c) // chunks[dx]   # inner chunks of this shard
        first_row, first_col = dims[dy].start(r) // chunks[dy], dims[dx].start(c) // chunks[dx]
        cells = []
        index = await arr.shard_index(coords) if n is not None else None   # None: not readable by range
        for iy in range(gy):
            for ix in range(gx):
                row, col = first_row + iy, first_col + ix
                if row * chunks[dy] >= shape[dy] or col * chunks[dx] >= shape[dx]:
                    continue
                if n is None:
                    size = None
                elif index is None:
                    size = -1            # stored, size unknown (codecs around the shard)
                else:
                    at = [inner_fixed.get(d, 0) for d in range(ndim)]
                    at[dy], at[dx] = iy, ix
                    where = sharding.locate(index, tuple(at))
                    size = None if where is None else where[1]
                cells.append([row, col, size])
        return cells

    groups = await asyncio.gather(*(inner_cells(r, c, coords, n) for (r, c, coords, _), n in zip(keys, sizes)))
    out["cells"] = [cell for g in groups for cell in g]
    return out


async def _bounded_gather(coros):
    sem = asyncio.Semaphore(SIZE_CONCURRENCY)

    async def one(coro):
        async with sem:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def stored_size(store, key: str) -> int | None:
    """Stored size of `key` in bytes, or None when missing: the store's `size()` where it has one
    (a File's size, a zip entry's, a local file's, an HTTP HEAD), else the length of the value."""
    size = getattr(store, "size", None)  # CachedStore passes attributes through to the real store
    if callable(size):
        return await size(key)
    data = await store.get(key)
    return None if data is None else len(data)


# -- expressions (the language: zarrlite.expression) -------------------------------------------------
async def evaluate(path: str, selection: str, expr: str):
    """(plane ready for transfer, meta JSON) of `expr` over `arr[selection]`."""
    from .indexing import parse_selection
    from .webworker import transferable

    arr = await _node(path)
    x = np.asarray(await arr.get(parse_selection(selection)))
    out = transferable(evaluate_expression(expr, x))
    return out, json.dumps({"dtype": out.dtype.str, "sourceShape": list(x.shape)})


# -- colormaps ----------------------------------------------------------------------------------------
async def colormaps() -> str:
    """JSON {name: [r, g, b, r, g, b, ...]} of the 256-entry tables of render.py (gray is implicit)."""
    return json.dumps({name: table.ravel().tolist() for name, table in colormap_tables().items()})


async def _node(path: str):
    return await _SESSION.get().node(path)


_CALLS = {"image": image, "summaries": summaries, "describe": describe, "chunk_map": chunk_map, "evaluate": evaluate, "colormaps": colormaps}
# label overlays and plates: their own modules (labels.py, plate.py)
_CALLS.update(**labels.viewer_calls(_node, _SESSION.get), **plate.viewer_calls(_node, _SESSION.get))
_CALLS.update(tables.viewer_calls(_node))  # strings, dates, structured values: a table (tables.py)
_CALLS.update(**volume.viewer_calls(_node), **projection.viewer_calls(_node, _SESSION.get))  # 3-D views
_CALLS.update(coords_api.viewer_calls(_node))  # labelled arrays: CF values, coordinates, line plots
