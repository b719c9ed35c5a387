"""Fixture writers: data written by OTHER implementations (zarr-python 3, tensorstore, numcodecs),
and by hand where no writer can express a format feature (Java-style N5 edge blocks, N5 lz4, ...).

Every writer returns the numpy ground truth of what a correct reader must return (the array as
zarrlite exposes it: C order; for N5 the transpose of the N5 `dimensions` order).
"""

from __future__ import annotations

import bz2
import gzip
import itertools
import json
import lzma
import math
import os
import struct
import zlib
from pathlib import Path

import numcodecs
import numpy as np

# --------------------------------------------------------------------------------------- data


def make_data(shape, dtype, seed=0, specials=True) -> np.ndarray:
    """Deterministic values spread over the dtype's range; floats get NaN, +-inf and -0.0."""
    dt = np.dtype(dtype)
    native = dt.newbyteorder("=")
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    if dt.kind == "b":
        v = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(native)
        v = rng.integers(info.min, info.max, n, endpoint=True, dtype=native)
    elif dt.kind == "f":
        v = (rng.standard_normal(n) * 1000).astype(native)
        if specials and n >= 8:
            v[[1, 3, 5, 7]] = [np.nan, np.inf, -np.inf, -0.0]
    elif dt.kind == "c":
        part = np.dtype(f"f{native.itemsize // 2}")
        v = (rng.standard_normal(n) * 1000).astype(part) + 1j * (rng.standard_normal(n) * 1000).astype(part)
        v = v.astype(native)
        if specials and n >= 8:
            v[[1, 3]] = [complex(np.nan, 1), complex(2, np.inf)]
    else:
        raise ValueError(dt)
    return v.reshape(shape).astype(dt)


def smooth_data(shape, dtype, seed=0) -> np.ndarray:
    """Compressible, slowly varying values (for delta / scale-offset style filters)."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    v = np.cumsum(rng.integers(-3, 4, n)) + 100
    return v.reshape(shape).astype(dtype)


def chunk_regions(shape, chunks):
    """Yield (chunk index tuple, tuple of slices) over a regular grid."""
    grid = [range(math.ceil(s / c)) for s, c in zip(shape, chunks)]
    for idx in itertools.product(*grid):
        yield idx, tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(idx, chunks, shape))


def region_of(idx, shape, chunks):
    return tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(idx, chunks, shape))


def fill_like(dtype, fill_value):
    """The numpy scalar a reader must produce for a JSON-ish fill value."""
    if fill_value is None:
        fill_value = 0
    if isinstance(fill_value, str):
        fill_value = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}[fill_value]
    if isinstance(fill_value, (list, tuple)):
        fill_value = complex(*[fill_like("f8", p) for p in fill_value])
    return np.array(fill_value).astype(np.dtype(dtype))


def write_json(path, obj):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, allow_nan=False))


# ------------------------------------------------------------------------------- zarr-python 3


def zarr_python(root, data, *, zarr_format, name=None, missing=(), **kwargs):
    """Write `data` with zarr.create_array; chunks listed in `missing` are deleted afterwards
    (their region becomes the fill value in the returned truth)."""
    import zarr

    arr = zarr.create_array(str(root), name=name, shape=data.shape, dtype=data.dtype, zarr_format=zarr_format,
                            overwrite=True, **kwargs)
    arr[...] = data
    truth = data.copy()
    for idx in missing:
        truth = _drop_zarr_chunk(arr, truth, idx)
    return truth


def _drop_zarr_chunk(arr, truth, idx):
    import zarr  # noqa: F401

    md = arr.metadata
    store_root = Path(arr.store.root) / (arr.path or "")
    if arr.metadata.zarr_format == 2:
        sep = md.dimension_separator or "."
        key = sep.join(map(str, idx))
        chunks = md.chunks
        fill = md.fill_value
    else:
        key = md.chunk_key_encoding.encode_chunk_key(idx)
        chunks = md.chunk_grid.chunk_shape
        fill = md.fill_value
    path = store_root / key
    assert path.exists(), f"fixture: chunk {key} was not written"
    path.unlink()
    truth[region_of(idx, truth.shape, chunks)] = fill_like(truth.dtype, _np_scalar(fill))
    return truth


def _np_scalar(v):
    if v is None:
        return None
    if isinstance(v, (np.generic,)):
        return v.item()
    return v


# ------------------------------------------------------------------------- hand-built zarr v2


def manual_zarr2(root, data, chunks, *, dtype=None, order="C", sep=".", compressor=None, filters=(),
                 fill_value=0, missing=(), attrs=None, meta_overrides=None):
    """Write a Zarr v2 array by hand: `.zarray` JSON plus chunks encoded with numcodecs.

    Edge chunks are written full size (padded with the fill value), as the v2 spec requires.
    `compressor`/`filters` are numcodecs codec objects. Returns the truth.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    dt = np.dtype(dtype or data.dtype)
    data = data.astype(dt)
    fill_np = fill_like(dt, fill_value)
    if dt.kind == "c" and isinstance(fill_value, (int, float)):
        fill_value = [float(fill_value), 0.0]  # how zarr-python 2 wrote complex fill values
    meta = {
        "zarr_format": 2,
        "shape": list(data.shape),
        "chunks": list(chunks),
        "dtype": dt.str,
        "compressor": compressor.get_config() if compressor is not None else None,
        "fill_value": fill_value,
        "order": order,
        "filters": [f.get_config() for f in filters] or None,
        "dimension_separator": sep,
    }
    meta.update(meta_overrides or {})
    write_json(root / ".zarray", meta)
    if attrs is not None:
        write_json(root / ".zattrs", attrs)
    truth = data.copy()
    for idx, region in chunk_regions(data.shape, chunks):
        if idx in missing:
            truth[region] = fill_np
            continue
        block = np.full(chunks, fill_np, dtype=dt)
        block[tuple(slice(0, r.stop - r.start) for r in region)] = data[region]
        buf = encode_v2_chunk(block, order, filters, compressor)
        key = sep.join(map(str, idx)) if data.ndim else "0"
        p = root / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(buf)
    return truth


