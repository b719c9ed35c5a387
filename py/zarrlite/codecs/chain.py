"""Codec configs of every format -> Pipeline. Compressors are normalised to the registry's canonical ids."""

from __future__ import annotations

from ..errors import CodecError, MetadataError
from . import availability, checksums, pco, registry, zfp  # noqa: F401  (checksums, pco, zfp register)
from .array_codecs import BytesCodec, TransposeCodec
from .crc32c import Crc32cCodec
from .filters import FILTERS
from .n5block import N5BlockCodec
from .pipeline import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, Pipeline
from .sharding import ShardingCodec

_BLOSC_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}
# zarr-extensions codecs registered under a bare name that decode as the numcodecs codec of that id
# (numcodecs.<id>, and other writers' names for them, are handled through availability.canonical)
V3_NAMES_OF_NUMCODECS = frozenset({"bitround"})


def compressor(name: str, config: dict):
    """A compressor (or an array->bytes codec of numcodecs: pcodec, zfpy) for a canonical id, config in
    numcodecs' form. One this runtime cannot decode fails with availability's reason."""
    if name not in registry.available():
        registry.refuse_if_unsafe(name)
        reason = availability.unreadable(name, config, availability.current_runtime()) or ""
        reason = reason.removeprefix(f"{name}: ")
        raise CodecError(f"unknown or unsupported codec {name!r}" + (f": {reason}" if reason else ""))
    codec = registry.make_compressor(name, config)
    if not hasattr(codec, "name"):
        try:
            codec.name = name
        except AttributeError:
            pass
    return codec


def numcodecs_codec(config: dict, where: str):
    """A codec from a numcodecs config (`{"id": ..., ...}`): zarr v2 compressors and filters."""
    if not isinstance(config, dict) or not isinstance(config.get("id"), str):
        raise MetadataError(f"{where}: codec config must be an object with an 'id', got {config!r}")
    cid = availability.canonical(config["id"])
    registry.refuse_if_unsafe(cid)
    if cid in FILTERS:
        return FILTERS[cid](config)
    if cid == "crc32c":
        return Crc32cCodec() if config.get("location", "end") == "end" else checksums.Crc32cAt(config)
    return compressor(cid, config)


def _v3_codec(entry, ndim: int, where: str):
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise MetadataError(f"{where}: codec must be an object with a 'name', got {entry!r}")
    name, conf = entry["name"], entry.get("configuration") or {}
    if not isinstance(conf, dict):
        raise MetadataError(f"{where}: codec {name!r} configuration must be an object")
    registry.refuse_if_unsafe(name)
    if name in ("bytes", "endian"):
        endian = conf.get("endian", "little")
        if endian not in ("little", "big", None):
            raise MetadataError(f"{where}: bytes codec endian must be 'little' or 'big', not {endian!r}")
        return BytesCodec(endian or "little")
    if name == "transpose":
        return TransposeCodec(_transpose_order(conf.get("order"), ndim, where))
    if name == "crc32c":
        return Crc32cCodec()
    if name == "sharding_indexed":
        return _sharding(conf, where)
    if name == "gzip":
        return compressor("gzip", {"level": conf.get("level", 5)})
    if name == "zstd":
        return compressor("zstd", conf)
    if name == "blosc":
        shuffle = conf.get("shuffle", 0)
        if isinstance(shuffle, str):
            shuffle = _BLOSC_SHUFFLE.get(shuffle, shuffle)
        return compressor("blosc", {**conf, "shuffle": shuffle})
    if availability.canonical(name) != name or name in V3_NAMES_OF_NUMCODECS:
        return numcodecs_codec({**conf, "id": availability.canonical(name)}, where)
    return compressor(name, conf)  # unknown names fail here with the codec named


def _sharding(conf: dict, where: str) -> ShardingCodec:
    shape = conf.get("chunk_shape")
    if not isinstance(shape, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in shape):
        raise MetadataError(f"{where}: sharding chunk_shape must be a list of integers, got {shape!r}")
    return ShardingCodec(
        chunk_shape=tuple(shape),
        inner=v3_pipeline(conf.get("codecs", [{"name": "bytes"}]), len(shape), f"{where} (inner codecs)"),
        index=v3_pipeline(conf.get("index_codecs", [{"name": "bytes"}, {"name": "crc32c"}]), len(shape) + 1,
                          f"{where} (index codecs)"),
        index_location=conf.get("index_location", "end"),
    )


