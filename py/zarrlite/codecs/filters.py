"""numcodecs filters (zarr v2 `filters`, zarr v3 `numcodecs.*` array->array codecs) in plain numpy,
so they decode the same way in CPython and in the browser. Each matches numcodecs' decode exactly."""

from __future__ import annotations

import math

import numpy as np

from ..errors import CodecError, MetadataError
from .pipeline import ArrayArrayCodec, BytesBytesCodec, ChunkSpec


def _dtype(value, what):
    if isinstance(value, np.dtype):
        return value
    if not isinstance(value, str):  # np.dtype() also takes lists and dicts: structured types, refused
        raise MetadataError(f"{what}: dtype must be a string, got {value!r}")
    try:
        dt = np.dtype(value)
    except TypeError as e:
        raise MetadataError(f"{what}: bad dtype {value!r}") from e
    if dt.kind not in "biufc":
        raise MetadataError(f"{what}: dtype {value!r} is not numeric")
    return dt


def _number(config, key, what):
    value = config.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise MetadataError(f"{what}: {key} must be a number, got {value!r}")
    return value


class _Filter(ArrayArrayCodec):
    name = ""
    dtype_keys = ()  # config entries that must be numeric dtypes when present

    def __init__(self, config: dict):
        self.config = config
        for key in self.dtype_keys:
            if config.get(key) is not None:
                _dtype(config[key], f"{self.name} {key}")

    def describe(self):
        return self.name

    def _encoded_dtype(self, spec):
        return spec.dtype

    def resolve(self, spec):
        return ChunkSpec(spec.shape, self._encoded_dtype(spec), spec.fill_value)


class Delta(_Filter):
    name = "delta"
    dtype_keys = ("dtype", "astype")

    def _encoded_dtype(self, spec):
        return _dtype(self.config.get("astype") or self.config.get("dtype") or spec.dtype, "delta")

    def decode(self, arr, spec):
        dtype = _dtype(self.config.get("dtype") or spec.dtype, "delta")
        out = np.cumsum(arr.reshape(-1), dtype=dtype)
        return out.reshape(spec.shape)


class FixedScaleOffset(_Filter):
    name = "fixedscaleoffset"
    dtype_keys = ("dtype", "astype")

    def __init__(self, config):
        super().__init__(config)
        self.scale = _number(config, "scale", self.name)
        self.offset = _number(config, "offset", self.name)

    def _encoded_dtype(self, spec):
        return _dtype(self.config.get("astype") or self.config.get("dtype") or spec.dtype, "fixedscaleoffset")

    def decode(self, arr, spec):
        dtype = _dtype(self.config.get("dtype") or spec.dtype, "fixedscaleoffset")
        with np.errstate(all="ignore"):  # scale 0 or values beyond the dtype: what numcodecs gives
            dec = (arr.reshape(-1) / self.scale) + self.offset
            return dec.astype(dtype, copy=False).reshape(spec.shape)


class AsType(_Filter):
    name = "astype"
    dtype_keys = ("encode_dtype", "decode_dtype")

    def _encoded_dtype(self, spec):
        return _dtype(self.config.get("encode_dtype") or spec.dtype, "astype")

    def decode(self, arr, spec):
        dtype = _dtype(self.config.get("decode_dtype") or spec.dtype, "astype")
        with np.errstate(all="ignore"):
            return arr.astype(dtype).reshape(spec.shape)


class Quantize(_Filter):
    name = "quantize"
    dtype_keys = ("dtype", "astype")

    def _encoded_dtype(self, spec):
        return _dtype(self.config.get("astype") or self.config.get("dtype") or spec.dtype, "quantize")

    def decode(self, arr, spec):
        dtype = _dtype(self.config.get("dtype") or spec.dtype, "quantize")
        with np.errstate(all="ignore"):
            return arr.astype(dtype, copy=False).reshape(spec.shape)


class BitRound(_Filter):
    name = "bitround"  # rounding is lossy on encode; decoding is the identity

    def decode(self, arr, spec):
        return arr


class Shuffle(_Filter):
    name = "shuffle"

    def __init__(self, config):
        super().__init__(config)
        self.elementsize = config.get("elementsize", 4)
        if not isinstance(self.elementsize, int) or isinstance(self.elementsize, bool) or self.elementsize < 0:
            raise MetadataError(f"shuffle: elementsize must be a non-negative integer, got {self.elementsize!r}")

    def decode(self, arr, spec):
        raw = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
        return unshuffle(raw, self.elementsize).view(arr.dtype).reshape(arr.shape)

    def as_bytes_codec(self):
        """The same shuffle where zarr v3 declares it: after the array became bytes (zarr-python 3
        writes `numcodecs.shuffle` as a bytes->bytes codec)."""
        return ShuffleBytes(self.elementsize)


def unshuffle(raw: np.ndarray, size: int) -> np.ndarray:
    """numcodecs' shuffle undone: byte i of every element was stored in the i-th of `size` planes."""
    if size <= 1 or raw.size % size:
        return raw
    return raw.reshape(size, -1).T.reshape(-1).copy()


class ShuffleBytes(BytesBytesCodec):
    name = "shuffle"

    def __init__(self, elementsize: int):
        self.elementsize = elementsize

    def describe(self):
        return f"shuffle(elementsize={self.elementsize})"

    def encoded_limit(self, limit):
        return limit

    def decode(self, data, limit):
        return unshuffle(np.frombuffer(data, np.uint8), self.elementsize).tobytes()


class PackBits(_Filter):
    name = "packbits"

    def _encoded_dtype(self, spec):
        return np.dtype("u1")

    def resolve(self, spec):
        n = math.prod(spec.shape)
        return ChunkSpec((1 + (n + 7) // 8,), np.dtype("u1"), 0)

    def decode(self, arr, spec):
        if not len(arr):
            raise CodecError("packbits: empty input (no padding byte)")
        padding = int(arr[0])
        if padding > 7:
            raise CodecError(f"packbits: invalid padding {padding}")
        bits = np.unpackbits(arr[1:])
        n = math.prod(spec.shape)
        return bits[:n].astype(bool).reshape(spec.shape)


FILTERS = {cls.name: cls for cls in (Delta, FixedScaleOffset, AsType, Quantize, BitRound, Shuffle, PackBits)}
