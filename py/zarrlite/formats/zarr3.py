"""Zarr v3: zarr.json for arrays and groups, consolidated metadata inline in the root zarr.json."""

from __future__ import annotations

from ..codecs.chain import v3_pipeline
from ..codecs.sharding import ShardingCodec
from ..errors import MetadataError
from .dtypes import check_object_codec, v3_data_type
from .grids import ChunkGrid, parse_rectilinear
from .metadata import (ArrayMetadata, GroupMetadata, check_sizes, expect_dict, int_list, member_path,
                       parse_fill_value)

KEY = "zarr.json"

def parse_node(doc, where: str) -> ArrayMetadata | GroupMetadata:
    doc = expect_dict(doc, where)
    if doc.get("zarr_format") != 3:
        raise MetadataError(f"{where}: zarr_format is {doc.get('zarr_format')!r}, expected 3")
    kind = doc.get("node_type")
    _refuse_unknown_fields(doc, _ARRAY_FIELDS if kind == "array" else _GROUP_FIELDS, where)
    if kind == "group":
        return GroupMetadata("zarr3", expect_dict(doc.get("attributes") or {}, f"{where} attributes"),
                             _consolidated(doc, where))
    if kind == "array":
        return parse_array(doc, where)
    raise MetadataError(f"{where}: node_type must be 'array' or 'group', not {kind!r}")


_GROUP_FIELDS = {"zarr_format", "node_type", "attributes", "consolidated_metadata"}
_ARRAY_FIELDS = {"zarr_format", "node_type", "shape", "data_type", "chunk_grid", "chunk_key_encoding",
                 "fill_value", "codecs", "attributes", "dimension_names", "storage_transformers"}


def _refuse_unknown_fields(doc: dict, known: set, where: str) -> None:
    """The spec: an unknown field must be understood unless it says `"must_understand": false`."""
    for key, value in doc.items():
        if key not in known and not (isinstance(value, dict) and value.get("must_understand") is False):
            raise MetadataError(f"{where}: unknown field {key!r} (an extension this reader does not support)")


def _consolidated(doc, where):
    cm = doc.get("consolidated_metadata")
    if not cm:
        return None
    meta = expect_dict(expect_dict(cm, f"{where} consolidated_metadata").get("metadata"),
                       f"{where} consolidated_metadata.metadata")
    return {member_path(path, where): {"zarr.json": value} for path, value in meta.items()}


def parse_array(doc: dict, where: str) -> ArrayMetadata:
    for key in ("shape", "data_type", "chunk_grid", "codecs"):
        if key not in doc:
            raise MetadataError(f"{where}: missing {key!r}")
    shape = int_list(doc["shape"], f"{where} shape", minimum=0)
    dtype, object_codec = v3_data_type(doc["data_type"], f"{where} data_type")
    chunks, rectilinear = parse_chunk_grid(doc["chunk_grid"], shape, where)
    check_sizes(shape, chunks, dtype, where)
    if doc.get("storage_transformers"):
        transformers = doc["storage_transformers"]
        names = [t.get("name") if isinstance(t, dict) else t
                 for t in (transformers if isinstance(transformers, list) else [transformers])]
        raise MetadataError(f"{where}: storage_transformers {names} are not supported")
    pipeline = v3_pipeline(doc["codecs"], len(shape), f"{where} codecs")
    if isinstance(pipeline.array_bytes, ShardingCodec):
        _check_shards(pipeline.array_bytes, chunks, rectilinear)
    check_object_codec(doc["data_type"], object_codec, pipeline, where)
    names = doc.get("dimension_names")
    if names is not None and (not isinstance(names, list) or len(names) != len(shape)):
        raise MetadataError(f"{where}: dimension_names must be a list of {len(shape)} names")
    return ArrayMetadata(
        format="zarr3", shape=shape, chunks=chunks, dtype=dtype,
        fill_value=parse_fill_value(doc.get("fill_value"), dtype, f"{where} fill_value", object_codec),
        pipeline=pipeline, chunk_key=_key_function(doc.get("chunk_key_encoding"), len(shape), where),
        attrs=expect_dict(doc.get("attributes") or {}, f"{where} attributes"),
        dimension_names=tuple(names) if names else None, rectilinear=rectilinear,
    )


def parse_chunk_grid(grid, shape, where: str) -> tuple[tuple[int, ...], ChunkGrid | None]:
    """(chunk shape, None) for the core `regular` grid; for the zarr-extensions `rectilinear` grid its
    largest chunk and the grid (formats/grids.py)."""
    grid = expect_dict(grid, f"{where} chunk_grid")
    name = grid.get("name")
    conf = expect_dict(grid.get("configuration"), f"{where} chunk_grid.configuration")
    if name == "regular":
        return int_list(conf.get("chunk_shape"), f"{where} chunk_shape", minimum=1), None
    if name == "rectilinear":
        rectilinear = parse_rectilinear(conf, shape, f"{where} chunk_grid")
        return rectilinear.largest, rectilinear
    raise MetadataError(f"{where}: chunk_grid {name!r} is not supported (only 'regular' and 'rectilinear')")


def _check_shards(sharding: ShardingCodec, chunks, rectilinear: ChunkGrid | None) -> None:
    """Every shard must divide into inner chunks (in a rectilinear grid: every edge length)."""
    sharding.grid(chunks)
    for axis, dim in enumerate(rectilinear.dims if rectilinear else ()):
        for edge in getattr(dim, "edges", ()):
            if edge % sharding.chunk_shape[axis]:
                raise MetadataError(f"sharding: shard edge {edge} of dimension {axis} is not a multiple of "
                                    f"the inner chunk shape {list(sharding.chunk_shape)}")


def _key_function(encoding, ndim: int, where: str):
    encoding = expect_dict(encoding or {"name": "default"}, f"{where} chunk_key_encoding")
    name = encoding.get("name")
    conf = expect_dict(encoding.get("configuration") or {}, f"{where} chunk_key_encoding.configuration")
    sep = conf.get("separator", "/" if name == "default" else ".")
    if sep not in ("/", "."):
        raise MetadataError(f"{where}: chunk key separator must be '/' or '.', not {sep!r}")
    if name == "default":
        return lambda coords: sep.join(("c", *map(str, coords)))
    if name == "v2":
        if ndim == 0:
            return lambda coords: "0"
        return lambda coords: sep.join(map(str, coords))
    raise MetadataError(f"{where}: chunk_key_encoding {name!r} is not supported")
