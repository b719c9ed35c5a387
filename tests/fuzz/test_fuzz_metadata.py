"""Fuzz every metadata parser: Zarr v2 (.zarray, .zgroup, .zmetadata), Zarr v3 (zarr.json with codecs,
sharding and consolidated metadata), N5 attributes.json and OME-NGFF / N5 multiscales.

Inputs are real documents (from the seed corpus) with random JSON edits — values replaced by hostile
ones, keys deleted or added, types changed — or their serialised bytes with random byte edits. Each
parse must give metadata that holds together, or a ZarrliteError; an array's metadata is then used the
way a read uses it (grid, chunk keys, codec descriptions, decoding a random chunk)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from fuzzkit import (MIB, SETTINGS, apply_byte_mutation, apply_json_mutation, byte_mutations, check_count,
                     guard, json_mutations, json_value, outcome)
from zarrlite.codecs.pipeline import ChunkSpec
from zarrlite.formats import n5, zarr2, zarr3
from zarrlite.formats.metadata import ArrayMetadata, GroupMetadata, load_json
from zarrlite.ome import Multiscale, multiscale_from_attrs

BUDGET = 64 * MIB


def _documents(seeds, name):
    key = (id(seeds), name)
    if key not in _DOCS:
        _DOCS[key] = _collect(seeds, name)
    return _DOCS[key]


_DOCS: dict = {}


def _collect(seeds, name):
    docs = []
    for family in seeds.values():
        for seed in family:
            for key, raw in seed.mapping.items():
                if key.rsplit("/", 1)[-1] == name:
                    docs.append(json.loads(raw))
    return docs


# An input: which seed document, and how it is damaged (JSON edits, byte edits, or a random document).
edits = st.one_of(
    st.tuples(st.just("json"), st.integers(0, 10**6), json_mutations(1)),
    st.tuples(st.just("json"), st.integers(0, 10**6), json_mutations()),
    st.tuples(st.just("bytes"), st.integers(0, 10**6), byte_mutations(2000)),
    st.tuples(st.just("random"), st.integers(0, 10**6), json_value),
)


def damaged(docs, edit):
    """The document after `edit`, parsed as the reader parses it (bytes -> load_json)."""
    mode, index, change = edit
    doc = copy.deepcopy(docs[index % len(docs)])
    if mode == "random":
        doc = change
    elif mode == "json":
        for m in change:
            doc = apply_json_mutation(doc, m)
    raw = json.dumps(doc).encode()
    if mode == "bytes":
        for m in change:
            raw = apply_byte_mutation(raw, m)
    return load_json(raw, "fuzzed document")


# Regression inputs: each crashed a parser (a TypeError, AttributeError, IndexError, ...) before its fix.
V2 = {"zarr_format": 2, "shape": [6, 7], "chunks": [4, 3], "dtype": "<i4", "fill_value": 0, "order": "C",
      "filters": None, "compressor": None}
V3 = {"zarr_format": 3, "node_type": "array", "shape": [6, 7], "data_type": "int32", "fill_value": 0,
      "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 3]}}, "codecs": [{"name": "bytes"}]}
N5 = {"dimensions": [7, 6], "blockSize": [3, 4], "dataType": "int32", "compression": {"type": "raw"}}
REGRESSIONS_V2 = [
    {**V2, "compressor": {"id": "astype", "encode_dtype": "<i4"}},            # a filter as the compressor
    {**V2, "filters": [{"id": "delta", "dtype": ["<i4"]}]},                    # dtype as a list
    {**V2, "filters": [{"id": "fixedscaleoffset", "scale": "x", "offset": 0, "dtype": "<i4"}]},
    {**V2, "filters": [{"id": "fixedscaleoffset", "dtype": "<i4"}]},           # scale missing
    {**V2, "filters": [{"id": "shuffle", "elementsize": "4"}]},
    {**V2, "dtype": "|b1", "filters": [{"id": "packbits"}]},                   # an empty chunk
]
REGRESSIONS_V3 = [
    {**V3, "data_type": []},                                                   # unhashable data_type
    {**V3, "codecs": [{"name": "transpose", "configuration": {"order": [0, "a"]}}, {"name": "bytes"}]},
    {**V3, "codecs": [{"name": "bytes"}, {"name": "blosc", "configuration": {"shuffle": ["x"]}}]},
    {**V3, "chunk_key_encoding": {"name": "default", "configuration": ["/"]}},
    {**V3, "storage_transformers": 5},
    {"zarr_format": 3, "node_type": "group", "consolidated_metadata": {"metadata": {"../x": V3}}},
]
REGRESSIONS_N5 = [{**N5, "dataType": ["int32"]}]
REGRESSIONS_OME = [
    {"scales": [[1, 1], [None, 2]]},                                           # float(None)
    {"scales": [[1, 1]], "pixelResolution": {"dimensions": ["0x7fc00000", 1]}},
    {"multiscales": [{"datasets": [{"path": "0", "coordinateTransformations": [{"type": ["scale"]}]}]}]},
]


def regressions(docs, **other):
    """@example decorators: each document as a 'random' edit (the document replaces the seed)."""
    def decorate(test):
        for i, doc in enumerate(docs):
            test = example(edit=("random", i, doc), **other)(test)
        return test
    return decorate


def use_array(meta: ArrayMetadata):
    """What a read does with parsed metadata; every value must be coherent."""
    assert len(meta.shape) == len(meta.chunks)
    assert all(isinstance(s, int) and s >= 0 for s in meta.shape)
    assert all(isinstance(c, int) and c >= 1 for c in meta.chunks)
    assert meta.dtype.kind in "biufcmM", meta.dtype
    np.array(meta.fill_value, dtype=meta.dtype)  # the fill value fits the dtype
    grid = meta.grid
    for coords in ((0,) * meta.ndim, tuple(max(g - 1, 0) for g in grid)):
        key = meta.chunk_key(coords)
        assert isinstance(key, str) and key and ".." not in key.split("/"), key
    assert all(isinstance(d, str) for d in meta.pipeline.describe())
    return meta


def decode_random_chunk(meta: ArrayMetadata, chunk: bytes):
    """A random chunk through the parsed codec chain: a result or a ZarrliteError."""
    if math.prod(meta.chunks) * meta.dtype.itemsize <= 1 * MIB:
        meta.pipeline.decode_sync(chunk, ChunkSpec(meta.chunks, meta.dtype, meta.fill_value))


def decode_all(stats, metas, chunk):
    for meta in metas:
        outcome(stats, decode_random_chunk, meta, chunk, label="chunk ")


def check_parsed(meta):
    if isinstance(meta, ArrayMetadata):
        return meta
    if meta is not None:
        assert isinstance(meta, GroupMetadata), meta
        assert isinstance(meta.attrs, dict)
    return meta


# ------------------------------------------------------------------------------------- zarr v2

def parse_v2_array(doc, attrs):
    return [use_array(zarr2.parse_array(doc, attrs, "'a' .zarray"))]


@given(edit=edits, attrs=st.one_of(st.none(), json_value), chunk=st.binary(max_size=256))
@regressions(REGRESSIONS_V2, attrs=None, chunk=bytes(4))
@example(edit=("json", 3, [(4, "replace", {"id": "delta", "dtype": "|O"}, "filters")]), attrs=None, chunk=b"")
@example(edit=("json", 5, [(0, "insert", [2**63, 1], "chunks")]), attrs=None, chunk=b"")
@SETTINGS
def _zarr2_array(seeds, edit, attrs, chunk):
    with guard("metadata-zarr2-array", BUDGET) as stats:
        docs = _documents(seeds, ".zarray")
        metas = outcome(stats, lambda: parse_v2_array(damaged(docs, edit), attrs))
        if isinstance(metas, list):
            decode_all(stats, metas, chunk)


def test_zarr2_array(seeds):
    _zarr2_array(seeds)
    check_count("metadata-zarr2-array")


def parse_v2_consolidated(raw: bytes):
    nodes = zarr2.parse_consolidated(raw, "'.zmetadata'")
    metas = []
    for path, entry in nodes.items():
        if entry.get("array") is not None:
            metas.append(use_array(zarr2.parse_array(entry["array"], entry.get("attrs"), f"'{path}' .zarray")))
        elif entry.get("group") is not None:
            check_parsed(zarr2.parse_group(entry["group"], entry.get("attrs"), f"'{path}' .zgroup"))
    return metas


@given(edit=edits, chunk=st.binary(max_size=64))
@SETTINGS
def _zarr2_consolidated(seeds, edit, chunk):
    with guard("metadata-zarr2-consolidated", BUDGET) as stats:
        docs = _documents(seeds, ".zmetadata") + _documents(seeds, ".zgroup")

        metas = outcome(stats, lambda: parse_v2_consolidated(json.dumps(damaged(docs, edit)).encode()))
        if isinstance(metas, list):
            decode_all(stats, metas, chunk)


def test_zarr2_consolidated(seeds):
    _zarr2_consolidated(seeds)
    check_count("metadata-zarr2-consolidated")


# ------------------------------------------------------------------------------------- zarr v3

def parse_v3(doc):
    meta = zarr3.parse_node(doc, "'/' zarr.json")
    if isinstance(meta, ArrayMetadata):
        return [use_array(meta)]
    check_parsed(meta)
    metas = []
    for path, entry in (meta.consolidated or {}).items():
        inner = zarr3.parse_node(entry["zarr.json"], f"'{path}' zarr.json")
        if isinstance(inner, ArrayMetadata):
            metas.append(use_array(inner))
    return metas


@given(edit=edits, chunk=st.binary(max_size=256))
@regressions(REGRESSIONS_V3, chunk=bytes(4))
@example(edit=("json", 0, [(0, "replace", {"zarr_format": 3, "node_type": "array", "shape": [4],
                                          "data_type": "uint8", "chunk_grid": {"name": "regular",
                                          "configuration": {"chunk_shape": [4]}},
                                          "codecs": [{"name": "sharding_indexed", "configuration": {
                                              "chunk_shape": [0], "codecs": [{"name": "bytes"}]}}]}, "")]),
         chunk=b"")
@SETTINGS
def _zarr3(seeds, edit, chunk):
    with guard("metadata-zarr3", BUDGET) as stats:
        docs = _documents(seeds, "zarr.json")
        metas = outcome(stats, lambda: parse_v3(damaged(docs, edit)))
        if isinstance(metas, list):
            decode_all(stats, metas, chunk)


def test_zarr3(seeds):
    _zarr3(seeds)
    check_count("metadata-zarr3")


# ------------------------------------------------------------------------------------------ N5

def parse_n5(doc):
    meta = n5.parse_node(doc, "'/' attributes.json")
    if isinstance(meta, ArrayMetadata):
        return [use_array(meta)]
    check_parsed(meta)
    return []


@given(edit=edits, chunk=st.binary(max_size=256))
@regressions(REGRESSIONS_N5, chunk=bytes(4))
@SETTINGS
def _n5(seeds, edit, chunk):
    with guard("metadata-n5", BUDGET) as stats:
        docs = _documents(seeds, "attributes.json")
        metas = outcome(stats, lambda: parse_n5(damaged(docs, edit)))
        if isinstance(metas, list):
            decode_all(stats, metas, chunk)


def test_n5(seeds):
    _n5(seeds)
    check_count("metadata-n5")


# ---------------------------------------------------------------------------- OME-NGFF / N5 scales

def _attribute_documents(seeds):
    docs = [d for d in _documents(seeds, ".zattrs") if isinstance(d, dict)]
    docs += [d.get("attributes", {}) for d in _documents(seeds, "zarr.json")]
    docs += _documents(seeds, "attributes.json")
    return [d for d in docs if d]


def parse_ome(attrs):
    ms = multiscale_from_attrs(attrs)
    if ms is not None:
        assert isinstance(ms, Multiscale)
        assert all(isinstance(level.path, str) for level in ms.levels)
        ms.as_dict()
    return ms


@given(edit=edits)
@regressions(REGRESSIONS_OME)
@SETTINGS
def _ome(seeds, edit):
    with guard("metadata-ome-multiscales", BUDGET) as stats:
        docs = _attribute_documents(seeds)
        outcome(stats, lambda: parse_ome(damaged(docs, edit)))


def test_ome_multiscales(seeds):
    _ome(seeds)
    check_count("metadata-ome-multiscales")
