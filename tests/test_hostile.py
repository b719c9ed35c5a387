"""Input made to hurt: keys escaping a store, zip entries outside the root, codecs that would run code,
decompression bombs for every compressor (and every N5 block compression), absurd shapes and block
headers, shard indexes pointing outside their shard, and selections beyond the memory budget.

Bombs are read in-process under tracemalloc: the decoders' buffers (Python objects, numpy, the
compression libraries' allocations) must stay near the expected chunk size, never near the inflated one.
"""

from __future__ import annotations

import asyncio
import bz2
import json
import lzma
import struct
import tracemalloc
import zipfile
import zlib

import numcodecs
import numpy as np
import pytest

import zarrlite
from writers import lz4_block_stream, make_data, zarr_python
from zarrlite.codecs import registry
from zarrlite.errors import BudgetError, ChunkError, CodecError, KeyRejectedError, MetadataError
from zarrlite.stores import HttpStore, LocalStore, MemoryStore, ZipStore

MIB = 1 << 20
BAD_KEYS = ["../outside/.zarray", "a/../../x", "/etc/passwd", "C:/x", "a\\..\\b", "a\\b", "a\x00b", "..", "a/.."]


def read(mapping, path="", **options):
    async def go():
        node = await zarrlite.open_async(MemoryStore(mapping), path, **options)
        return await node.get(...)
    return asyncio.run(go())


# ------------------------------------------------------------------------------------ keys and paths

@pytest.fixture(scope="module")
def stores(tmp_path_factory, http_server):
    root = tmp_path_factory.mktemp("hostile-keys")
    (root / "inside").mkdir()
    (root / "inside" / "x").write_bytes(b"inside")
    (root / "outside").write_bytes(b"secret")
    zpath = root / "inside.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("x", b"inside")
    return {"local": LocalStore(str(root / "inside")), "zip": ZipStore(str(zpath)),
            "memory": MemoryStore({"x": b"inside", "../outside": b"secret"}),
            "http": HttpStore(http_server.mount("hostile-keys", root / "inside"), retries=0, timeout=5)}


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
@pytest.mark.parametrize("kind", ["local", "zip", "memory", "http"])
def test_escaping_keys_are_rejected_by_every_store(stores, kind, key):
    store = stores[kind]
    for call in (store.get(key), store.get_range(key, 0, 4), store.get_range(key, -4, 4)):
        with pytest.raises(KeyRejectedError, match="store key"):
            asyncio.run(call)
    assert asyncio.run(store.get("x")) == b"inside"  # the store still works


def test_member_paths_from_metadata_cannot_escape():
    """Member names from OME multiscales go through the same key check as every other key."""
    mapping = {"zarr.json": json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {
        "ome": {"version": "0.5", "multiscales": [{"axes": [{"name": "x"}], "datasets": [{"path": "../s0"}]}]}}
    }).encode()}
    group = asyncio.run(zarrlite.open_async(MemoryStore(mapping)))
    with pytest.raises(KeyRejectedError):
        asyncio.run(group.get_child(group.multiscale.levels[0].path))


@pytest.mark.parametrize("fmt", ["zarr2", "zarr3"])
@pytest.mark.parametrize("path", ["../outside", "/abs", "a/../../b", "a\\b", "a\x00"])
def test_consolidated_metadata_naming_paths_outside_is_refused(fmt, path):
    if fmt == "zarr2":
        mapping = {".zgroup": b'{"zarr_format": 2}', ".zmetadata": json.dumps({"zarr_consolidated_format": 1,
                   "metadata": {".zgroup": {"zarr_format": 2}, f"{path}/.zgroup": {"zarr_format": 2}}}).encode()}
    else:
        mapping = {"zarr.json": json.dumps({"zarr_format": 3, "node_type": "group", "consolidated_metadata": {
            "kind": "inline", "must_understand": False,
            "metadata": {path: {"zarr_format": 3, "node_type": "group"}}}}).encode()}
    with pytest.raises(MetadataError, match="outside the group"):
        asyncio.run(zarrlite.open_async(MemoryStore(mapping)))


