"""Fuzz every codec path directly: each compressor of the registry (`make_compressor(name, {})
.decode(data, limit)`), the crc32c checksum, N5's block format (every N5 compression) and the sharding
codec, with valid encodings damaged by byte edits, random bytes behind a valid magic number, and
limits at, below and above the true size.

Each decode gives at most `limit` bytes (exactly the original when nothing was damaged and the limit
allows it) or a ZarrliteError, and never allocates much beyond the limit: a highly compressible seed
with a small limit is a small decompression bomb."""

from __future__ import annotations

import json

import numcodecs
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fuzzkit import (MIB, SETTINGS, apply_byte_mutation, byte_mutations, check_count, guard, outcome)
from zarrlite.codecs import registry
from zarrlite.codecs.crc32c import Crc32cCodec
from zarrlite.codecs.pipeline import ChunkSpec
from zarrlite.codecs.stdlib import LZMA_MEMLIMIT
from zarrlite.formats import n5, zarr3

PAYLOADS = [
    b"",
    bytes(256 << 10),                                                          # compresses ~1000x
    np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),  # incompressible
    np.cumsum(np.random.default_rng(2).integers(-3, 4, 8192)).astype("<i2").tobytes(),
]


def _crc(data: bytes) -> bytes:
    import crc32c

    return data + crc32c.crc32c(data).to_bytes(4, "little")


ENCODERS = {
    "zlib": [numcodecs.Zlib(level=1).encode],
    "gzip": [numcodecs.GZip(level=1).encode],
    "bz2": [numcodecs.BZ2(level=1).encode],
    "lzma": [numcodecs.LZMA(preset=1).encode,
             numcodecs.LZMA(format=2, filters=None, preset=1).encode],  # .xz and .lzma ("alone")
    "blosc": [numcodecs.Blosc(cname=c, shuffle=s, blocksize=b).encode
              for c, s, b in (("lz4", 1, 0), ("zstd", 2, 0), ("blosclz", 0, 0), ("zlib", 1, 4096),
                              ("lz4hc", 2, 0))],
    "zstd": [numcodecs.Zstd(level=1).encode, numcodecs.Zstd(level=5, checksum=True).encode],
    "lz4": [numcodecs.LZ4().encode],
    "crc32c": [_crc],
}

# A valid start, so random bytes behind it get past the first header check.
MAGIC = {"zlib": b"\x78\x01", "gzip": b"\x1f\x8b\x08\x00", "bz2": b"BZh9", "lzma": b"\xfd7zXZ\x00",
         "blosc": b"\x02\x01\x01\x01", "zstd": b"\x28\xb5\x2f\xfd", "lz4": b"\x00\x10\x00\x00", "crc32c": b""}


def _seeds(name):
    return [(bytes(encode(p)), p) for encode in ENCODERS[name] for p in PAYLOADS]


SEEDS = {name: _seeds(name) for name in ENCODERS}

inputs = st.one_of(
    st.tuples(st.just("mutated"), st.integers(0, 10**6), byte_mutations(300_000)),
    st.tuples(st.just("intact"), st.integers(0, 10**6), st.just(())),
    st.tuples(st.just("magic"), st.integers(0, 10**6), st.binary(max_size=4096)),
)
limits = st.one_of(st.sampled_from(["exact", "less", "zero", "double"]), st.integers(0, 1 << 20))


# Memory a decoder may take whatever the limit: liblzma's dictionary (zarrlite caps it at LZMA_MEMLIMIT).
EXTRA_MEMORY = {"lzma": LZMA_MEMLIMIT + MIB}


def _limit(choice, size):
    if isinstance(choice, int):
        return choice
    return {"exact": size, "less": max(size - 1, 0), "zero": 0, "double": 2 * size}[choice]


def make(name):
    return Crc32cCodec() if name == "crc32c" else registry.make_compressor(name, {})


def decode_case(name, data, original, limit, intact):
    out = make(name).decode(data, limit)
    out = bytes(out)
    assert len(out) <= limit, f"{name}: {len(out)} bytes out, limit {limit}"
    if intact and len(original) <= limit:
        assert out == original, f"{name}: an intact stream decoded wrongly"
    return out


@pytest.mark.parametrize("name", list(ENCODERS))
def test_compressor(name):
    target = f"codec-{name}"

    @given(case=inputs, limit=limits)
    @example(case=("intact", 1, ()), limit="less")          # 256 KiB of zeros, limit one byte short
    @example(case=("mutated", 1, [("int32", 4, (0xFFFFFFFF, "<"))]), limit="exact")  # blosc nbytes / lz4
    @SETTINGS
    def run(case, limit):
        mode, index, change = case
        data, original = SEEDS[name][index % len(SEEDS[name])]
        if mode == "mutated":
            for m in change:
                data = apply_byte_mutation(data, m)
        elif mode == "magic":
            data = MAGIC[name] + change
        lim = _limit(limit, len(original))
        with guard(target, 4 * (lim + len(data)) + 2 * MIB + EXTRA_MEMORY.get(name, 0)) as stats:
            outcome(stats, decode_case, name, data, original, lim, mode == "intact")

    run()
    check_count(target)


# ---------------------------------------------------------------------------------------- N5 blocks

def _n5_seeds(seeds):
    out = []
    for seed in seeds["n5"]:
        meta = n5.parse_node(json.loads(seed.mapping["attributes.json"]), "n5")
        for key in seed.chunk_keys:
            out.append((seed.name, meta, seed.mapping[key]))
    return out


def decode_chunk(meta, data):
    arr = meta.pipeline.decode_sync(data, ChunkSpec(meta.chunks, meta.dtype, meta.fill_value))
    assert isinstance(arr, np.ndarray) and arr.ndim == len(meta.chunks)
    assert all(a <= c for a, c in zip(arr.shape, meta.chunks)), (arr.shape, meta.chunks)
    return arr


@given(index=st.integers(0, 10**6), edits=byte_mutations(4096, max_edits=4))
@example(index=0, edits=[("int32", 4, (0x7FFFFFFF, ">"))])  # a huge blockSize in the block header
@example(index=0, edits=[("int32", 0, (0x00010002, ">")), ("int32", 12, (0xFFFFFFFF, ">"))])  # varlength count
@SETTINGS
def _n5_block(seeds, index, edits):
    with guard("codec-n5-block", 16 * MIB) as stats:
        blocks = _n5_seeds(seeds)
        _, meta, data = blocks[index % len(blocks)]
        for m in edits:
            data = apply_byte_mutation(data, m)
        outcome(stats, decode_chunk, meta, data)


def test_n5_block(seeds):
    _n5_block(seeds)
    check_count("codec-n5-block")


# ------------------------------------------------------------------------------------------ sharding

def _shards(seeds):
    out = []
    for seed in seeds["sharding"]:
        meta = zarr3.parse_node(json.loads(seed.mapping["zarr.json"]), "shard")
        for key in seed.chunk_keys:
            out.append((meta, seed.mapping[key]))
    return out


@given(index=st.integers(0, 10**6), edits=byte_mutations(4096, max_edits=4))
@example(index=0, edits=[("int64", 1700 - 16 * 4 - 4, (2**63, "<"))])  # an offset far outside the shard
@SETTINGS
def _shard(seeds, index, edits):
    with guard("codec-sharding", 16 * MIB) as stats:
        shards = _shards(seeds)
        meta, data = shards[index % len(shards)]
        for m in edits:
            data = apply_byte_mutation(data, m)
        outcome(stats, decode_chunk, meta, data)


def test_sharding(seeds):
    _shard(seeds)
    check_count("codec-sharding")
