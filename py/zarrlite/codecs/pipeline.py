"""The codec chain every format decodes through: array->array codecs, one array->bytes codec,
bytes->bytes codecs (zarr v3's model; v2 and N5 metadata are translated into it).

Decoding is written once, as a generator that yields each compressor call `(codec, data, limit)`
and receives the decoded bytes back. `decode_sync` answers those calls directly (CPython, in a worker
thread); `decode_async` awaits them (the browser's codecs are asynchronous JS). No logic is duplicated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generator

import numpy as np

from ..errors import ChunkError, CodecError

DecodeSteps = Generator[tuple[Any, Any, int], Any, np.ndarray]


@dataclass(frozen=True)
class ChunkSpec:
    """What a codec decodes to: the chunk's shape, dtype (with its byte order) and fill value; `budget`
    the read's memory budget (it bounds variable-length chunks, whose size the dtype does not say)."""
    shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any = 0
    budget: int | None = None

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


class ArrayArrayCodec:
    def resolve(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec of the encoded form, given the decoded one."""
        return spec

    def decode(self, arr: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        raise NotImplementedError


class ArrayBytesCodec:
    is_async = False  # True when decoding awaits an asynchronous (browser) compressor
    c_order_bytes = False  # True when its input is the chunk's elements in C order, nothing else

    def max_encoded_size(self, spec: ChunkSpec) -> int:
        return spec.nbytes

    def decode_steps(self, data, spec: ChunkSpec) -> DecodeSteps:
        raise NotImplementedError
        yield  # pragma: no cover


class PackageArrayCodec(ArrayBytesCodec):
    """An array->bytes codec that another package decodes whole in one call, `decode_chunk(data, spec)`; its
    encoded size may exceed the raw size a little (headers, incompressible data)."""

    def __init__(self, config: dict):
        self.config = config

    def max_encoded_size(self, spec: ChunkSpec) -> int:
        return spec.nbytes + spec.nbytes // 8 + 4096

    def decode_steps(self, data, spec: ChunkSpec):
        return self.decode_chunk(data, spec)
        yield  # pragma: no cover - no compressor calls

    def decode_chunk(self, data, spec: ChunkSpec):
        raise NotImplementedError


class BytesBytesCodec:
    """A compressor or checksum: `decode(data, limit)`; `encoded_limit` bounds its input's decoded size."""

    def encoded_limit(self, limit: int) -> int:
        return limit


@dataclass(frozen=True)
class Pipeline:
    array_array: tuple = ()
    array_bytes: ArrayBytesCodec = None
    bytes_bytes: tuple = ()

    @property
    def decodes_parts(self) -> bool:
        """Whether `decode_sync(..., part=)` can decode only the bytes a selection needs: the decoded stream
        is the chunk in C order (no array->array codec) and its last compressor can decode a byte range."""
        return (self.array_bytes.c_order_bytes and not self.array_array and bool(self.bytes_bytes)
                and hasattr(self.bytes_bytes[0], "decode_part"))

    @property
    def is_async(self) -> bool:
        return self.array_bytes.is_async or any(hasattr(c, "decode_async") for c in self.bytes_bytes)

    def describe(self) -> list[str]:
        return [describe(c) for c in (*self.array_array, self.array_bytes, *self.bytes_bytes)]

    def decode_steps(self, data, spec: ChunkSpec, part: tuple[int, int] | None = None) -> DecodeSteps:
        """`part` (with `decodes_parts`): the byte range [start, stop) of the decoded chunk that will be read;
        the bytes outside it may then be left undecoded (undefined)."""
        specs = [spec]
        for codec in self.array_array:
            specs.append(codec.resolve(specs[-1]))
        limits = [self.array_bytes.max_encoded_size(specs[-1])]
        for codec in self.bytes_bytes[:-1]:
            limits.append(encoded_limit(codec, limits[-1]))
        for i in reversed(range(len(self.bytes_bytes))):
            codec = self.bytes_bytes[i]
            if i == 0 and part is not None and self.decodes_parts:
                codec = PartOf(codec, part)
            data = yield codec, data, limits[i]
        arr = yield from self.array_bytes.decode_steps(data, specs[-1])
        for codec, s in zip(reversed(self.array_array), reversed(specs[:-1])):
            arr = codec.decode(arr, s)
        return arr

    def decode_sync(self, data, spec: ChunkSpec, part: tuple[int, int] | None = None) -> np.ndarray:
        return run_sync(self.decode_steps(data, spec, part))

    def decoder(self, spec: ChunkSpec):
        """decode(data) -> the chunk, the same as `decode_sync(data, spec)`, set up once for many chunks of
        `spec`: a sharded read decodes thousands of small inner chunks, and walking the steps costs about
        what decoding one does. One compressor straight to C-order elements (an array->bytes codec with a
        `decoder`) is called directly; any other chain walks its steps."""
        to_array = getattr(self.array_bytes, "decoder", None)
        if self.array_array or len(self.bytes_bytes) != 1 or to_array is None or self.is_async:
            return lambda data: self.decode_sync(data, spec)
        codec, limit, arr = self.bytes_bytes[0], self.array_bytes.max_encoded_size(spec), to_array(spec)
        return lambda data: arr(_check_limit(codec.decode(data, limit), limit, codec))

    def decoder_into(self, spec: ChunkSpec):
        """(dtype, into) where the decoded bytes of chunks of `spec` can be written straight into memory,
        else None: `into(dst, src, n)` decodes the `n` bytes at address `src` to address `dst` and says
        whether they made exactly the chunk (`spec.nbytes` bytes of `dtype` in C order; `dst` has room for
        no more); `into(dst, src, n, (start, stop))`, whether bytes [start, stop) of such a chunk are now
        at `dst` (the others undefined, not decoded where the compressor can leave them: zstd stops at
        `stop`, blosc decodes the blocks of the range). When it says no, `decoder(spec)` decodes that
        chunk, or says what is wrong with it. One compressor straight to C-order elements, whose
        compressor decompresses to an address (`decompress_into`, `decompress_part_into`): sharded reads
        decode thousands of small inner chunks into one buffer, other reads into a buffer kept."""
        stored = getattr(self.array_bytes, "stored_dtype", None)
        if self.array_array or stored is None or len(self.bytes_bytes) != 1 or self.is_async:
            return None
        codec = self.bytes_bytes[0]
        make = getattr(codec, "decompress_into", None)
        run = None if make is None else make()
        if run is None:
            return None
        make = getattr(codec, "decompress_part_into", None)
        part_of = None if make is None else make()
        size = spec.nbytes

        def into(dst, src, n, part=None):
            if part is not None and part_of is not None and (part[0] > 0 or part[1] < size):
                if part_of(dst, size, src, n, *part):
                    return True
            return run(dst, size, src, n) == size
        return stored(spec), into

    async def decode_async(self, data, spec: ChunkSpec) -> np.ndarray:
        return await run_async(self.decode_steps(data, spec))


class PartOf:
    """A compressor step that decodes only a byte range of its output (`codec.decode_part`)."""

    def __init__(self, codec, part: tuple[int, int]):
        self.codec, self.part = codec, part
        self.name = _name(codec)

    def decode(self, data, limit):
        return self.codec.decode_part(data, limit, *self.part)


def run_sync(steps: DecodeSteps):
    try:
        codec, data, limit = next(steps)
        while True:
            codec, data, limit = steps.send(_check_limit(codec.decode(data, limit), limit, codec))
    except StopIteration as stop:
        return stop.value


async def run_async(steps: DecodeSteps):
    try:
        codec, data, limit = next(steps)
        while True:
            if hasattr(codec, "decode_async"):
                out = await codec.decode_async(data, limit)
            else:
                out = codec.decode(data, limit)
            codec, data, limit = steps.send(_check_limit(out, limit, codec))
    except StopIteration as stop:
        return stop.value


def _check_limit(out, limit, codec):
    if len(out) > limit:  # a back-end that could not stop early still must not pass a bomb on
        raise CodecError(f"{_name(codec)}: decoded {len(out)} bytes, more than the expected {limit}")
    return out


def encoded_limit(codec, limit: int) -> int:
    """A bound on the encoded size of `limit` decoded bytes (incompressible data grows a little)."""
    if hasattr(codec, "encoded_limit"):
        return codec.encoded_limit(limit)
    return limit + limit // 8 + 4096


def describe(codec) -> str:
    if hasattr(codec, "describe"):
        return codec.describe()
    name = _name(codec)
    config = getattr(codec, "config", None)
    if config:
        args = ", ".join(f"{k}={v}" for k, v in config.items() if k not in ("id", "name"))
        return f"{name}({args})"
    return name


def _name(codec):
    return getattr(codec, "name", type(codec).__name__.lower())


def bytes_to_array(data, spec: ChunkSpec) -> np.ndarray:
    """Interpret decoded bytes as the chunk; the length must match exactly."""
    if len(data) != spec.nbytes:
        raise ChunkError(f"decoded chunk is {len(data)} bytes, expected {spec.nbytes} "
                         f"({'x'.join(map(str, spec.shape))} of {spec.dtype})")
    return np.frombuffer(data, dtype=spec.dtype).reshape(spec.shape)
