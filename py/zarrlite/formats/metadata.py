"""The common description of arrays and groups, and the small checked parsers shared by the formats."""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..codecs.pipeline import Pipeline
from ..errors import KeyRejectedError, MetadataError
from ..jsontext import MAX_JSON_DEPTH, json_depth
from ..stores.keys import check_key
from . import dtypes
from .grids import ChunkGrid, regular_grid

MAX_DIM = 2**62


@dataclass(frozen=True)
class ArrayMetadata:
    format: str                       # "zarr2" | "zarr3" | "n5"
    shape: tuple[int, ...]
    chunks: tuple[int, ...]           # the stored chunk (the shard, when sharded); rectilinear: the largest
    dtype: np.dtype                   # as stored, with its byte order
    fill_value: Any
    pipeline: Pipeline
    chunk_key: Callable[[tuple[int, ...]], str] = field(compare=False)
    attrs: dict = field(default_factory=dict, compare=False)
    dimension_names: tuple | None = None
    rectilinear: ChunkGrid | None = field(default=None, compare=False)  # None: the regular grid of `chunks`

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def chunk_grid(self) -> ChunkGrid:
        """Where each stored chunk starts and how large it is (formats/grids.py)."""
        return self.rectilinear or regular_grid(self.shape, self.chunks)

    @property
    def grid(self) -> tuple[int, ...]:
        """Chunks per dimension."""
        if self.rectilinear is not None:
            return self.rectilinear.shape
        return tuple(math.ceil(s / c) for s, c in zip(self.shape, self.chunks))


@dataclass(frozen=True)
class GroupMetadata:
    format: str
    attrs: dict = field(default_factory=dict)
    # path (relative to this group) -> raw metadata document, when consolidated metadata is present
    consolidated: dict | None = None


def load_json(data: bytes, where: str) -> Any:
    """Parse metadata JSON. Nesting past MAX_JSON_DEPTH is refused before the (recursive) parser runs:
    deep enough, it exhausts CPython's recursion limit and, in Pyodide, the JS stack of the worker."""
    try:
        if not isinstance(data, str):
            data = bytes(data)
            data = data.decode(json.detect_encoding(data), "surrogatepass")
        if json_depth(data) > MAX_JSON_DEPTH:
            raise MetadataError(f"{where}: JSON nested more than {MAX_JSON_DEPTH} levels deep")
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise MetadataError(f"{where}: malformed JSON: {e}") from e
    except RecursionError as e:  # within MAX_JSON_DEPTH only when the caller's stack is already deep
        raise MetadataError(f"{where}: JSON nested too deeply to parse") from e


def member_path(path, where: str) -> str:
    """A node path named inside metadata (consolidated entries): relative, and inside the group."""
    try:
        return check_key(path)
    except KeyRejectedError as e:
        raise MetadataError(f"{where}: {e} (a path outside the group)") from e


def expect_dict(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise MetadataError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def int_list(value, where: str, *, minimum: int) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise MetadataError(f"{where}: expected a list of integers, got {value!r}")
    for v in value:
        if v < minimum or v > MAX_DIM:
            raise MetadataError(f"{where}: {v} is out of range (at least {minimum})")
    return tuple(value)


def check_sizes(shape, chunks, dtype: np.dtype, where: str) -> None:
    if len(shape) != len(chunks):
        raise MetadataError(f"{where}: shape {list(shape)} and chunks {list(chunks)} differ in length")
    if math.prod(shape) * dtype.itemsize > MAX_DIM:
        raise MetadataError(f"{where}: shape {list(shape)} of {dtype} is too large (byte count overflows)")
    if math.prod(chunks) * dtype.itemsize > MAX_DIM:
        raise MetadataError(f"{where}: chunk shape {list(chunks)} is too large (byte count overflows)")


def parse_float(value, dtype: np.dtype, where: str):
    if isinstance(value, str):
        special = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}
        if value in special:
            return special[value]
        if value.startswith("0x"):  # zarr v3: the bit pattern
            try:
                bits = int(value, 16)
                width = dtype.itemsize
                return np.frombuffer(bits.to_bytes(width, "little"), dtype=dtype.newbyteorder("<"))[0]
            except (ValueError, OverflowError) as e:
                raise MetadataError(f"{where}: bad hex fill value {value!r}") from e
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise MetadataError(f"{where}: fill value {value!r} is not valid for {dtype}")