def encode_v2_chunk(block, order, filters, compressor) -> bytes:
    buf = block.ravel(order=order)  # 1-d, in the chunk's memory order
    for f in filters:
        buf = f.encode(buf)
    if compressor is not None:
        buf = compressor.encode(buf)
    return bytes(np.ascontiguousarray(buf).view("u1")) if isinstance(buf, np.ndarray) else bytes(buf)


def manual_group2(root, attrs=None):
    root = Path(root)
    write_json(root / ".zgroup", {"zarr_format": 2})
    if attrs is not None:
        write_json(root / ".zattrs", attrs)


# ------------------------------------------------------------------------------- tensorstore


def _ts_open(spec):
    import tensorstore as ts

    return ts.open(spec, create=True, delete_existing=True).result()


def ts_zarr3(root, data, *, chunks, data_type, codecs=None, fill_value=0, chunk_key_encoding=None,
             dimension_names=None, attributes=None, missing=()):
    """tensorstore `zarr3` driver. Chunks in `missing` are never written (their region stays fill)."""
    md = {
        "shape": list(data.shape),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "data_type": data_type,
        "fill_value": fill_value,
    }
    if codecs is not None:
        md["codecs"] = codecs
    if chunk_key_encoding is not None:
        md["chunk_key_encoding"] = chunk_key_encoding
    if dimension_names is not None:
        md["dimension_names"] = dimension_names
    if attributes is not None:
        md["attributes"] = attributes
    t = _ts_open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(root)}, "metadata": md})
    return _ts_write_except(t, data, chunks, missing, fill_value)


def ts_zarr2(root, data, *, chunks, dtype, compressor=None, order="C", fill_value=0, filters=None,
             dimension_separator=".", missing=()):
    """tensorstore `zarr` (v2) driver."""
    md = {"shape": list(data.shape), "chunks": list(chunks), "dtype": np.dtype(dtype).str,
          "compressor": compressor, "order": order, "fill_value": fill_value, "filters": filters,
          "dimension_separator": dimension_separator}
    t = _ts_open({"driver": "zarr", "kvstore": {"driver": "file", "path": str(root)}, "metadata": md})
    return _ts_write_except(t, data.astype(dtype), chunks, missing, fill_value)


