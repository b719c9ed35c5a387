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


def _elements(mv: memoryview, count: int):
    """The byte strings of a vlen buffer (memoryviews into it), checked against `count` and its size."""
    if len(mv) < 4:
        raise CodecError(f"vlen: {len(mv)} bytes, too short for the element count")
    n = int.from_bytes(mv[:4], "little")
    if n != count:
        raise CodecError(f"vlen: the header says {n} elements, the chunk holds {count}")
    if 4 + 4 * n > len(mv):
        raise CodecError(f"vlen: {n} elements need at least {4 + 4 * n} bytes, the chunk has {len(mv)}")
    pos, end = 4, len(mv)
    for i in range(n):
        if pos + 4 > end:
            raise CodecError(f"vlen: element {i} starts past the end ({end} bytes)")
        size = int.from_bytes(mv[pos:pos + 4], "little")
        pos += 4
        if size > end - pos:
            raise CodecError(f"vlen: element {i} is {size} bytes long, only {end - pos} remain")
        yield mv[pos:pos + size]
        pos += size


class VlenUtf8(VlenCodec):
    object_codec = "vlen-utf8"

    def decode_items(self, mv, count):
        items = []
        for i, raw in enumerate(_elements(mv, count)):
            try:
                items.append(str(raw, "utf-8"))
            except UnicodeDecodeError as e:
                raise CodecError(f"vlen-utf8: element {i} is not valid UTF-8 ({e.reason} at byte {e.start})") from e
        return np.array(items, dtype=np.dtypes.StringDType()) if items else np.empty(0, np.dtypes.StringDType())


class VlenBytes(VlenCodec):
    object_codec = "vlen-bytes"

    def decode_items(self, mv, count):
        out = np.empty(count, dtype=object)
        for i, raw in enumerate(_elements(mv, count)):
            out[i] = bytes(raw)
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
