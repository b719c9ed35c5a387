"""Browser read cases: every format x codec x several dtypes and both byte orders, written by
zarr-python 3, tensorstore and numcodecs (through tests/writers.py), with numpy ground truth."""

from __future__ import annotations

import hashlib

import numcodecs
import numpy as np
from writers import make_data, ts_n5, ts_zarr3, zarr_python

SHAPE = (4, 50, 60)
CHUNKS = (2, 16, 25)
# (numpy selection, the same as the numpy-style string the JS API sends)
SELECTIONS = [((Ellipsis,), "..."), ((slice(1, 3), slice(5, 41, 3), slice(7, None)), "1:3,5:41:3,7:"),
              ((2, slice(None), 33), "2,:,33"), ((1, 7, 33), "1,7,33"), ((-1, -2, -3), "-1,-2,-3")]


def _v3(codec_names):
    from zarr.codecs import BloscCodec, BytesCodec, GzipCodec, ZstdCodec

    make = {"zstd": lambda: ZstdCodec(level=3), "gzip": lambda: GzipCodec(level=5),
            "blosc": lambda: BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")}
    return [make[n]() for n in codec_names]


def zp3(fmt, dtype, compressor=None, serializer_endian=None, shards=None, order=None):
    def write(root):
        from zarr.codecs import BytesCodec

        data = make_data(SHAPE, dtype, seed=len(str(root)))
        kwargs = {"chunks": CHUNKS}
        if fmt == 3:
            kwargs["compressors"] = _v3([compressor]) if compressor else None
            if serializer_endian:
                kwargs["serializer"] = BytesCodec(endian=serializer_endian)
            if shards:
                kwargs["shards"] = shards
        else:
            kwargs["compressors"] = compressor
            if order:
                kwargs["order"] = order
        return zarr_python(root, data, zarr_format=fmt, **kwargs)
    return write


def ts_n5_case(dtype, compression):
    def write(root):
        # N5 keeps dimensions fastest-first: written reversed, read back (C order) as SHAPE
        data = make_data(SHAPE[::-1], dtype, seed=7)
        return ts_n5(root, data, block_size=CHUNKS[::-1], data_type=np.dtype(dtype).name, compression=compression)
    return write


def ts_zarr3_sharded(dtype):
    def write(root):
        data = make_data(SHAPE, dtype, seed=3)
        codecs = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [2, 8, 20], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                                  {"name": "zstd", "configuration": {"level": 1}}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}]
        return ts_zarr3(root, data, chunks=(4, 16, 40), data_type=np.dtype(dtype).name, codecs=codecs)
    return write


CASES = {
    # zarr-python 3, Zarr v3
    "zp3-v3-zstd-u2": zp3(3, "<u2", "zstd"),
    "zp3-v3-gzip-bigendian-i4": zp3(3, ">i4", "gzip", serializer_endian="big"),
    "zp3-v3-blosc-f4": zp3(3, "<f4", "blosc"),
    "zp3-v3-sharded-zstd-u2": zp3(3, "<u2", "zstd", shards=(4, 32, 50)),
    "zp3-v3-raw-i8": zp3(3, "<i8", None),
    "zp3-v3-zstd-f2": zp3(3, "<f2", "zstd"),
    "zp3-v3-zstd-c8": zp3(3, "<c8", "zstd"),
    "zp3-v3-zstd-bool": zp3(3, "|b1", "zstd"),
    # zarr-python 3, Zarr v2 with numcodecs compressors
    "zp3-v2-blosc-zstd-bitshuffle-u2": zp3(2, "<u2", numcodecs.Blosc("zstd", 5, numcodecs.Blosc.BITSHUFFLE)),
    "zp3-v2-blosc-lz4-bigendian-u2": zp3(2, ">u2", numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE)),
    "zp3-v2-lz4-i8": zp3(2, "<i8", numcodecs.LZ4()),
    "zp3-v2-zstd-u8": zp3(2, "<u8", numcodecs.Zstd(level=3)),
    "zp3-v2-zlib-u1": zp3(2, "|u1", numcodecs.Zlib(level=5)),
    "zp3-v2-gzip-bigendian-f8": zp3(2, ">f8", numcodecs.GZip(level=5)),
    "zp3-v2-bz2-bigendian-i2": zp3(2, ">i2", numcodecs.BZ2(level=5)),
    "zp3-v2-lzma-f4": zp3(2, "<f4", numcodecs.LZMA()),
    "zp3-v2-zlib-order-F-i1": zp3(2, "|i1", numcodecs.Zlib(level=1), order="F"),
    "zp3-v2-lz4-c16": zp3(2, "<c16", numcodecs.LZ4()),
    # tensorstore
    "ts-n5-gzip-u2": ts_n5_case("<u2", {"type": "gzip"}),
    "ts-n5-bzip2-i4": ts_n5_case("<i4", {"type": "bzip2"}),
    "ts-n5-xz-f4": ts_n5_case("<f4", {"type": "xz"}),
    "ts-n5-blosc-u4": ts_n5_case("<u4", {"type": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}),
    "ts-n5-zstd-i8": ts_n5_case("<i8", {"type": "zstd"}),
    "ts-n5-raw-f8": ts_n5_case("<f8", {"type": "raw"}),
    "ts-zarr3-sharded-crc32c-i2": ts_zarr3_sharded("<i2"),
}


# JS: what a zl.read() result must match `expected()` on: its shape, dtype and the sha256 of its bytes.
SUMMARY_JS = """async r => {
  const bytes = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  const hex = b => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join("");
  return {shape: r.shape, dtype: r.dtype, sha: hex(await crypto.subtle.digest("SHA-256", bytes))};
}"""


def as_js_receives(values: np.ndarray) -> np.ndarray:
    """The documented mapping of web/protocol.js, written out here rather than taken from the code under
    test: bool -> uint8, float16 -> float32, complex -> (re, im) float pairs on a trailing axis of 2,
    every dtype little-endian, C order, numpy's own shape (0-d stays 0-d)."""
    values = np.asarray(values)
    kind, size = values.dtype.kind, values.dtype.itemsize
    if kind == "c":
        part = np.dtype(f"<f{size // 2}")
        return np.stack([values.real.astype(part), values.imag.astype(part)], axis=-1)
    if kind == "b":
        return values.astype(np.uint8)
    if kind == "f" and size == 2:
        return values.astype("<f4")
    return values.astype(values.dtype.newbyteorder("<"))


def expected(truth: np.ndarray, sel) -> dict:
    """What the JS API must hand back for `truth[sel]`: shape, dtype and a sha256 of the C-order bytes."""
    out = as_js_receives(truth[sel])
    return {"shape": list(out.shape), "dtype": out.dtype.str,
            "sha": hashlib.sha256(out.tobytes(order="C")).hexdigest()}
