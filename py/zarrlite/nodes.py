"""Finding and parsing the metadata of a node: format detection, consolidated metadata."""

from __future__ import annotations

import asyncio

from .array import Array
from .context import Context
from .errors import NotFoundError
from .formats import n5, zarr2, zarr3
from .formats.metadata import ArrayMetadata, GroupMetadata, expect_dict, load_json
from .group import Group
from .stores.keys import check_key, join_key

_PROBES = {
    "zarr3": (zarr3.KEY,),
    "zarr2": (zarr2.ARRAY_KEY, zarr2.GROUP_KEY, zarr2.ATTRS_KEY),
    "n5": (n5.KEY,),
}


async def open_node(ctx: Context, path: str) -> Array | Group:
    path = check_key(path.strip("/"))
    docs = ctx.consolidated.get(path) if ctx.consolidated is not None else None
    if docs is None:
        docs = await _fetch(ctx, path)
    node = _parse(ctx, path, docs)
    if node is None:
        raise NotFoundError(f"no array or group at '{path or '/'}' in {ctx.store!r}")
    return node


async def _fetch(ctx: Context, path: str) -> dict:
    formats = [ctx.format] if ctx.format else list(_PROBES)
    keys = [k for f in formats for k in _PROBES[f]]
    values = await asyncio.gather(*(ctx.store.get(join_key(path, k)) for k in keys))
    docs = {k: expect_dict(load_json(v, f"'{join_key(path, k)}'"), f"'{join_key(path, k)}'")
            for k, v in zip(keys, values) if v is not None}
    if not ctx.format and not path and zarr2.GROUP_KEY in docs:
        raw = await ctx.store.get(zarr2.CONSOLIDATED_KEY)
        if raw is not None:
            ctx.consolidated = zarr2.parse_consolidated(raw, f"'{zarr2.CONSOLIDATED_KEY}'")
            ctx.format = "zarr2"
    return {"zarr2": _v2_docs(docs), "zarr3": docs.get(zarr3.KEY), "n5": docs.get(n5.KEY), "_raw": docs}


def _v2_docs(docs):
    out = {}
    if zarr2.ARRAY_KEY in docs:
        out["array"] = docs[zarr2.ARRAY_KEY]
    if zarr2.GROUP_KEY in docs:
        out["group"] = docs[zarr2.GROUP_KEY]
    if zarr2.ATTRS_KEY in docs:
        out["attrs"] = docs[zarr2.ATTRS_KEY]
    return out


def _parse(ctx: Context, path: str, docs: dict):
    where = f"'{path or '/'}'"
    if "_raw" not in docs:  # an entry of consolidated metadata
        docs = {"zarr3": docs.get(zarr3.KEY), "zarr2": {k: v for k, v in docs.items() if k != zarr3.KEY},
                "n5": None}
    if docs["zarr3"] is not None:
        meta = zarr3.parse_node(docs["zarr3"], f"{where} zarr.json")
        fmt = "zarr3"
        if not path and not ctx.consolidated and isinstance(meta, GroupMetadata) and meta.consolidated:
            ctx.consolidated = {join_key(path, p): d for p, d in meta.consolidated.items()}
    elif docs["zarr2"].get("array") is not None:
        meta = zarr2.parse_array(docs["zarr2"]["array"], docs["zarr2"].get("attrs"), f"{where} .zarray")
        fmt = "zarr2"
    elif docs["zarr2"].get("group") is not None:
        meta = zarr2.parse_group(docs["zarr2"]["group"], docs["zarr2"].get("attrs"), f"{where} .zgroup")
        fmt = "zarr2"
    elif docs["n5"] is not None:
        meta = n5.parse_node(docs["n5"], f"{where} attributes.json")
        fmt = "n5"
    else:
        return None
    if ctx.format is None:
        ctx.format = fmt
    if isinstance(meta, ArrayMetadata):
        return Array(ctx, path, meta)
    return Group(ctx, path, meta, open_node)

