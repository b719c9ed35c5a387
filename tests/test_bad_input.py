"""Hostile and broken input: malformed or ill-typed metadata, impossible shapes, memory budget,
truncated / corrupt chunks, decompression bombs, unknown and refused codecs, keys escaping the
store. Every failure is a ZarrliteError subclass that says what and where."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
import zarrlite
from writers import assert_same, make_data, manual_n5, manual_zarr2, write_json
from zarrlite.errors import (BudgetError, ChunkError, CodecError, KeyRejectedError, MetadataError, NotFoundError,
                             SelectionError, StoreError, ZarrliteError)

ROOT = Path(__file__).resolve().parent.parent


def v3_meta(**over):
    meta = {"zarr_format": 3, "node_type": "array", "shape": [10, 10], "data_type": "uint16",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 5]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}
    meta.update(over)
    return meta


def v2_meta(**over):
    meta = {"zarr_format": 2, "shape": [10, 10], "chunks": [5, 5], "dtype": "<u2", "compressor": None,
            "fill_value": 0, "order": "C", "filters": None}
    meta.update(over)
    return meta


def open_and_read(root, path=""):
    arr = zarrlite.open(str(root), path)
    return arr[...]


# ------------------------------------------------------------------------------ malformed metadata


@pytest.mark.parametrize("name,text", [
    ("zarr.json", "{not json"), ("zarr.json", ""), ("zarr.json", "[1, 2]"), ("zarr.json", "null"),
    (".zarray", '{"zarr_format": 2, "shape": [10'), (".zarray", "\x00\x01\x02"),
    ("attributes.json", '{"dimensions": [1, 2], '), ("zarr.json", json.dumps(v3_meta())[:-1]),
])
def test_malformed_json_metadata(fixture_dir, name, text):
    root = fixture_dir("bad-json")
    (root / name).write_text(text)
    with pytest.raises(MetadataError):
        open_and_read(root)


V3_BAD = {
    "shape-string": {"shape": "10,10"},
    "shape-negative": {"shape": [10, -1]},
    "shape-float": {"shape": [10.5, 10]},
    "shape-bool": {"shape": [True, 10]},
    "chunk-negative": {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, -5]}}},
    "chunk-zero": {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 0]}}},
    "chunk-rank-mismatch": {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5]}}},
    "chunk-grid-unknown": {"chunk_grid": {"name": "rectilinear-ish", "configuration": {}}},
    "dtype-unknown": {"data_type": "uint12"},
    "dtype-number": {"data_type": 16},
    "fill-wrong-type": {"fill_value": "lots"},
    "fill-out-of-range": {"fill_value": 70000},
    "codecs-not-list": {"codecs": {"name": "bytes"}},
    "codecs-no-array-to-bytes": {"codecs": [{"name": "gzip", "configuration": {"level": 1}}]},
    "transpose-bad-order": {"codecs": [{"name": "transpose", "configuration": {"order": [0, 0]}},
                                       {"name": "bytes", "configuration": {"endian": "little"}}]},
    "bytes-bad-endian": {"codecs": [{"name": "bytes", "configuration": {"endian": "middle"}}]},
    "zarr-format-4": {"zarr_format": 4},
    "node-type-unknown": {"node_type": "table"},
    "overflow": {"shape": [2**32, 2**32], "chunk_grid": {"name": "regular", "configuration": {
        "chunk_shape": [2**31, 2**31]}}},
    "overflow-3d": {"shape": [2**21, 2**21, 2**21]},
    "dim-names-wrong-length": {"dimension_names": ["x"]},
}


@pytest.mark.parametrize("case", V3_BAD)
def test_bad_v3_metadata(fixture_dir, case):
    root = fixture_dir(f"bad-v3-{case}")
    meta = v3_meta(**V3_BAD[case])
    if case == "overflow-3d":
        meta["chunk_grid"]["configuration"]["chunk_shape"] = [5, 5, 5]
    write_json(root / "zarr.json", meta)
    with pytest.raises(MetadataError):
        open_and_read(root)


V2_BAD = {
    "shape-string": {"shape": "10"},
    "chunk-negative": {"chunks": [5, -5]},
    "chunk-zero": {"chunks": [0, 5]},
    "chunk-rank-mismatch": {"chunks": [5]},
    "dtype-unknown": {"dtype": "<q9"},
    "dtype-structured-repeated-name": {"dtype": [["a", "<i4"], ["a", "<f8"]]},
    "dtype-structured-object-field": {"dtype": [["a", "|O"]]},
    "dtype-structured-negative-subarray": {"dtype": [["a", "<i4", [-1]]]},
    "dtype-structured-no-type": {"dtype": [["a"]]},
    "order-bad": {"order": "Z"},
    "separator-bad": {"dimension_separator": ".."},
    "compressor-not-object": {"compressor": "zlib"},
    "overflow": {"shape": [2**40, 2**40], "chunks": [2**20, 2**20]},
    "zarr-format-3": {"zarr_format": 3},
}


@pytest.mark.parametrize("case", V2_BAD)
def test_bad_v2_metadata(fixture_dir, case):
    root = fixture_dir(f"bad-v2-{case}")
    write_json(root / ".zarray", v2_meta(**V2_BAD[case]))
    with pytest.raises(MetadataError):
        open_and_read(root)


N5_BAD = {
    "dims-string": {"dimensions": "10,10"},
    "block-negative": {"blockSize": [5, -1]},
    "block-rank-mismatch": {"blockSize": [5]},
    "dtype-unknown": {"dataType": "uint12"},
    "overflow": {"dimensions": [2**40, 2**40]},
}


@pytest.mark.parametrize("case", N5_BAD)
def test_bad_n5_metadata(fixture_dir, case):
    root = fixture_dir(f"bad-n5-{case}")
    meta = {"dimensions": [10, 10], "blockSize": [5, 5], "dataType": "uint16", "compression": {"type": "raw"}}
    meta.update(N5_BAD[case])
    write_json(root / "attributes.json", meta)
    with pytest.raises(MetadataError):
        open_and_read(root)


def test_error_names_the_array(fixture_dir):
    root = fixture_dir("bad-names-array")
    zarr.open_group(str(root), mode="w", zarr_format=3)
    write_json(root / "deep" / "inner" / "zarr.json", v3_meta(shape="nope"))
    with pytest.raises(MetadataError, match="deep/inner"):
        zarrlite.open(str(root), "deep/inner")


def test_nothing_there_is_not_found(fixture_dir):
    root = fixture_dir("bad-empty")
    with pytest.raises(NotFoundError):
        zarrlite.open(str(root))


def test_all_errors_derive_from_zarrlite_error():
    assert all(issubclass(e, ZarrliteError) for e in (MetadataError, NotFoundError, CodecError, ChunkError,
                                                      SelectionError, BudgetError, StoreError, KeyRejectedError))


# ----------------------------------------------------------------------------------- memory budget


@pytest.fixture(scope="module")
def huge(fixture_dir):
    """A 100000 x 100000 uint8 array (10 GB) with a single chunk written."""
    root = fixture_dir("bad-huge")
    write_json(root / "zarr.json", v3_meta(shape=[100000, 100000], data_type="uint8", fill_value=4, chunk_grid={
        "name": "regular", "configuration": {"chunk_shape": [1000, 1000]}}))
    block = make_data((1000, 1000), "uint8", seed=1)
    (root / "c" / "0").mkdir(parents=True)
    (root / "c" / "0" / "0").write_bytes(block.tobytes())
    return root, block


def test_budget_exceeded_raises_before_allocating(huge):
    root, _ = huge
    arr = zarrlite.open(str(root), max_bytes=1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(BudgetError):
            arr[...]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000, f"peak {peak} bytes traced while refusing a 10 GB read"


def test_budget_exceeded_by_a_few_bytes(huge):
    root, _ = huge
    arr = zarrlite.open(str(root), max_bytes=1_000_000)
    with pytest.raises(BudgetError):
        arr[:1001, :1000]


def test_default_budget_refuses_ten_gigabytes(huge):
    root, _ = huge
    with pytest.raises(BudgetError):
        zarrlite.open(str(root))[...]


def test_within_budget_reads(huge):
    root, block = huge
    arr = zarrlite.open(str(root), max_bytes=1_000_000)
    truth = np.full((600, 1000), 4, "uint8")
    truth[:500, :500] = block[500:, 500:]
    assert_same(arr[500:1100, 500:1500], truth)


def test_budget_error_is_memory_error(huge):
    root, _ = huge
    with pytest.raises(MemoryError):
        zarrlite.open(str(root), max_bytes=1000)[:100, :100]


# ---------------------------------------------------------------------------- corrupt chunks

CHUNK_NAMES = ("1.0", "(1, 0)", "1/0", "c/1/0", "[1, 0]", "1,0")


def _names_chunk(err):
    text = str(err)
    return any(n in text for n in CHUNK_NAMES)


CORRUPTIONS = {
    "zlib-truncated": (numcodecs.Zlib(5), lambda b: b[: len(b) // 2]),
    "gzip-truncated": (numcodecs.GZip(5), lambda b: b[: len(b) // 2]),
    "zstd-truncated": (numcodecs.Zstd(3), lambda b: b[: len(b) // 2]),
    "blosc-truncated": (numcodecs.Blosc("lz4"), lambda b: b[: len(b) // 2]),
    "lz4-truncated": (numcodecs.LZ4(), lambda b: b[: len(b) // 2]),
    "bz2-truncated": (numcodecs.BZ2(), lambda b: b[: len(b) // 2]),
    "lzma-truncated": (numcodecs.LZMA(), lambda b: b[: len(b) // 2]),
    "zlib-garbage": (numcodecs.Zlib(5), lambda b: os.urandom(len(b))),
    "zstd-garbage": (numcodecs.Zstd(3), lambda b: b"\x28\xb5\x2f\xfd" + os.urandom(len(b))),
    "blosc-garbage": (numcodecs.Blosc("zstd"), lambda b: os.urandom(len(b))),
    "raw-short": (None, lambda b: b[:-2]),
    "raw-long": (None, lambda b: b + b"\x00\x00"),
    "zlib-wrong-size": (numcodecs.Zlib(5), lambda b: zlib.compress(b"\x01" * 10)),
    "empty": (numcodecs.Zlib(5), lambda b: b""),
}


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_corrupt_v2_chunk(fixture_dir, case):
    compressor, damage = CORRUPTIONS[case]
    root = fixture_dir(f"bad-chunk-{case}")
    manual_zarr2(root, make_data((40, 40), "<f8", seed=2), (20, 20), compressor=compressor)
    key = root / "1.0"
    key.write_bytes(damage(key.read_bytes()))
    with pytest.raises((ChunkError, CodecError)) as info:
        zarrlite.open(str(root))[...]
    assert _names_chunk(info.value), f"error does not name the chunk: {info.value}"


def test_corrupt_chunk_does_not_spoil_other_chunks(fixture_dir):
    root = fixture_dir("bad-chunk-others")
    truth = manual_zarr2(root, make_data((40, 40), "<f8", seed=3), (20, 20), compressor=numcodecs.Zstd(1))
    (root / "1.0").write_bytes(b"garbage")
    assert_same(zarrlite.open(str(root))[:20, :], truth[:20, :])


@pytest.mark.parametrize("case", ["crc-mismatch", "truncated-shard", "index-out-of-range", "index-garbage"])
def test_corrupt_shard(fixture_dir, case):
    root = fixture_dir(f"bad-shard-{case}")
    arr = zarr.create_array(str(root), shape=(40, 40), dtype="uint16", chunks=(10, 10), shards=(20, 20),
                            compressors=None)
    arr[...] = make_data((40, 40), "uint16", seed=4)
    shard = root / "c" / "1" / "0"
    raw = bytearray(shard.read_bytes())
    if case == "crc-mismatch":
        raw[-1] ^= 0xFF  # index checksum
    elif case == "truncated-shard":
        raw = raw[: len(raw) // 3] + raw[-(16 * 4 + 4):]  # index points past the data
    elif case == "index-out-of-range":
        index = raw[-(16 * 4 + 4):]
        struct.pack_into("<QQ", index, 0, 10**12, 200)
        crc = bytes(numcodecs.CRC32C().encode(bytes(index[:-4])))[-4:]
        raw = raw[: -(16 * 4 + 4)] + index[:-4] + crc
    else:
        raw[-(16 * 4 + 4):] = os.urandom(16 * 4 + 4)
    shard.write_bytes(bytes(raw))
    with pytest.raises((ChunkError, CodecError)) as info:
        zarrlite.open(str(root))[...]
    assert any(n in str(info.value) for n in ("c/1/0", "(1, 0)", "1/0", "[1, 0]")), str(info.value)


def test_crc32c_mismatch_in_chunk(fixture_dir):
    root = fixture_dir("bad-crc-chunk")
    arr = zarr.create_array(str(root), shape=(10, 10), dtype="uint16", chunks=(5, 5), compressors=[
        zarr.codecs.Crc32cCodec()])
    arr[...] = make_data((10, 10), "uint16")
    p = root / "c" / "0" / "1"
    raw = bytearray(p.read_bytes())
    raw[0] ^= 1
    p.write_bytes(bytes(raw))
    with pytest.raises((ChunkError, CodecError)):
        zarrlite.open(str(root))[...]


def test_n5_block_larger_than_block_size(fixture_dir):
    """An N5 block header claiming dimensions beyond blockSize is rejected, not read out of bounds."""
    root = fixture_dir("bad-n5-bigblock")
    manual_n5(root, make_data((8, 8), "uint16"), chunks_c=(4, 4), data_type="uint16", compression={"type": "raw"})
    big = struct.pack(">HHII", 0, 2, 400, 400) + b"\x00" * (400 * 400 * 2)
    (root / "0" / "0").write_bytes(big)
    with pytest.raises((ChunkError, CodecError)):
        zarrlite.open(str(root))[...]


# ---------------------------------------------------------------------------- decompression bombs

GIB = 1 << 30


def zstd_rle_bomb(total: int) -> bytes:
    """A valid zstd frame of RLE blocks (~32 KB) that decodes to `total` zero bytes."""
    out = bytearray(struct.pack("<I", 0xFD2FB528)) + bytes([0xE0]) + struct.pack("<Q", total)
    remaining = total
    while remaining:
        n = min(remaining, 1 << 17)
        remaining -= n
        out += ((1 if remaining == 0 else 0) | (1 << 1) | (n << 3)).to_bytes(3, "little") + b"\x00"
    return bytes(out)


def deflate_zeros(total: int) -> bytes:
    """Raw deflate of `total` zero bytes (a multiple of 1 MiB), fast: after a full flush each 1 MiB
    block compresses to the same bytes, so the stream is built by repetition."""
    block = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    return first + again * ((total >> 20) - 1) + c.flush()


_ZERO_SUMS = {}


def zero_sums(total: int):
    """(adler32, crc32) of `total` zero bytes."""
    if total not in _ZERO_SUMS:
        block, adler, crc = bytes(1 << 20), 1, 0
        for _ in range(total >> 20):
            adler, crc = zlib.adler32(block, adler), zlib.crc32(block, crc)
        _ZERO_SUMS[total] = adler, crc
    return _ZERO_SUMS[total]


def zlib_bomb(total: int, wrapper: str) -> bytes:
    raw = deflate_zeros(total)
    adler, crc = zero_sums(total)
    if wrapper == "zlib":
        return b"\x78\xda" + raw + struct.pack(">I", adler)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + raw + struct.pack("<II", crc, total & 0xFFFFFFFF)


def test_bomb_builders_are_valid():
    """Fixture sanity (not zarrlite): the hand-made streams decode to the promised zeros."""
    size = 8 << 20
    for data in (zlib.decompress(zlib_bomb(size, "zlib")), gzip.decompress(zlib_bomb(size, "gzip")),
                 bytes(numcodecs.Zstd().decode(zstd_rle_bomb(size)))):
        assert data == bytes(size)


@pytest.fixture(scope="module")
def bombs(fixture_dir):
    """Arrays whose 1000x1000 uint8 chunk (1 MB) decompresses to 1 GiB."""
    out = {}
    for kind in ("zlib", "gzip"):
        root = fixture_dir(f"bomb-v2-{kind}")
        write_json(root / ".zarray", v2_meta(shape=[1000, 1000], chunks=[1000, 1000], dtype="|u1",
                                             compressor={"id": kind, "level": 9}))
        (root / "0.0").write_bytes(zlib_bomb(GIB, kind))
        out[kind] = root
    root = fixture_dir("bomb-v3-zstd")
    write_json(root / "zarr.json", v3_meta(shape=[1000, 1000], data_type="uint8", chunk_grid={
        "name": "regular", "configuration": {"chunk_shape": [1000, 1000]}}, codecs=[
        {"name": "bytes", "configuration": {}}, {"name": "zstd", "configuration": {"level": 1}}]))
    (root / "c" / "0").mkdir(parents=True)
    (root / "c" / "0" / "0").write_bytes(zstd_rle_bomb(GIB))
    out["zstd"] = root
    root = fixture_dir("bomb-v2-zstd")
    write_json(root / ".zarray", v2_meta(shape=[1000, 1000], chunks=[1000, 1000], dtype="|u1",
                                         compressor={"id": "zstd", "level": 1}))
    (root / "0.0").write_bytes(zstd_rle_bomb(GIB))
    out["zstd-v2"] = root
    root = fixture_dir("bomb-n5-gzip")
    write_json(root / "attributes.json", {"dimensions": [1000, 1000], "blockSize": [1000, 1000],
                                          "dataType": "uint8", "compression": {"type": "gzip"}})
    (root / "0").mkdir()
    (root / "0" / "0").write_bytes(struct.pack(">HHII", 0, 2, 1000, 1000) + zlib_bomb(GIB, "gzip"))
    out["n5-gzip"] = root
    return out


BOMB_PROBE = r"""
import resource, sys, time
sys.path.append(sys.argv[2])
import zarrlite
t = time.perf_counter()
try:
    zarrlite.open(sys.argv[1])[...]
    outcome = "no error"