def test_zip_entries_outside_the_root_are_not_followed(tmp_path):
    zpath = tmp_path / "evil.zip"
    meta = json.dumps({"zarr_format": 2, "shape": [2], "chunks": [2], "dtype": "<u1", "compressor": None,
                       "fill_value": 0, "order": "C", "filters": None}).encode()
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(".zgroup", b'{"zarr_format": 2}')
        zf.writestr("ok/.zarray", meta)
        zf.writestr("ok/0", b"\x01\x02")
        for name in ("../evil/.zarray", "/abs/.zarray", "a\\..\\..\\w/.zarray", "ok/../../up"):
            info = zipfile.ZipInfo(name)
            zf.writestr(info, meta)
    store = ZipStore(str(zpath))
    listed = asyncio.run(store.list(""))
    assert listed == [".zgroup", "ok"], listed  # hostile names are neither listed ...
    for name in ("../evil/.zarray", "/abs/.zarray", "ok/../../up"):
        with pytest.raises(KeyRejectedError):  # ... nor served
            asyncio.run(store.get(name))
    np.testing.assert_array_equal(zarrlite.open(str(zpath), "ok")[...], [1, 2])  # the rest reads


# ------------------------------------------------------------------------------- no code from data

class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _refused_sources(name):
    v2 = {"zarr_format": 2, "shape": [1], "chunks": [1], "dtype": "<f8", "fill_value": 0, "order": "C"}
    v3 = {"zarr_format": 3, "node_type": "array", "shape": [1], "data_type": "float64", "fill_value": 0,
          "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1]}}}
    return {
        "v2 compressor": {".zarray": {**v2, "compressor": {"id": name}, "filters": None}},
        "v2 filter": {".zarray": {**v2, "compressor": None, "filters": [{"id": name}]}},
        "v3 codec": {"zarr.json": {**v3, "codecs": [{"name": "bytes"}, {"name": f"numcodecs.{name}"}]}},
        "v3 array->bytes": {"zarr.json": {**v3, "codecs": [{"name": name}]}},
        "n5 compression": {"attributes.json": {"dimensions": [1], "blockSize": [1], "dataType": "float64",
                                               "compression": {"type": name}}},
    }


@pytest.mark.parametrize("where", list(_refused_sources("x")))
@pytest.mark.parametrize("name", ["pickle", "msgpack2", "vlen-array", "categorize", "object"])
def test_codecs_that_could_run_code_are_refused_by_name(tmp_path, name, where):
    marker = tmp_path / "PWNED"
    payload = numcodecs.Pickle().encode(np.array([_Evil(str(marker))], dtype=object))
    docs = _refused_sources(name)[where]
    mapping = {k: json.dumps(v).encode() for k, v in docs.items()}
    mapping.update({"0": payload, "c/0": payload})
    with pytest.raises((CodecError, MetadataError), match=name):
        read(mapping)
    assert not marker.exists()


@pytest.mark.parametrize("where", list(_refused_sources("x")))
@pytest.mark.parametrize("name", ["json2", "vlen-utf8", "vlen-bytes"])
def test_codecs_of_data_never_run_a_pickle(tmp_path, name, where):
    """vlen-utf8, vlen-bytes and json2 are read (codecs/vlen.py), as data only: on a float array they are
    refused, and a pickle given to them is bytes, never loaded."""
    marker = tmp_path / "PWNED"
    payload = numcodecs.Pickle().encode(np.array([_Evil(str(marker))], dtype=object))
    docs = _refused_sources(name)[where]
    mapping = {k: json.dumps(v).encode() for k, v in docs.items()}
    mapping.update({"0": payload, "c/0": payload})
    with pytest.raises((CodecError, MetadataError, ChunkError)):
        read(mapping)
    doc = {"zarr_format": 2, "shape": [1], "chunks": [1], "dtype": "|O", "fill_value": None,
           "compressor": None, "filters": [{"id": name}]}
    with pytest.raises(CodecError):  # the pickle is not what these codecs read
        read({".zarray": json.dumps(doc).encode(), "0": payload})
    assert not marker.exists()


def test_registry_refuses_by_name():
    for name in registry.REFUSED:
        with pytest.raises(CodecError, match=f"'{name}' is refused"):
            registry.make_compressor(name, {})


# ------------------------------------------------------------------------------------------- bombs

INFLATED = 32 * MIB       # what each bomb really decodes to
CHUNK = (256, 256)        # the expected chunk: 64 KiB of uint8, 500x less
EXPECTED = 256 * 256


def zstd_frame_without_size(total):
    """A zstd frame of RLE blocks with no content size in its header (numcodecs would stream it)."""
    out = bytearray(struct.pack("<I", 0xFD2FB528)) + bytes([0x00, 0x58])
    while total:
        n = min(total, 1 << 17)
        total -= n
        out += ((1 if total == 0 else 0) | (1 << 1) | (n << 3)).to_bytes(3, "little") + b"\x00"
    return bytes(out)


def lzma_huge_dictionary():
    """A valid .lzma stream whose header asks for a 4 GiB dictionary (liblzma allocates it up front)."""
    body = lzma.compress(b"\x00" * 16, format=lzma.FORMAT_ALONE)
    return body[:1] + struct.pack("<I", 0xFFFFFFFF) + body[5:]


def _bombs():
    zeros = bytes(INFLATED)
    return {
        "zlib": ("zlib", zlib.compress(zeros, 9)),
        "gzip": ("gzip", numcodecs.GZip(level=9).encode(zeros)),
        "bz2": ("bz2", bz2.compress(zeros, 9)),
        "lzma": ("lzma", lzma.compress(zeros, preset=1)),
        "lzma-dictionary": ("lzma", lzma_huge_dictionary()),
        "blosc": ("blosc", bytes(numcodecs.Blosc(cname="zstd", clevel=9).encode(zeros))),
        "zstd": ("zstd", bytes(numcodecs.Zstd(level=1).encode(zeros))),
        "zstd-no-size": ("zstd", zstd_frame_without_size(INFLATED)),
        "lz4": ("lz4", bytes(numcodecs.LZ4().encode(zeros))),
    }


@pytest.fixture(scope="module")
def bombs():
    return _bombs()


def _peak(func):
    tracemalloc.start()
    try:
        func()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


BOMBS = ["zlib", "gzip", "bz2", "lzma", "lzma-dictionary", "blosc", "zstd", "zstd-no-size", "lz4"]
# liblzma's own dictionary (preset 1: 1 MiB) comes on top of the output
ALLOWANCE = {"lzma": 4 * MIB}


@pytest.mark.parametrize("kind", BOMBS)
def test_bomb_stops_at_the_expected_size_in_the_codec(bombs, kind):
    name, data = bombs[kind]
    codec = registry.make_compressor(name, {})

    def decode():
        with pytest.raises(CodecError, match=name):
            codec.decode(data, EXPECTED)

    peak = _peak(decode)
    assert peak < 4 * EXPECTED + MIB + ALLOWANCE.get(name, 0), f"{kind}: {peak / MIB:.1f} MiB allocated"


def _v2_mapping(compressor, chunk):
    meta = {"zarr_format": 2, "shape": list(CHUNK), "chunks": list(CHUNK), "dtype": "|u1", "fill_value": 0,
            "order": "C", "filters": None, "compressor": compressor}
    return {".zarray": json.dumps(meta).encode(), "0.0": chunk}


V2_CONFIG = {"zlib": {"id": "zlib"}, "gzip": {"id": "gzip"}, "bz2": {"id": "bz2"}, "lzma": {"id": "lzma"},
             "blosc": {"id": "blosc"}, "zstd": {"id": "zstd"}, "lz4": {"id": "lz4"}}


@pytest.mark.parametrize("kind", BOMBS)
def test_bomb_in_a_zarr_chunk_is_refused_cheaply(bombs, kind):
    name, data = bombs[kind]
    mapping = _v2_mapping(V2_CONFIG[name], data)

    def open_read():
        with pytest.raises((CodecError, ChunkError)) as info:
            read(mapping)
        assert "chunk (0, 0)" in str(info.value) and name in str(info.value)

    peak = _peak(open_read)
    assert peak < 8 * EXPECTED + 2 * MIB + ALLOWANCE.get(name, 0), f"{kind}: {peak / MIB:.1f} MiB allocated"


N5_BOMBS = {  # N5 compression -> payload inflating to INFLATED bytes
    "gzip": lambda z: numcodecs.GZip(level=9).encode(z),
    "gzip-zlib": lambda z: zlib.compress(z, 9),
    "bzip2": lambda z: bz2.compress(z, 9),
    "xz": lambda z: lzma.compress(z, preset=1),
    "lz4": lambda z: _lz4_java_zeros(len(z)),
    "zstd": lambda z: bytes(numcodecs.Zstd(level=1).encode(z)),
    "blosc": lambda z: bytes(numcodecs.Blosc(cname="lz4").encode(z)),
}
def _lz4_java_zeros(total):
    """lz4-java's block stream of `total` zero bytes: one 64 KiB block repeated, then the end mark."""
    one = lz4_block_stream(bytes(1 << 16))
    block, end = one[:-21], one[-21:]
    return block * (total >> 16) + end


N5_COMPRESSION = {"gzip": {"type": "gzip"}, "gzip-zlib": {"type": "gzip", "useZlib": True},
                  "bzip2": {"type": "bzip2"}, "xz": {"type": "xz"}, "lz4": {"type": "lz4"},
                  "zstd": {"type": "zstd"}, "blosc": {"type": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}}


@pytest.fixture(scope="module")
def n5_payloads():
    zeros = bytes(INFLATED)
    return {kind: bytes(make(zeros)) for kind, make in N5_BOMBS.items()}


@pytest.mark.parametrize("mode", [0, 1])
@pytest.mark.parametrize("kind", list(N5_BOMBS))
def test_n5_block_bomb_is_refused_cheaply(n5_payloads, kind, mode):
    """An honest header (the block size, or in varlength mode the element count) over a payload that
    inflates 500x: decoding stops at the size the header allows."""
    header = struct.pack(">HHII", mode, 2, *CHUNK) + (struct.pack(">I", EXPECTED) if mode else b"")
    block = header + n5_payloads[kind]
    attrs = {"dimensions": list(CHUNK), "blockSize": list(CHUNK), "dataType": "uint8",
             "compression": N5_COMPRESSION[kind]}
    mapping = {"attributes.json": json.dumps(attrs).encode(), "0/0": block}

    def open_read():
        with pytest.raises((CodecError, ChunkError), match="chunk"):
            read(mapping)

    peak = _peak(open_read)
    assert peak < 8 * EXPECTED + 2 * MIB + (4 * MIB if kind == "xz" else 0), f"{peak / MIB:.1f} MiB"


def test_n5_lz4_block_header_announcing_too_much():
    """lz4-java block headers announce each block's decoded size: a huge one is refused unread."""
    stream = b"LZ4Block" + bytes([0x26]) + struct.pack("<iii", 16, 2**31 - 1, 0) + bytes(16)
    block = struct.pack(">HHII", 0, 2, *CHUNK) + stream
    attrs = {"dimensions": list(CHUNK), "blockSize": list(CHUNK), "dataType": "uint8", "compression": {"type": "lz4"}}
    with pytest.raises(ChunkError, match="exceeds the expected"):
        read({"attributes.json": json.dumps(attrs).encode(), "0/0": block})


@pytest.mark.parametrize("name", ["blosc", "lz4", "zstd"])
def test_header_understating_the_size_is_caught(name):
    """A stream whose header claims a small size but holds more: the decoder never writes past it."""
    data = bytes(registry.make_compressor(name, {}).codec.encode(bytes(EXPECTED * 4)))
    b = bytearray(data)
    if name == "blosc":
        b[4:8] = struct.pack("<I", EXPECTED)
    elif name == "lz4":
        b[0:4] = struct.pack("<I", EXPECTED)
    else:  # zstd single-segment frame with a 4-byte content size right after the descriptor
        desc = b[4]
        assert desc >> 6 == 2 and desc & 0x20, hex(desc)
        b[5:9] = struct.pack("<I", EXPECTED)
    with pytest.raises(CodecError):
        registry.make_compressor(name, {}).decode(bytes(b), EXPECTED)


# --------------------------------------------------------------------------------- absurd metadata

def _v3(shape, chunks, codecs=None, data_type="uint8"):
    return {"zarr.json": json.dumps({
        "zarr_format": 3, "node_type": "array", "shape": shape, "data_type": data_type, "fill_value": 0,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "codecs": codecs or [{"name": "bytes"}]}).encode()}


def _v2(shape, chunks, dtype="|u1"):
    return {".zarray": json.dumps({"zarr_format": 2, "shape": shape, "chunks": chunks, "dtype": dtype,
                                   "fill_value": 0, "order": "C", "filters": None, "compressor": None}).encode()}


def _n5(dims, block):
    return {"attributes.json": json.dumps({"dimensions": dims, "blockSize": block, "dataType": "uint8",
                                           "compression": {"type": "raw"}}).encode()}


ABSURD = {
    "v2 shape overflows": (_v2([2**62, 2**62], [1, 1]), "too large"),
    "v2 byte count overflows": (_v2([2**61], [2**61], "<f8"), "too large"),
    "v2 shape beyond int64": (_v2([2**64], [1]), "out of range"),
    "v2 zero chunk": (_v2([10], [0]), "out of range"),
    "v2 negative chunk": (_v2([10], [-5]), "out of range"),
    "v2 negative shape": (_v2([-1], [1]), "out of range"),
    "v2 shape and chunks differ": (_v2([10, 10], [5]), "differ in length"),
    "v3 shape overflows": (_v3([2**40, 2**40, 2**40], [1, 1, 1]), "too large"),
    "v3 zero chunk": (_v3([10], [0]), "out of range"),
    "v3 negative chunk": (_v3([10], [-1]), "out of range"),
    "v3 float chunk": (_v3([10], [2.5]), "list of integers"),
    "v3 zero inner chunk": (_v3([8], [8], [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [0], "codecs": [{"name": "bytes"}]}}]), "positive"),
    "v3 negative inner chunk": (_v3([8], [8], [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [-4], "codecs": [{"name": "bytes"}]}}]), "positive"),
    "v3 inner chunks not dividing": (_v3([8], [8], [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [3], "codecs": [{"name": "bytes"}]}}]), "not a multiple"),
    "n5 zero blockSize": (_n5([10], [0]), "out of range"),
    "n5 negative dimensions": (_n5([-10], [5]), "out of range"),
    "n5 overflowing dimensions": (_n5([2**62, 2**62], [1, 1]), "too large"),
}


