"""Variable-length elements: numcodecs' vlen-utf8, vlen-bytes and json2, as zarr v2 object codecs
(filters[0] of a `|O` array) and zarr v3 array->bytes codecs (`string` / `bytes` data types).

vlen-utf8 / vlen-bytes: a little-endian uint32 element count, then per element a uint32 byte length
and the bytes. json2: JSON text of [element..., dtype string, shape]. JSON is parsed as data (never
code), its nesting bounded before the parser runs. Every count and length is checked against the chunk's
element count and the bytes present, so a lying header cannot allocate past what the chunk holds, and
what the chunk holds is bounded by the read budget (ChunkSpec.budget, the compressor's output limit).
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np

from ..errors import CodecError
from ..jsontext import MAX_JSON_DEPTH, json_depth
from .pipeline import ArrayBytesCodec, ChunkSpec

DEFAULT_BUDGET = 512 * 2**20  # a chunk's encoded bytes when no read budget is given


class VlenCodec(ArrayBytesCodec):
    object_codec = ""

    def __init__(self, config: dict | None = None):
        self.config = {}

    def describe(self):
        return self.object_codec

    def decode(self, data, limit):  # asked to act as a compressor (an N5 `compression`, a v2 `compressor`)
        raise CodecError(f"{self.object_codec} encodes arrays of variable-length elements: it is not a compressor")

    def max_encoded_size(self, spec: ChunkSpec) -> int:
        return getattr(spec, "budget", None) or DEFAULT_BUDGET

    def decode_steps(self, data, spec: ChunkSpec):
        count = math.prod(spec.shape)
        return self.decode_items(memoryview(data).cast("B"), count).reshape(spec.shape)
        yield  # pragma: no cover - no compressor calls

    def decode_items(self, mv: memoryview, count: int) -> np.ndarray:
        raise NotImplementedError


_U32 = struct.Struct("<I").unpack_from


def _elements(buf: bytes, count: int, decode_utf8: bool) -> list:
    """The elements of a vlen buffer (bytes, or text when `decode_utf8`), checked against `count` and
    against the bytes present before anything is allocated for them."""
    if len(buf) < 4:
        raise CodecError(f"vlen: {len(buf)} bytes, too short for the element count")
    n = _U32(buf, 0)[0]
    if n != count:
        raise CodecError(f"vlen: the header says {n} elements, the chunk holds {count}")
    if 4 + 4 * n > len(buf):
        raise CodecError(f"vlen: {n} elements need at least {4 + 4 * n} bytes, the chunk has {len(buf)}")
    items, pos, end, i = [None] * n, 4, len(buf), 0
    try:
        for i in range(n):
            if pos + 4 > end:
                raise CodecError(f"vlen: element {i} starts past the end ({end} bytes)")
            size = _U32(buf, pos)[0]
            pos += 4
            if size > end - pos:
                raise CodecError(f"vlen: element {i} is {size} bytes long, only {end - pos} remain")
            items[i] = buf[pos:pos + size].decode("utf-8") if decode_utf8 else buf[pos:pos + size]
            pos += size
    except UnicodeDecodeError as e:
        raise CodecError(f"vlen-utf8: element {i} is not valid UTF-8 ({e.reason} at byte {e.start})") from e
    return items


class VlenUtf8(VlenCodec):
    object_codec = "vlen-utf8"

    def decode_items(self, mv, count):
        return np.array(_elements(bytes(mv), count, True), dtype=np.dtypes.StringDType()).reshape(count)


class VlenBytes(VlenCodec):
    object_codec = "vlen-bytes"

    def decode_items(self, mv, count):
        out = np.empty(count, dtype=object)
        out[:] = _elements(bytes(mv), count, False)
        return out


class Json2(VlenCodec):
    """numcodecs.JSON: the elements are JSON values (objects become dicts, arrays lists)."""
    object_codec = "json2"

    def decode_items(self, mv, count):
        try:
            text = str(mv, "utf-8")
        except UnicodeDecodeError as e:
            raise CodecError(f"json2: not valid UTF-8 ({e.reason} at byte {e.start})") from e
        if json_depth(text) > MAX_JSON_DEPTH:
            raise CodecError(f"json2: JSON nested more than {MAX_JSON_DEPTH} levels deep")
        try:
            items = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise CodecError(f"json2: malformed JSON: {e}") from e
        if (not isinstance(items, list) or len(items) < 2 or not isinstance(items[-2], str)
                or not isinstance(items[-1], list)):
            raise CodecError("json2: expected [element..., dtype, shape]")
        shape = items[-1]
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape) \
                or math.prod(shape) != count or len(items) - 2 != count:
            raise CodecError(f"json2: {len(items) - 2} elements of shape {shape}, the chunk holds {count}")
        out = np.empty(count, dtype=object)
        for i, value in enumerate(items[:-2]):
            out[i] = value
        return out


CODECS = {cls.object_codec: cls for cls in (VlenUtf8, VlenBytes, Json2)}
