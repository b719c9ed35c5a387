"""Read results that have no JavaScript typed array of their own — strings, bytes, JSON values, datetimes,
structured values — packed into one buffer plus a layout that web/protocol.js `unpackValues` reads.
Pure (CPython tests it); the worker transfers the buffer like any other result.

A layout is a column: {"kind", "shape", ...}, elements in C order, every offset a multiple of 8:
- "typed": numbers as `transferable` gives them: {"dtype", "offset"}
- "datetime64" / "timedelta64": int64 counts of `scale` x `unit` ("s", "ns", ...; "generic" when the
  type has none), NaT the int64 minimum: {"dtype": "<i8", "unit", "scale", "offset"}
- "str" / "bytes": UTF-8 text or raw bytes, one after another: {"ends", "bytes", "length"}, `ends` the
  offset of a little-endian uint32 array of each element's end within the `length` bytes at `bytes`
- "json": JSON values (json2 arrays) as the JSON text of their list (read with reviveJSON): {"offset", "length"}
- "struct": {"fields": [[name, column], ...]}, each field's shape the array's plus its sub-array shape
"""

from __future__ import annotations

import numpy as np

from .errors import ZarrliteError

KINDS = ("typed", "datetime64", "timedelta64", "str", "bytes", "json", "struct")
MAX_TEXT_BYTES = 2**32 - 1  # the uint32 ends


def value_kind(dtype: np.dtype, data: np.ndarray | None = None) -> str:
    """The layout kind of `dtype`; an object array is "bytes" when every element is bytes (vlen-bytes),
    else "json" (json2)."""
    if dtype.names:
        return "struct"
    if dtype.kind == "M":
        return "datetime64"
    if dtype.kind == "m":
        return "timedelta64"
    if dtype.kind in "biufc":
        return "typed"
    if dtype.kind in "SV":
        return "bytes"
    if dtype == np.dtype(object):
        if data is not None and all(isinstance(v, bytes) for v in data.ravel().tolist()):
            return "bytes"
        return "json"
    return "str"  # fixed-length unicode and StringDType


def read_dtype(dtype: np.dtype) -> str:
    """What a read of `dtype` reports as its `dtype` in JS: the typed array's numpy dtype for numbers
    and "<i8" for datetimes and timedeltas, else the layout kind ("str", "bytes", "json", "struct").
    An object array says "json" here: a read tells bytes apart by its values."""
    from .webworker import output_dtype

    kind = value_kind(np.dtype(dtype))
    if kind == "typed":
        return output_dtype(dtype)[0].str
    return "<i8" if kind in ("datetime64", "timedelta64") else kind


class _Buffer:
    """Parts appended at offsets that are multiples of 8 (every TypedArray view lines up)."""

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, raw) -> int:
        pad = -self.size % 8
        if pad:
            self.parts.append(bytes(pad))
        offset = self.size + pad
        raw = memoryview(raw).cast("B")
        self.parts.append(raw)
        self.size = offset + raw.nbytes
        return offset

    def join(self) -> np.ndarray:
        out = np.empty(self.size, np.uint8)
        pos = 0
        for part in self.parts:
            n = memoryview(part).nbytes
            out[pos:pos + n] = np.frombuffer(part, np.uint8)
            pos += n
        return out


def pack(data: np.ndarray) -> tuple[np.ndarray, dict]:
    """(uint8 buffer, layout) of `data` (see the module docstring)."""
    buf = _Buffer()
    layout = _column(np.asarray(data), buf)
    return buf.join(), layout


def _column(data: np.ndarray, buf: _Buffer) -> dict:
    from .webworker import json_text, transferable

    kind = value_kind(data.dtype, data)
    col = {"kind": kind, "shape": list(data.shape)}
    if kind == "struct":
        col["fields"] = [[name, _column(data[name], buf)] for name in data.dtype.names]
    elif kind == "typed":
        out = transferable(data)
        col.update(dtype=out.dtype.str, offset=buf.add(out.tobytes()), shape=list(out.shape))
    elif kind in ("datetime64", "timedelta64"):
        unit, scale = np.datetime_data(data.dtype)
        counts = np.ascontiguousarray(data).view(data.dtype.newbyteorder("=")).view(np.int64).astype("<i8")
        col.update(dtype="<i8", unit=unit, scale=int(scale), offset=buf.add(counts.tobytes()))
    elif kind == "json":
        text = json_text(data.ravel().tolist()).encode("utf-8")
        col.update(offset=buf.add(text), length=len(text))
    else:
        items = data.ravel().tolist()
        if kind == "str":
            items = [s.encode("utf-8", "surrogatepass") for s in items]
        ends = np.cumsum([len(b) for b in items], dtype=np.uint64)
        total = int(ends[-1]) if len(ends) else 0
        if total > MAX_TEXT_BYTES:
            raise ZarrliteError(f"{total:,} bytes of {kind} values: more than one read can send to JavaScript")
        col.update(ends=buf.add(ends.astype("<u4").tobytes()), bytes=buf.add(b"".join(items)), length=total)
    return col
