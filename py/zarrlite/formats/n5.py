"""N5: attributes.json for groups and datasets. Exposed in C order: the shape is `dimensions` reversed."""

from __future__ import annotations

import numpy as np

from ..codecs.chain import n5_pipeline
from ..errors import MetadataError
from .metadata import ArrayMetadata, GroupMetadata, check_sizes, expect_dict, int_list

KEY = "attributes.json"
_DATASET_KEYS = ("dimensions", "blockSize", "dataType")
_RESERVED = {"dimensions", "blockSize", "dataType", "compression", "compressionType"}

DATA_TYPES = {t: np.dtype(t).newbyteorder(">") for t in (
    "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float32", "float64")}


def is_dataset(doc: dict) -> bool:
    return all(k in doc for k in _DATASET_KEYS)


def parse_node(doc, where: str) -> ArrayMetadata | GroupMetadata:
    doc = expect_dict(doc, where)
    if is_dataset(doc):
        return parse_array(doc, where)
    if any(k in doc for k in _DATASET_KEYS):
        missing = [k for k in _DATASET_KEYS if k not in doc]
        raise MetadataError(f"{where}: dataset attributes lack {missing}")
    return GroupMetadata("n5", doc)


def parse_array(doc: dict, where: str) -> ArrayMetadata:
    dims = int_list(doc["dimensions"], f"{where} dimensions", minimum=0)
    block = int_list(doc["blockSize"], f"{where} blockSize", minimum=1)
    kind = doc["dataType"]
    if not isinstance(kind, str) or kind not in DATA_TYPES:
        raise MetadataError(f"{where}: dataType {kind!r} is not supported (supported: {', '.join(DATA_TYPES)})")
    dtype = DATA_TYPES[kind]
    shape, chunks = tuple(reversed(dims)), tuple(reversed(block))
    check_sizes(shape, chunks, dtype, where)
    compression = doc.get("compression")
    if compression is None and "compressionType" in doc:  # the pre-2.0 form
        compression = {"type": doc["compressionType"]}
    pipeline = n5_pipeline(compression if compression is not None else {"type": "raw"}, where)
    return ArrayMetadata(
        format="n5", shape=shape, chunks=chunks, dtype=dtype, fill_value=dtype.type(0), pipeline=pipeline,
        chunk_key=lambda coords: "/".join(map(str, reversed(coords))) or "0",  # rank 0: "0", as tensorstore writes
        attrs={k: v for k, v in doc.items() if k not in _RESERVED},
    )
