"""pcodec (`numcodecs.pcodec`): an array->bytes codec for numerical sequences, decoded by its authors'
`pcodec` package (CPython only: it has no Pyodide or WASM build to bundle). In zarr v2 metadata it is the
compressor; it becomes the array->bytes step here, as zarr-python 3 declares it."""

from __future__ import annotations

import math

import numpy as np

from ..errors import CodecError
from . import registry
from .pipeline import ChunkSpec, PackageArrayCodec

try:
    from pcodec import standalone
except ImportError:  # no pcodec here: availability.py says so by name
    standalone = None


class PcodecCodec(PackageArrayCodec):
    name = "pcodec"

    def describe(self):
        return "pcodec"

    def decode_chunk(self, data, spec: ChunkSpec):
        return decode(data, spec)


def decode(data, spec: ChunkSpec) -> np.ndarray:
    """The chunk's values, decoded into an array of exactly the chunk's size (never what the stream asks)."""
    out = np.empty(math.prod(spec.shape), spec.dtype.newbyteorder("="))
    try:
        progress = standalone.simple_decompress_into(bytes(data), out)
    except (TypeError, RuntimeError, ValueError) as e:
        raise CodecError(f"pcodec: {e}") from e
    if progress.n_processed != out.size or not progress.finished:
        state = "more values than" if progress.n_processed == out.size else f"{progress.n_processed} of the"
        raise CodecError(f"pcodec: the stream holds {state} {out.size} values the chunk holds")
    return out.reshape(spec.shape)


if standalone is not None:
    registry.register("pcodec", PcodecCodec)
