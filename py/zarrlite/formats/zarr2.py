"""Zarr v2: .zarray / .zgroup / .zattrs, consolidated .zmetadata."""

from __future__ import annotations

from dataclasses import replace

from ..codecs.array_codecs import TransposeCodec
from ..codecs.chain import numcodecs_codec, v2_pipeline
from ..codecs.registry import refuse_if_unsafe
from ..errors import MetadataError
from .dtypes import check_object_codec, v2_dtype, variable_length
from .metadata import (ArrayMetadata, GroupMetadata, check_sizes, expect_dict, int_list, load_json,
                       member_path, parse_fill_value)

ARRAY_KEY, GROUP_KEY, ATTRS_KEY, CONSOLIDATED_KEY = ".zarray", ".zgroup", ".zattrs", ".zmetadata"


def parse_array(doc, attrs: dict | None, where: str) -> ArrayMetadata:
    doc = expect_dict(doc, where)
    if doc.get("zarr_format") != 2:
        raise MetadataError(f"{where}: zarr_format is {doc.get('zarr_format')!r}, expected 2")
    for key in ("shape", "chunks", "dtype"):
        if key not in doc:
            raise MetadataError(f"{where}: missing {key!r}")
    shape = int_list(doc["shape"], f"{where} shape", minimum=0)
    chunks = int_list(doc["chunks"], f"{where} chunks", minimum=1)
    filters = doc.get("filters")
    if filters is not None and not isinstance(filters, list):
        raise MetadataError(f"{where}: filters must be a list or null")
    object_codec = filters[0].get("id") if filters and isinstance(filters[0], dict) else None
    if isinstance(object_codec, str):
        refuse_if_unsafe(object_codec)  # pickle and its kind, named as such
    dtype = v2_dtype(doc["dtype"], object_codec, f"{where} dtype")
    check_sizes(shape, chunks, dtype, where)
    order = doc.get("order", "C")
    if order not in ("C", "F"):
        raise MetadataError(f"{where}: order must be 'C' or 'F', not {order!r}")
    sep = doc.get("dimension_separator") or "."
    if sep not in (".", "/"):
        raise MetadataError(f"{where}: dimension_separator must be '.' or '/', not {sep!r}")
    pipeline = (_object_pipeline if variable_length(dtype) else v2_pipeline)(
        order, len(shape), filters, doc.get("compressor"), where)
    check_object_codec(doc["dtype"], object_codec if variable_length(dtype) else None, pipeline, where)
    return ArrayMetadata(
        format="zarr2", shape=shape, chunks=chunks, dtype=dtype,
        fill_value=parse_fill_value(doc.get("fill_value"), dtype, f"{where} fill_value", object_codec),
        pipeline=pipeline, chunk_key=_key_function(sep, len(shape)),
        attrs=expect_dict(attrs or {}, f"{where} .zattrs"),
    )


def _object_pipeline(order, ndim, filters, compressor, where):
    """An object array: its object codec (filters[0]) turns elements into bytes, which the later filters
    and the compressor work on (numcodecs applies filters in turn)."""
    rest = v2_pipeline(order, ndim, filters[1:], compressor, where)
    if any(not isinstance(c, TransposeCodec) for c in rest.array_array):
        raise MetadataError(f"{where}: filters {[f.get('id') for f in filters[1:]]} of an object array "
                            "must work on bytes, not arrays")
    return replace(rest, array_bytes=numcodecs_codec(filters[0], f"{where} filters"))


def _key_function(sep: str, ndim: int):
    if ndim == 0:
        return lambda coords: "0"
    return lambda coords: sep.join(map(str, coords))


def parse_group(doc, attrs: dict | None, where: str, consolidated: dict | None = None) -> GroupMetadata:
    doc = expect_dict(doc, where)
    if doc.get("zarr_format") != 2:
        raise MetadataError(f"{where}: zarr_format is {doc.get('zarr_format')!r}, expected 2")
    return GroupMetadata("zarr2", expect_dict(attrs or {}, f"{where} .zattrs"), consolidated)


def parse_consolidated(data: bytes, where: str) -> dict:
    """.zmetadata -> {node path: {"array"|"group": doc, "attrs": dict}}."""
    doc = expect_dict(load_json(data, where), where)
    meta = expect_dict(doc.get("metadata"), f"{where} metadata")
    nodes: dict[str, dict] = {}
    for key, value in meta.items():
        path, _, name = member_path(key, where).rpartition("/")
        entry = nodes.setdefault(path, {})
        if name == ARRAY_KEY:
            entry["array"] = value
        elif name == GROUP_KEY:
            entry["group"] = value
        elif name == ATTRS_KEY:
            entry["attrs"] = value
    return nodes