def _ts_write_except(t, data, chunks, missing, fill_value):
    truth = data.copy()
    if not missing:
        t.write(data).result()
        return truth
    for idx, region in chunk_regions(data.shape, chunks):
        if idx in missing:
            truth[region] = fill_like(data.dtype, fill_value)
        else:
            t[region].write(data[region]).result()
    return truth


def ts_n5(root, data, *, block_size, data_type, compression, attributes=None, missing=()):
    """tensorstore `n5` driver, domain = data.shape. tensorstore keeps its dimensions in N5 order
    (`dimensions` == domain shape, block keys x/y/z with x = domain dim 0, x fastest in a block),
    so zarrlite (C order, reversed dimensions) must return the transpose. Returns that truth."""
    md = {"dimensions": list(data.shape), "blockSize": list(block_size), "dataType": data_type,
          "compression": compression}
    if attributes:
        md.update(attributes)
    t = _ts_open({"driver": "n5", "kvstore": {"driver": "file", "path": str(root)}, "metadata": md})
    truth = _ts_write_except(t, data, block_size, missing, 0)
    written = json.loads((Path(root) / "attributes.json").read_text())
    assert written["dimensions"] == list(data.shape), written  # the assumption the truth relies on
    return truth.T.copy()


# ---------------------------------------------------------------------------------- hand-built N5


def xxh32(data: bytes, seed: int) -> int:
    """XXHash32 (used by Java's LZ4BlockOutputStream for its block checksums)."""
    P1, P2, P3, P4, P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    M = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & M

    def rnd(acc, lane):
        return (rotl((acc + lane * P2) & M, 13) * P1) & M

    n = len(data)
    i = 0
    if n >= 16:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed & M, (seed - P1) & M]
        while i + 16 <= n:
            for k in range(4):
                v[k] = rnd(v[k], struct.unpack_from("<I", data, i + 4 * k)[0])
            i += 16
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 4 <= n:
        h = (rotl((h + struct.unpack_from("<I", data, i)[0] * P3) & M, 17) * P4) & M
        i += 4
    while i < n:
        h = (rotl((h + data[i] * P5) & M, 11) * P1) & M
        i += 1
    h ^= h >> 15
    h = (h * P2) & M
    h ^= h >> 13
    h = (h * P3) & M
    h ^= h >> 16
    return h


def lz4_block_stream(raw: bytes, block_size=1 << 16) -> bytes:
    """What Java's net.jpountz LZ4BlockOutputStream writes (N5's `lz4` compression): per block a
    21-byte header ("LZ4Block", token = method | level, compressed length, decompressed length,
    XXHash32(seed 0x9747b28c) & 0x0FFFFFFF, all little endian) then the LZ4 block; an empty
    block ends the stream."""
    level = max(0, (block_size - 1).bit_length() - 10)
    lz4 = numcodecs.LZ4()
    out = bytearray()
    for off in range(0, len(raw), block_size):
        chunk = raw[off:off + block_size]
        comp = bytes(lz4.encode(chunk))[4:]  # numcodecs prefixes the raw LZ4 block with its size
        method = 0x20
        if len(comp) >= len(chunk):
            comp, method = chunk, 0x10
        check = xxh32(chunk, 0x9747B28C) & 0x0FFFFFFF
        out += b"LZ4Block" + bytes([method | level]) + struct.pack("<iii", len(comp), len(chunk), check) + comp
    out += b"LZ4Block" + bytes([0x10 | level]) + struct.pack("<iii", 0, 0, 0)
    return bytes(out)


N5_TYPES = {"uint8": ">u1", "uint16": ">u2", "uint32": ">u4", "uint64": ">u8", "int8": ">i1", "int16": ">i2",
            "int32": ">i4", "int64": ">i8", "float32": ">f4", "float64": ">f8"}