@pytest.mark.parametrize("case", list(ABSURD))
def test_absurd_sizes_are_refused_with_a_clear_message(case):
    mapping, message = ABSURD[case]
    with pytest.raises(MetadataError, match=message):
        read(mapping)



def _nested(depth: int) -> str:
    return '{"a": ' * (depth // 2) + "[" * (depth - depth // 2) + "]" * (depth - depth // 2) + "}" * (depth // 2)


def _deep_sources():
    """Every metadata document a format reads, with a value (the placeholder DEEP) to nest."""
    v2 = json.loads(_v2([4], [2])[".zarray"])
    yield "v2 .zarray", {".zarray": json.dumps({**v2, "x": DEEP})}
    yield "v2 .zattrs", {**_v2([4], [2]), ".zattrs": json.dumps({"x": DEEP}).encode()}
    yield "v2 .zmetadata", {".zgroup": b'{"zarr_format": 2}', ".zmetadata": json.dumps(
        {"zarr_consolidated_format": 1, "metadata": {"a/.zattrs": {"x": DEEP}}})}
    v3 = json.loads(_v3([4], [2])["zarr.json"])
    yield "v3 attributes", {"zarr.json": json.dumps({**v3, "attributes": {"x": DEEP}})}
    yield "n5 attributes.json", {"attributes.json": json.dumps({**json.loads(_n5([4], [2])["attributes.json"]),
                                                                "x": DEEP})}


def _with_depth(mapping: dict, depth: int) -> dict:
    def nest(v):
        v = v.decode() if isinstance(v, bytes) else v
        return v.replace(json.dumps(DEEP), _nested(depth)).encode()
    return {k: nest(v) for k, v in mapping.items()}


DEEP = "DEEP"
DEEP_SOURCES = dict(_deep_sources())


@pytest.mark.parametrize("depth", [1_500, 5_000, 10_000, 300])
@pytest.mark.parametrize("where", list(DEEP_SOURCES))
def test_metadata_nested_too_deep_is_refused(where, depth):
    """Pyodide's JS stack dies at ~10,000 levels and CPython's parser raises a bare RecursionError at ~1,500:
    anything past 256 levels is a MetadataError, before a recursive parser sees it."""
    mapping = _with_depth(DEEP_SOURCES[where], depth)
    with pytest.raises(MetadataError, match="nested more than 256 levels deep"):
        zarrlite.open(MemoryStore(mapping))


@pytest.mark.parametrize("where", list(DEEP_SOURCES))
def test_metadata_nested_within_the_limit_opens(where):
    mapping = _with_depth(DEEP_SOURCES[where], 240)
    node = zarrlite.open(MemoryStore(mapping))
    assert node is not None


def test_brackets_inside_strings_do_not_count_as_nesting():
    attrs = {"x": "[" * 10_000 + '\\"' + "{" * 1000, "y": ['\\', "]" * 500], "z": '"' + "[" * 300 + '"'}
    mapping = {**_v2([4], [2]), ".zattrs": json.dumps(attrs).encode()}
    assert zarrlite.open(MemoryStore(mapping)).attrs == attrs



_HUGE = [2**62, 2**63, 2**64, 10**30, -1, 0, 1.5, True, "5", None]


def _absurd_values():
    for b in _HUGE:
        inner = {"name": "sharding_indexed", "configuration": {"chunk_shape": [b, 5], "codecs": [{"name": "bytes"}]}}
        yield f"v3 shape {b!r}", _v3([b, 10], [5, 5])
        yield f"v3 chunk {b!r}", _v3([10, 10], [b, 5])
        yield f"v3 inner chunk {b!r}", _v3([10, 10], [5, 5], [inner])
        yield f"v3 float fill {b!r}", _with(_v3([10], [5], data_type="float32"), "zarr.json", fill_value=b)
        yield f"v3 zstd level {b!r}", _v3([10], [5], [{"name": "bytes"}, {"name": "zstd", "configuration": {"level": b}}])
        yield f"v2 shape {b!r}", _v2([b, 10], [5, 5])
        yield f"v2 chunk {b!r}", _v2([10, 10], [b, 5])
        yield f"v2 datetime fill {b!r}", _with(_v2([10], [5], "<M8[s]"), ".zarray", fill_value=b)
        yield f"v2 dtype size {b!r}", _v2([10], [5], f"<f{b}")


def _with(mapping, key, **over):
    return {key: json.dumps({**json.loads(mapping[key]), **over}).encode()}


ABSURD_VALUES = dict(_absurd_values())


@pytest.mark.parametrize("case", list(ABSURD_VALUES))
def test_absurd_values_end_in_a_result_or_a_zarrlite_error(case):
    """Sizes past int64, negative, zero, floats, booleans and strings where numbers belong: opening and
    reading either works or raises a ZarrliteError (no OverflowError, TypeError or RecursionError)."""
    async def go():
        node = await zarrlite.open_async(MemoryStore(ABSURD_VALUES[case]))
        return await node.get(tuple(slice(0, 3) for _ in node.shape))
    try:
        asyncio.run(go())
    except zarrlite.ZarrliteError:
        pass


def test_chunk_count_beyond_the_budget_is_refused_before_allocating():
    """10^12 one-byte chunks: a selection of the whole array is refused, not iterated."""
    mapping = _v2([10**6, 10**6], [1, 1])
    peak = _peak(lambda: pytest.raises(BudgetError, read, mapping, max_bytes=64 * MIB))
    assert peak < MIB


@pytest.mark.parametrize("dims", [[0x7FFFFFFF, 4], [4, 0xFFFFFFFF], [5, 4]])
def test_n5_block_header_bigger_than_blocksize(dims):
    attrs = {"dimensions": [8, 8], "blockSize": [4, 4], "dataType": "uint8", "compression": {"type": "raw"}}
    block = struct.pack(">HHII", 0, 2, *dims) + bytes(32)
    with pytest.raises(ChunkError, match="exceeds the dataset's blockSize"):
        read({"attributes.json": json.dumps(attrs).encode(), "0/0": block})


def test_n5_varlength_count_beyond_the_block():
    attrs = {"dimensions": [8, 8], "blockSize": [4, 4], "dataType": "uint8", "compression": {"type": "raw"}}
    block = struct.pack(">HHIII", 1, 2, 4, 4, 0xFFFFFFFF) + bytes(16)
    with pytest.raises(ChunkError, match="element count"):
        read({"attributes.json": json.dumps(attrs).encode(), "0/0": block})


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-shard")
    truth = zarr_python(root, make_data((8, 8), "<u2"), zarr_format=3, chunks=(2, 2), shards=(4, 8),
                        compressors=None)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}, truth


