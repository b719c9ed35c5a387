"""Fuzz whole opens and reads: real arrays and groups (Zarr v2 with every compressor and filters,
Zarr v3 with its codecs, sharding with the index at either end, N5 with every compression, consolidated
groups with OME / N5 multiscales) in a MemoryStore, damaged by byte edits of chunks and metadata,
JSON edits of metadata, and deleted keys, then opened with `zarrlite.open_async` and read.

A read gives an array of the right shape and dtype (the original data when nothing was damaged) or a
ZarrliteError. Opens run with a 16 MiB memory budget, and a case may not allocate more than 64 MiB."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import zarrlite
from fuzzkit import (MIB, SETTINGS, apply_byte_mutation, apply_json_mutation, byte_mutations, check_count,
                     guard, json_mutations, outcome, run, selection_for)
from zarrlite.stores import MemoryStore

MAX_BYTES = 16 * MIB
CASE_MEMORY = 64 * MIB
MAX_CHUNKS = 512  # reads touching more chunks (metadata made the chunks tiny) read a corner instead

key_edit = st.one_of(
    st.tuples(st.just("json"), st.integers(0, 10**6), json_mutations()),
    st.tuples(st.just("json"), st.integers(0, 10**6), json_mutations(1)),
    st.tuples(st.just("chunk"), st.integers(0, 10**6), byte_mutations(4096)),
    st.tuples(st.just("any"), st.integers(0, 10**6), byte_mutations(4096)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.just(())),
)


def damage(seed, edits) -> dict:
    mapping = dict(seed.mapping)
    for kind, index, change in edits:
        keys = {"json": seed.json_keys, "chunk": seed.chunk_keys}.get(kind) or sorted(seed.mapping)
        key = keys[index % len(keys)]
        if key not in mapping:
            continue
        if kind == "delete":
            del mapping[key]
        elif kind == "json":
            try:
                doc = json.loads(mapping[key])
            except ValueError:
                continue  # an earlier edit broke it already
            for m in change:
                doc = apply_json_mutation(doc, m)
            mapping[key] = json.dumps(doc).encode()
        else:
            for m in change:
                mapping[key] = apply_byte_mutation(mapping[key], m)
    return mapping


async def read_array(arr):
    assert isinstance(arr.shape, tuple) and len(arr.chunks) == arr.ndim
    sel = selection_for(arr.shape, MAX_CHUNKS, arr.chunks)
    data = await arr.get(sel)
    assert isinstance(data, np.ndarray) and data.dtype == arr.dtype, (data.dtype, arr.dtype)
    if sel is ...:
        assert data.shape == arr.shape, (data.shape, arr.shape)
    return data


async def open_and_read(mapping, path):
    node = await zarrlite.open_async(MemoryStore(mapping), path, max_bytes=MAX_BYTES)
    if isinstance(node, zarrlite.Array):
        return await read_array(node)
    node.multiscale  # noqa: B018 - OME / N5 multiscale parsing of the group's attributes
    await node.tree_async(3)
    for name in (await node.members())[:8]:
        child = await node.get_child(name)
        if isinstance(child, zarrlite.Array):
            await read_array(child)
    return node


def check_intact(seed, mapping, result):
    """Nothing was changed (edits can cancel out): the read must be the truth."""
    if mapping == seed.mapping and seed.truth is not None:
        assert isinstance(result, np.ndarray), f"an undamaged array failed to read: {result!r}"
        np.testing.assert_array_equal(result, seed.truth)


FAMILIES = ["zarr2", "zarr3", "sharding", "n5", "groups"]


@pytest.mark.parametrize("family", FAMILIES)
def test_open_and_read(seeds, family):
    target = f"open-{family}"
    family_seeds = seeds[family]

    @given(index=st.integers(0, 10**6), edits=st.lists(key_edit, max_size=3))
    @example(index=0, edits=[])
    @example(index=0, edits=[("json", 0, [(1, "tweak", None, "")])])
    @SETTINGS
    def case(index, edits):
        seed = family_seeds[index % len(family_seeds)]
        with guard(target, CASE_MEMORY) as stats:
            mapping = damage(seed, edits)
            result = outcome(stats, lambda: run(open_and_read(mapping, seed.path)))
            check_intact(seed, mapping, result)

    case()
    check_count(target)
