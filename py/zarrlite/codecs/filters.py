"""numcodecs filters (zarr v2 `filters`, zarr v3 `numcodecs.*` array->array codecs) in plain numpy,
so they decode the same way in CPython and in the browser. Each matches numcodecs' decode exactly."""

from __future__ import annotations

import math

import numpy as np

from ..errors import CodecError, MetadataError
from .pipeline import ArrayArrayCodec, ChunkSpec


def _dtype(value, what):
    try:
        dt = np.dtype(value)
    except TypeError as e:
        raise MetadataError(f"{what}: bad dtype {value!r}") from e
    if dt.kind not in "biufc":
        raise MetadataError(f"{what}: dtype {value!r} is not numeric")
    return dt


class _Filter(ArrayArrayCodec):
    name = ""

    def __init__(self, config: dict):
        self.config = config

    def describe(self):
        return self.name

    def _encoded_dtype(self, spec):
        return spec.dtype

    def resolve(self, spec):
        return ChunkSpec(spec.shape, self._encoded_dtype(spec), spec.fill_value)


class Delta(_Filter):
    name = "delta"

    def _encoded_dtype(self, spec):
        return _dtype(self.config.get("astype") or self.config.get("dtype") or spec.dtype, "delta")

    def decode(self, arr, spec):
        dtype = _dtype(self.config.get("dtype") or spec.dtype, "delta")
        out = np.cumsum(arr.reshape(-1), dtype=dtype)
        return out.reshape(spec.shape)


class FixedScaleOffset(_Filter):
    name = "fixedscaleoffset"

    def _encoded_dtype(self, spec):
        return _dtype(self.config.get("astype") or self.config.get("dtype") or spec.dtype, "fixedscaleoffset")

    def decode(self, arr, spec):
        dtype = _dtype(self.config.get("dtype") or spec.dtype, "fixedscaleoffset")
        dec = (arr.reshape(-1) / self.config["scale"]) + self.config["offset"]
        return dec.astype(dtype, copy=False).reshape(spec.shape)


class AsType(_Filter):
    name = "astype"

    def _encoded_dtype(self, spec):
        return _dtype(self.config.get("encode_dtype") or spec.dtype, "astype")

    def decode(self, arr, spec):
        dtype = _dtype(self.config.get("decode_dtype") or spec.dtype, "astype")
        return arr.astype(dtype).reshape(spec.shape)


class Quantize(_Filter):
    name = "quantize"

    def _encoded_dtype(self, spec):
        return _dtype(self.config.get("astype") or self.config.get("dtype") or spec.dtype, "quantize")

    def decode(self, arr, spec):
        dtype = _dtype(self.config.get("dtype") or spec.dtype, "quantize")
        return arr.astype(dtype, copy=False).reshape(spec.shape)


class BitRound(_Filter):
    name = "bitround"  # rounding is lossy on encode; decoding is the identity

    def decode(self, arr, spec):
        return arr


class Shuffle(_Filter):
    name = "shuffle"

    def decode(self, arr, spec):
        size = int(self.config.get("elementsize", 4))
        raw = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
        if size <= 1 or raw.size % size:
            return arr
        out = raw.reshape(size, -1).T.copy()
        return out.reshape(-1).view(arr.dtype).reshape(arr.shape)


class PackBits(_Filter):
    name = "packbits"

    def _encoded_dtype(self, spec):
        return np.dtype("u1")

    def resolve(self, spec):
        n = math.prod(spec.shape)
        return ChunkSpec((1 + (n + 7) // 8,), np.dtype("u1"), 0)

    def decode(self, arr, spec):
        padding = int(arr[0])
        if padding > 7:
            raise CodecError(f"packbits: invalid padding {padding}")
        bits = np.unpackbits(arr[1:])
        n = math.prod(spec.shape)
        return bits[:n].astype(bool).reshape(spec.shape)


FILTERS = {cls.name: cls for cls in (Delta, FixedScaleOffset, AsType, Quantize, BitRound, Shuffle, PackBits)}