def _with_index_entry(mapping, key, entry, offset, nbytes, *, crc=True):
    """The shard at `key` with index entry `entry` replaced (index at the end, bytes + crc32c)."""
    import crc32c

    data = bytearray(mapping[key])
    n = 8 * 16  # 2x2 inner chunks in a 4x8 shard: a 2x4 grid, 8 entries of 16 bytes
    index = bytearray(data[-n - 4:-4])
    struct.pack_into("<QQ", index, 16 * entry, offset, nbytes)
    data[-n - 4:] = index + (crc32c.crc32c(bytes(index)).to_bytes(4, "little") if crc else data[-4:])
    return {**mapping, key: bytes(data)}


@pytest.mark.parametrize("offset, nbytes", [(2**63, 8), (2**64 - 2, 1), (0, 2**40), (200, 100)],
                         ids=["offset-2^63", "offset-near-2^64", "nbytes-2^40", "past-the-end"])
def test_shard_index_pointing_outside_the_shard(sharded, offset, nbytes):
    mapping, _ = sharded
    bad = _with_index_entry(mapping, "c/0/0", 1, offset, nbytes)

    def open_read():
        with pytest.raises(ChunkError, match="outside the shard|truncated") as info:
            read(bad)
        assert "c/0/0" in str(info.value)

    assert _peak(open_read) < 2 * MIB  # the absurd length is never allocated