except zarrlite.ZarrliteError as e:
    outcome = type(e).__name__ + ": " + str(e)[:200]
except BaseException as e:
    outcome = "NOT A ZARRLITE ERROR " + type(e).__name__ + ": " + str(e)[:200]
print(time.perf_counter() - t)
# VmHWM: the peak of this process's own memory (ru_maxrss carries over across exec the size of the
# process that started it, so a large test runner would be measured instead)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) // 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
print(outcome)
"""


@pytest.mark.parametrize("kind", ["zlib", "gzip", "zstd", "zstd-v2", "n5-gzip"])
def test_decompression_bomb_is_refused_cheaply(bombs, kind):
    """Runs in a fresh interpreter so peak RSS measures this read alone."""
    r = subprocess.run([sys.executable, "-c", BOMB_PROBE, str(bombs[kind]), str(ROOT / "py")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    seconds, peak_mb, outcome = r.stdout.strip().split("\n", 2)
    assert outcome.startswith(("ChunkError", "CodecError")), outcome
    assert float(seconds) < 10 and int(peak_mb) < 400, f"{seconds} s, peak RSS {peak_mb} MB ({outcome})"


# ------------------------------------------------------------------------------- refused codecs


@pytest.mark.parametrize("where", ["v2-compressor", "v2-filter", "v3-codec", "v3-array-to-bytes", "n5"])
def test_unknown_codec_is_named(fixture_dir, where):
    root = fixture_dir(f"bad-codec-{where}")
    if where == "v2-compressor":
        write_json(root / ".zarray", v2_meta(compressor={"id": "frobnicate", "level": 1}))
        (root / "0.0").write_bytes(b"x" * 50)
    elif where == "v2-filter":
        write_json(root / ".zarray", v2_meta(filters=[{"id": "frobnicate"}]))
        (root / "0.0").write_bytes(b"x" * 50)
    elif where == "v3-codec":
        write_json(root / "zarr.json", v3_meta(codecs=[{"name": "bytes", "configuration": {"endian": "little"}},
                                                       {"name": "frobnicate", "configuration": {}}]))
        (root / "c" / "0").mkdir(parents=True)
        (root / "c" / "0" / "0").write_bytes(b"x" * 50)
    elif where == "v3-array-to-bytes":
        write_json(root / "zarr.json", v3_meta(codecs=[{"name": "frobnicate"}]))
    else:
        write_json(root / "attributes.json", {"dimensions": [10, 10], "blockSize": [5, 5], "dataType": "uint16",
                                              "compression": {"type": "frobnicate"}})
        (root / "0").mkdir()
        (root / "0" / "0").write_bytes(b"x" * 50)
    with pytest.raises((CodecError, MetadataError), match="frobnicate"):
        open_and_read(root)


OBJECT_CODECS = [
    {"id": "pickle"}, {"id": "msgpack2"}, {"id": "json2"}, {"id": "vlen-utf8"}, {"id": "vlen-bytes"},
    {"id": "vlen-array", "dtype": "<i4"}, {"id": "categorize", "labels": ["a", "b"], "dtype": "|O"},
]


@pytest.mark.parametrize("config", OBJECT_CODECS, ids=lambda c: c["id"])
def test_object_codecs_refused_by_name(fixture_dir, config):
    """Even on a numeric array, an object codec in the chain is refused, and named."""
    root = fixture_dir(f"bad-object-{config['id']}")
    write_json(root / ".zarray", v2_meta(dtype="<f8", filters=[config]))
    (root / "0.0").write_bytes(numcodecs.Pickle().encode(np.array([1] * 25, dtype=object)))
    with pytest.raises((CodecError, MetadataError), match=config["id"]):
        open_and_read(root)


@pytest.mark.parametrize("config", OBJECT_CODECS, ids=lambda c: c["id"])
def test_object_dtype_refused(fixture_dir, config):
    root = fixture_dir(f"bad-object-dtype-{config['id']}")
    write_json(root / ".zarray", v2_meta(dtype="|O", filters=[config]))
    (root / "0.0").write_bytes(numcodecs.Pickle().encode(np.array([1] * 25, dtype=object)))
    with pytest.raises((CodecError, MetadataError)):
        open_and_read(root)


def test_pickle_in_v3_refused_by_name(fixture_dir):
    root = fixture_dir("bad-v3-pickle")
    write_json(root / "zarr.json", v3_meta(codecs=[{"name": "bytes", "configuration": {"endian": "little"}},
                                                   {"name": "numcodecs.pickle", "configuration": {}}]))
    with pytest.raises((CodecError, MetadataError), match="pickle"):
        open_and_read(root)


def test_pickle_never_runs(fixture_dir):
    """A pickle payload that would create a file must not be unpickled, whatever the metadata says."""
    root = fixture_dir("bad-pickle-exec")
    marker = root / "PWNED"
    payload = numcodecs.Pickle().encode(np.array([_Evil(str(marker))], dtype=object))
    write_json(root / ".zarray", v2_meta(shape=[1], chunks=[1], dtype="|O", filters=[{"id": "pickle"}]))
    (root / "0").write_bytes(payload)
    with pytest.raises(ZarrliteError):
        open_and_read(root)
    assert not marker.exists()


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


# ---------------------------------------------------------------------------------- escaping keys


@pytest.fixture(scope="module")
def jail(fixture_dir, http_server):
    """`root/inside` is the store; `root/outside` is a valid array next to it that must stay out."""
    base = fixture_dir("bad-jail")
    manual_zarr2(base / "outside", make_data((4, 4), "<i4"), (2, 2))
    manual_zarr2(base / "inside" / "ok", make_data((4, 4), "<i4"), (2, 2))
    write_json(base / "inside" / ".zgroup", {"zarr_format": 2})
    import zipfile

    zpath = base / "inside.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in (base / "inside").rglob("*"):
            if p.is_file():
                zf.write(p, p.relative_to(base / "inside").as_posix())
    from zarrlite.stores import MemoryStore

    mem = MemoryStore({p.relative_to(base / "inside").as_posix(): p.read_bytes()
                       for p in (base / "inside").rglob("*") if p.is_file()})
    return {"local": str(base / "inside"), "zip": str(zpath), "memory": mem,
            "http": http_server.mount("jail-inside", base / "inside")}


@pytest.mark.parametrize("path", ["../outside", "ok/../../outside", "ok\\..\\..\\outside", "ok\x00",
                                  "../inside/ok"], ids=repr)
@pytest.mark.parametrize("kind", ["local", "zip", "memory", "http"])
def test_open_path_escaping_the_store(jail, kind, path):
    with pytest.raises(KeyRejectedError):
        zarrlite.open(jail[kind], path)


@pytest.mark.parametrize("kind", ["local", "zip", "memory", "http"])
def test_group_getitem_escaping_the_store(jail, kind):
    with pytest.raises(KeyRejectedError):
        zarrlite.open(jail[kind])["../outside"]


def test_consolidated_metadata_cannot_point_outside(fixture_dir):
    """A .zmetadata listing '../outside' does not make the reader fetch keys outside the root."""
    base = fixture_dir("bad-zmeta")
    manual_zarr2(base / "outside", make_data((4, 4), "<i4"), (2, 2))
    inside = base / "inside"
    write_json(inside / ".zgroup", {"zarr_format": 2})
    write_json(inside / ".zmetadata", {"zarr_consolidated_format": 1, "metadata": {
        ".zgroup": {"zarr_format": 2}, "../outside/.zarray": v2_meta(shape=[4, 4], chunks=[2, 2], dtype="<i4")}})
    with pytest.raises((KeyRejectedError, NotFoundError, MetadataError)):
        zarrlite.open(str(inside))["../outside"][...]