def n5_compress(raw: bytes, compression: dict) -> bytes:
    kind = compression["type"]
    if kind == "raw":
        return raw
    if kind == "gzip":
        level = compression.get("level", -1)
        if compression.get("useZlib"):
            return zlib.compress(raw, level)
        return gzip.compress(raw, 6 if level < 0 else level)
    if kind == "bzip2":
        return bz2.compress(raw, compression.get("blockSize", 9))
    if kind == "xz":
        return lzma.compress(raw, format=lzma.FORMAT_XZ, preset=compression.get("preset", 6))
    if kind == "lz4":
        return lz4_block_stream(raw, compression.get("blockSize", 1 << 16))
    if kind == "zstd":
        return bytes(numcodecs.Zstd(level=compression.get("level", 3)).encode(raw))
    if kind == "blosc":
        shuffle = {0: numcodecs.Blosc.NOSHUFFLE, 1: numcodecs.Blosc.SHUFFLE, 2: numcodecs.Blosc.BITSHUFFLE}
        return bytes(numcodecs.Blosc(cname=compression.get("cname", "lz4"), clevel=compression.get("clevel", 5),
                                     shuffle=shuffle[compression.get("shuffle", 1)]).encode(raw))
    raise ValueError(kind)


def n5_block(block_c: np.ndarray, data_type: str, compression: dict, mode=0, num_elements=None) -> bytes:
    """One N5 block for a C-order region `block_c` of the zarrlite view: the N5 block shape is the
    region shape reversed, data big endian with N5 dim 0 (= last C axis) fastest, i.e. C order."""
    dims = block_c.shape[::-1]
    header = struct.pack(">HH", mode, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    if mode == 1:
        header += struct.pack(">I", block_c.size if num_elements is None else num_elements)
    raw = np.ascontiguousarray(block_c, dtype=N5_TYPES[data_type]).tobytes()
    return header + n5_compress(raw, compression)


def manual_n5(root, data_c, *, chunks_c, data_type, compression, mode=0, missing=(), attrs=None,
              pad_edges=False):
    """Java-N5-style writer. `data_c`/`chunks_c` are in zarrlite (C, reversed) order; the N5
    `dimensions`/`blockSize` are written reversed. Edge blocks are truncated (as Java N5 writes
    them) unless pad_edges. Block keys are the N5 grid position, x first. Returns the truth."""
    root = Path(root)
    meta = {"dimensions": list(data_c.shape[::-1]), "blockSize": list(chunks_c[::-1]), "dataType": data_type,
            "compression": compression}
    meta.update(attrs or {})
    write_json(root / "attributes.json", meta)
    truth = data_c.astype(np.dtype(N5_TYPES[data_type]).newbyteorder("=")).copy()
    for idx, region in chunk_regions(data_c.shape, chunks_c):
        if idx in missing:
            truth[region] = 0
            continue
        block = truth[region]
        if pad_edges and block.shape != tuple(chunks_c):
            full = np.zeros(chunks_c, truth.dtype)
            full[tuple(slice(0, n) for n in block.shape)] = block
            block = full
        key = "/".join(map(str, idx[::-1]))
        p = root / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(n5_block(block, data_type, compression, mode=mode))
    return truth


def n5_group(root, attrs=None, version=None):
    meta = dict(attrs or {})
    if version:
        meta["n5"] = version
    write_json(Path(root) / "attributes.json", meta)


# ------------------------------------------------------------------------------- misc helpers


def dir_size(path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def files_under(path):
    path = Path(path)
    return sorted(str(f.relative_to(path)).replace(os.sep, "/") for f in path.rglob("*") if f.is_file())


# ------------------------------------------------------------------------------------- truth


def assert_same(actual, expected):
    """The one truth assertion: a numpy.ndarray of the expected shape and value type (any byte
    order), equal to the ground truth element by element and bit by bit (NaN payloads, -0.0).
    Where numpy itself gives a scalar (every dimension indexed by an int) a numpy scalar or a 0-d
    ndarray are both accepted."""
    if isinstance(actual, np.generic) and np.ndim(expected) == 0:
        actual = np.asarray(actual)
    assert isinstance(actual, np.ndarray), f"expected a numpy.ndarray, got {type(actual).__name__}"
    expected = np.asarray(expected)
    want = expected.dtype.newbyteorder("=")
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    assert actual.dtype.newbyteorder("=") == want, f"dtype {actual.dtype} != expected {expected.dtype}"
    np.testing.assert_array_equal(actual, expected, strict=False)
    if want.kind in "fc":  # equal values; now also equal bits (-0.0 vs 0.0, NaN payloads)
        a = np.ascontiguousarray(actual.astype(want)).view(f"u{want.itemsize // (2 if want.kind == 'c' else 1)}")
        e = np.ascontiguousarray(expected.astype(want)).view(a.dtype)
        np.testing.assert_array_equal(a, e, err_msg="values equal but bits differ (-0.0 or NaN payload)")


# ------------------------------------------------------------------------- zarr-python 2.18

ZARR2_PYTHON = Path(__file__).resolve().parent.parent / ".cache" / "venv-zarr2" / "bin" / "python"

_ZARR2_READBACK = """
import json, sys
import numpy as np, zarr

def plain(v):
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):  # a sub-array field
        return plain(v.tolist())
    if hasattr(v, "isoformat"):  # datetimes
        return v.isoformat()
    return v.item() if isinstance(v, np.generic) else v

a = zarr.open_array(sys.argv[1], mode="r")[...]
print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "values": plain(a.ravel().tolist())}))
"""


def zarr2_python(root, code: str) -> dict:
    """Run `code` under zarr-python 2.18 (its own venv, made by build.sh: it needs numpy 1) with `path`
    bound to `root`, then read the array back there with zarr 2.18 itself: {"dtype", "shape", "values"},
    the values flattened, bytes as {"bytes": hex}."""
    import subprocess

    if not ZARR2_PYTHON.exists():
        raise RuntimeError(f"{ZARR2_PYTHON} is missing: run ./build.sh")
    for args in (["-c", f"path = {str(root)!r}\n{code}"], ["-c", _ZARR2_READBACK, str(root)]):
        out = subprocess.run([str(ZARR2_PYTHON), *args], capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"zarr-python 2.18 failed:\n{out.stderr}")
    return json.loads(out.stdout)


# ----------------------------------------------------------------- zarr-python >= 3.2 (rectilinear)

ZARR32_PYTHON = Path(__file__).resolve().parent.parent / ".cache" / "venv-zarr32" / "bin" / "python"

_ZARR32_WRITE = """
import json, sys
import numpy as np, zarr
root, args = sys.argv[1], json.loads(sys.argv[2])
data = np.load(root + ".npy")
zarr.config.set({"array.rectilinear_chunks": True})
arr = zarr.create_array(root, shape=data.shape, dtype=data.dtype, chunks=args["chunks"], shards=args.get("shards"),
                        fill_value=args.get("fill_value"), overwrite=True)
for region in args.get("regions") or [[[0, n] for n in data.shape]]:
    sel = tuple(slice(a, b) for a, b in region)
    arr[sel] = data[sel]
np.save(root + ".truth.npy", zarr.open_array(root, mode="r")[...])
"""


def zarr32_python(root, data: np.ndarray, *, chunks, shards=None, fill_value=None, regions=None) -> np.ndarray:
    """Write `data` with zarr-python >= 3.2 (its own venv, made by build.sh: the main one pins 3.1), where
    `chunks`/`shards` may be rectilinear (a list of edge lengths per dimension); `regions` ([[start, stop],
    ...] per region) limits what is written. Returns what that zarr-python reads back."""
    import subprocess

    if not ZARR32_PYTHON.exists():
        raise RuntimeError(f"{ZARR32_PYTHON} is missing: run ./build.sh")
    np.save(f"{root}.npy", data)
    args = {"chunks": chunks, "shards": shards, "fill_value": fill_value, "regions": regions}
    subprocess.run([str(ZARR32_PYTHON), "-c", _ZARR32_WRITE, str(root), json.dumps(args)], check=True)
    return np.load(f"{root}.truth.npy")