def test_shard_index_tampered_without_fixing_its_checksum(sharded):
    mapping, _ = sharded
    with pytest.raises(ChunkError, match="crc32c"):
        read(_with_index_entry(mapping, "c/0/0", 1, 2**63, 8, crc=False))


def test_whole_shard_decode_refuses_entries_outside(sharded):
    """The same check where a shard is decoded whole (a codec around the sharding codec)."""
    mapping, _ = sharded
    bad = _with_index_entry(mapping, "c/0/0", 1, 2**63, 8)
    meta = json.loads(bad["zarr.json"])
    from zarrlite.formats import zarr3

    arr_meta = zarr3.parse_node(meta, "shard")
    from zarrlite.codecs.pipeline import ChunkSpec

    with pytest.raises(ChunkError, match="points outside the shard"):
        arr_meta.pipeline.decode_sync(bad["c/0/0"], ChunkSpec(arr_meta.chunks, arr_meta.dtype, 0))


# ---------------------------------------------------------------------------------- memory budget

@pytest.mark.parametrize("mapping", [_v2([10**6, 10**6], [1000, 1000]), _v3([10**6, 10**6], [1000, 1000]),
                                     _n5([10**6, 10**6], [1000, 1000])], ids=["zarr2", "zarr3", "n5"])
def test_budget_refuses_a_selection_before_allocating(mapping):
    """A terabyte selection under a 64 MiB budget: refused, with nothing allocated; a small one reads."""
    async def go():
        arr = await zarrlite.open_async(MemoryStore(mapping), max_bytes=64 * MIB)
        with pytest.raises(BudgetError, match="memory budget"):
            await arr.get(...)
        with pytest.raises(BudgetError):
            await arr.get((slice(0, 10_000), slice(0, 10_000)))  # 100 MB, over the 64 MiB budget
        small = await arr.get((slice(0, 10), slice(0, 10)))
        assert small.shape == (10, 10) and not small.any()

    assert _peak(lambda: asyncio.run(go())) < 2 * MIB


def test_budget_refuses_a_chunk_bigger_than_the_budget():
    async def go():
        arr = await zarrlite.open_async(MemoryStore(_v2([100_000], [100_000])), max_bytes=10_000)
        await arr.get(slice(0, 10))  # 10 bytes asked, but the chunk to decode is 100 kB

    with pytest.raises(BudgetError, match="one chunk"):
        asyncio.run(go())