def parse_fill_value(value, dtype: np.dtype, where: str, object_codec: str | None = None):
    """A numpy scalar of `dtype` from a JSON fill value; None means 0 (as zarr-python reads it).
    `object_codec` (vlen-bytes, json2) says what an object dtype holds."""
    if dtypes.variable_length(dtype) or dtype.kind in "USV":
        return _text_fill(value, dtype, where, object_codec)
    if value is None:
        return np.zeros((), dtype=dtype)[()]
    if isinstance(value, str) and dtype.kind in "iufc":
        value = _number_text(value)  # zarr-python accepts v2 fill values such as "0"
    kind = dtype.kind
    try:
        if kind == "b":
            if not isinstance(value, (bool, int)):
                raise MetadataError(f"{where}: fill value {value!r} is not a boolean")
            return np.bool_(value)
        if kind in "iu":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise MetadataError(f"{where}: fill value {value!r} is not an integer")
            info = np.iinfo(dtype)
            if not info.min <= value <= info.max:
                raise MetadataError(f"{where}: fill value {value} is out of range for {dtype}")
            return dtype.type(value)
        if kind == "f":
            return np.array(parse_float(value, dtype, where), dtype=dtype)[()]
        if kind == "c":
            if isinstance(value, (list, tuple)) and len(value) == 2:
                part = np.dtype(f"f{dtype.itemsize // 2}")
                re, im = (parse_float(v, part, where) for v in value)
                return np.array(complex(re, im), dtype=dtype)[()]
            return np.array(parse_float(value, dtype, where), dtype=dtype)[()]
        if kind in "mM":
            if isinstance(value, int) and not isinstance(value, bool):
                # the count of units: the native int64 reinterpreted in the native twin of the dtype
                return np.array(value, dtype="i8").view(dtype.newbyteorder("="))[()]
            if value == "NaT":
                return dtype.type("NaT")
    except (TypeError, ValueError, OverflowError) as e:
        raise MetadataError(f"{where}: fill value {value!r} is not valid for {dtype}: {e}") from e
    raise MetadataError(f"{where}: fill value {value!r} is not valid for {dtype}")


def _number_text(value: str):
    """"0", "-3", "2.5" -> the number; other strings (NaN, hex bit patterns) are left as they are."""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value) if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value) else value
    except ValueError:
        return value


def _base64(value, dtype, where) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as e:
        raise MetadataError(f"{where}: fill value {value!r} for {dtype} is not base64") from e


def _text_fill(value, dtype: np.dtype, where: str, object_codec):
    """Fill values of strings, bytes, structured and object types. Strings are text (a number reads as
    its text, as zarr-python 3 reads zarr-python 2's default 0); bytes, raw bytes and structured values
    are base64 of the stored bytes; JSON objects are the JSON value itself."""
    if dtype == dtypes.OBJECTS:
        if object_codec == "json2":
            return value
        return b"" if not isinstance(value, str) else _base64(value, dtype, where)
    if dtype.kind not in "SV":  # StringDType and fixed-length unicode
        if value is None:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise MetadataError(f"{where}: fill value {value!r} is not a string")
        return value if dtype.kind != "U" else dtype.type(value)
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value == 0):
        return np.zeros((), dtype=dtype)[()]
    if not isinstance(value, str):
        raise MetadataError(f"{where}: fill value {value!r} for {dtype} is not base64 text")
    raw = _base64(value, dtype, where)
    if dtype.kind == "S":
        if len(raw) > dtype.itemsize:
            raise MetadataError(f"{where}: fill value {value!r} is longer than {dtype}")
        return np.bytes_(raw)
    if len(raw) != dtype.itemsize:
        raise MetadataError(f"{where}: fill value {value!r} is {len(raw)} bytes, not the {dtype.itemsize} of {dtype}")
    return np.frombuffer(raw, dtype=dtype)[0]