def v3_pipeline(codecs, ndim: int, where: str) -> Pipeline:
    if not isinstance(codecs, list) or not codecs:
        raise MetadataError(f"{where}: 'codecs' must be a non-empty list")
    aa, ab, bb = [], None, []
    for entry in codecs:
        codec = _v3_codec(entry, ndim, where)
        if isinstance(codec, ArrayArrayCodec) and ab is not None and hasattr(codec, "as_bytes_codec"):
            codec = codec.as_bytes_codec()   # numcodecs.shuffle among the bytes->bytes codecs
        if isinstance(codec, ArrayArrayCodec):
            if ab is not None:
                raise MetadataError(f"{where}: array->array codec {entry!r} after the array->bytes codec")
            aa.append(codec)
        elif isinstance(codec, ArrayBytesCodec):
            if ab is not None:
                raise MetadataError(f"{where}: more than one array->bytes codec")
            ab = codec
        else:
            if ab is None:
                raise MetadataError(f"{where}: bytes->bytes codec {entry!r} before the array->bytes codec")
            bb.append(codec)
    if ab is None:
        raise MetadataError(f"{where}: no array->bytes codec (such as 'bytes') in the codec list")
    return Pipeline(tuple(aa), ab, tuple(bb))


def _transpose_order(order, ndim, where):
    if order == "C":
        return tuple(range(ndim))
    if order == "F":
        return tuple(reversed(range(ndim)))
    if (not isinstance(order, list) or len(order) != ndim
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in order)
            or sorted(order) != list(range(ndim))):
        raise MetadataError(f"{where}: transpose order {order!r} is not a permutation of {ndim} dimensions")
    return tuple(order)


def v2_pipeline(order: str, ndim: int, filters, compressor_conf, where: str) -> Pipeline:
    aa, ab, bb = [], None, []
    if order == "F" and ndim > 1:
        aa.append(TransposeCodec(tuple(reversed(range(ndim)))))
    # numcodecs applies filters in turn, then the compressor: array filters, at most one codec that turns
    # the array into bytes (vlen-utf8 as a filter, pcodec or zfpy as the compressor; else the raw bytes),
    # then codecs of bytes (checksums, even compressors as filters)
    steps = [(f, f"{where} filters") for f in filters or []]
    if compressor_conf is not None:
        steps.append((compressor_conf, f"{where} compressor"))
    for conf, what in steps:
        codec = numcodecs_codec(conf, what)
        if isinstance(codec, ArrayArrayCodec) and (ab is not None or bb) and hasattr(codec, "as_bytes_codec"):
            codec = codec.as_bytes_codec()   # a shuffle of the bytes a checksum or compressor filter made
        if isinstance(codec, BytesBytesCodec) or not isinstance(codec, (ArrayArrayCodec, ArrayBytesCodec)):
            bb.append(codec)
        elif ab is not None or bb:
            raise MetadataError(f"{what}: {conf['id']!r} encodes arrays, but comes after the array was "
                                "turned into bytes")
        elif isinstance(codec, ArrayBytesCodec):
            ab = codec
        elif conf is compressor_conf:
            raise MetadataError(f"{where}: compressor {conf['id']!r} is a filter, not a compressor")
        else:
            aa.append(codec)
    return Pipeline(tuple(aa), ab or BytesCodec(None), tuple(bb))


def n5_pipeline(compression: dict, where: str) -> Pipeline:
    lz4 = isinstance(compression, dict) and compression.get("type") == "lz4"
    return Pipeline((), N5BlockCodec(n5_compressor(compression, where), lz4_java_blocks=lz4), ())


def n5_compressor(compression, where: str):
    if compression is None:
        return None
    if not isinstance(compression, dict) or not isinstance(compression.get("type"), str):
        raise MetadataError(f"{where}: compression must be an object with a 'type', got {compression!r}")
    kind = compression["type"]
    if kind == "raw":
        return None
    if kind == "gzip":
        return compressor("zlib" if compression.get("useZlib") else "gzip", {"level": compression.get("level", -1)})
    if kind == "bzip2":
        return compressor("bz2", {"level": compression.get("blockSize", 9)})
    if kind == "xz":
        return compressor("lzma", {"preset": compression.get("preset", 6)})
    if kind == "blosc":
        return compressor("blosc", {k: compression.get(k) for k in ("cname", "clevel", "shuffle", "blocksize")})
    if kind == "zstd":
        return compressor("zstd", {"level": compression.get("level", 3)})
    if kind == "lz4":
        return compressor("lz4", {})
    return compressor(kind, compression)
