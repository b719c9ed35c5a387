"""Data types: zarr v2 `dtype` strings and lists and zarr v3 `data_type` names and objects -> numpy dtypes.
Pure; the one place a data type is parsed.

The numpy dtype keeps the stored byte order (v2 names it; v3 leaves it to the `bytes` codec, so v3 types
are little-endian here). Variable-length types have no byte layout of their own: they decode through an
object codec (codecs/vlen.py) into StringDType (UTF-8 strings, as zarr-python 3 reads them) or object
(bytes, JSON values).
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..codecs.pipeline import describe
from ..errors import MetadataError

STRINGS = np.dtypes.StringDType()
OBJECTS = np.dtype(object)

V3_NUMERIC = {
    "bool": "|b1", "int8": "|i1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
    "uint8": "|u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
    "float16": "<f2", "float32": "<f4", "float64": "<f8", "complex64": "<c8", "complex128": "<c16",
}
# v3 variable-length names -> the object codec they decode with
V3_VARIABLE = {"string": "vlen-utf8", "variable_length_utf8": "vlen-utf8",
               "bytes": "vlen-bytes", "variable_length_bytes": "vlen-bytes"}
# v2 `|O` arrays: the object codec (filters[0]) -> the numpy result
OBJECT_CODECS = {"vlen-utf8": STRINGS, "vlen-bytes": OBJECTS, "json2": OBJECTS}
TIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps", "fs", "as", "generic")
MAX_SCALE = 2**31 - 1
MAX_ITEMSIZE = 2**31  # one element's bytes; numpy itself stops near there


def variable_length(dtype: np.dtype) -> bool:
    """Whether elements have no fixed byte layout (they decode through an object codec)."""
    return dtype == OBJECTS or isinstance(dtype, type(STRINGS))


def native(dtype: np.dtype) -> np.dtype:
    """`dtype` in native byte order (what reads return); variable-length types have none."""
    return dtype if variable_length(dtype) else dtype.newbyteorder("=")


def v2_dtype(value, object_codec: str | None, where: str) -> np.dtype:
    """A v2 `dtype`: a typestr ("<f4", ">U5", "|S3", "<M8[ns]", "|O") or a structured list
    [[name, dtype(, shape)], ...]. `object_codec` is the id of filters[0], which says what `|O` holds."""
    if isinstance(value, list):
        return _checked(_v2_structured(value, where, depth=0), value, where)
    if not isinstance(value, str):
        raise MetadataError(f"{where}: dtype must be a string or a list of fields, got {value!r}")
    if value in ("|O", "O", "<O", ">O"):
        if object_codec not in OBJECT_CODECS:
            raise MetadataError(f"{where}: object dtype {value!r} needs an object codec ({', '.join(OBJECT_CODECS)}) "
                                f"as its first filter, not {object_codec!r}")
        return OBJECT_CODECS[object_codec]
    return _checked(_v2_fixed(value, where), value, where)


def _v2_fixed(value: str, where: str) -> np.dtype:
    try:
        dt = np.dtype(value.replace("μ", "u"))
    except (TypeError, ValueError) as e:
        raise MetadataError(f"{where}: dtype {value!r} is not a numpy dtype") from e
    # numpy parses more than typestrs: "f4,i4" is structured and "(2,)f4" a sub-array (lists say those)
    if dt.kind not in "biufcmMUSV" or dt.fields is not None or dt.subdtype is not None:
        raise MetadataError(f"{where}: dtype {value!r} is not supported (numbers, bool, datetimes, strings, "
                            "bytes; structured types as a list of fields; objects with an object codec)")
    return dt


def _v2_structured(fields, where: str, depth: int) -> np.dtype:
    if not fields:
        raise MetadataError(f"{where}: a structured dtype needs at least one field")
    spec = []
    for entry in fields:
        if not (isinstance(entry, list) and len(entry) in (2, 3) and isinstance(entry[0], str) and entry[0]):
            raise MetadataError(f"{where}: structured field {entry!r} is not [name, dtype] or [name, dtype, shape]")
        name, sub = entry[0], entry[1]
        dt = (_v2_structured(sub, where, depth + 1) if isinstance(sub, list)
              else _v2_fixed(sub, where) if isinstance(sub, str) else None)
        if dt is None:
            raise MetadataError(f"{where}: structured field {name!r} has dtype {sub!r}")
        if len(entry) == 3:
            spec.append((name, dt, _subarray_shape(entry[2], name, where)))
        else:
            spec.append((name, dt))
    return _make(spec, fields, where)


def _subarray_shape(shape, name, where) -> tuple:
    if (not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)
            or math.prod(shape) > MAX_ITEMSIZE):
        raise MetadataError(f"{where}: structured field {name!r} has sub-array shape {shape!r}")
    return tuple(shape)


def _make(spec, value, where) -> np.dtype:
    names = [f[0] for f in spec]
    if len(set(names)) != len(names):
        raise MetadataError(f"{where}: structured dtype {value!r} repeats a field name")
    try:
        return np.dtype(spec)
    except (TypeError, ValueError, MemoryError) as e:
        raise MetadataError(f"{where}: structured dtype {value!r} is not valid: {e}") from e


def _checked(dt: np.dtype, value, where) -> np.dtype:
    if dt.itemsize == 0 or dt.itemsize > MAX_ITEMSIZE:
        raise MetadataError(f"{where}: dtype {value!r} has {dt.itemsize} bytes per element")
    if dt.kind == "O" or (dt.fields and any(f[0].hasobject for f in dt.fields.values())):
        raise MetadataError(f"{where}: dtype {value!r} holds objects inside a fixed layout")
    return dt


def v3_data_type(value, where: str) -> tuple[np.dtype, str | None]:
    """A v3 `data_type` -> (numpy dtype, the object codec it needs or None)."""
    name, conf = value, {}
    if isinstance(value, dict):
        name, conf = value.get("name"), value.get("configuration") or {}
        if not isinstance(conf, dict):
            raise MetadataError(f"{where}: data_type configuration must be an object, got {conf!r}")
    if not isinstance(name, str):
        raise MetadataError(f"{where}: data_type must be a name or an object with a name, got {value!r}")
    if name in V3_NUMERIC:
        return np.dtype(V3_NUMERIC[name]), None
    if name in V3_VARIABLE:
        codec = V3_VARIABLE[name]
        return OBJECT_CODECS[codec], codec
    return _checked(_v3_fixed(name, conf, value, where), value, where), None


def _v3_fixed(name: str, conf: dict, value, where: str) -> np.dtype:
    if name == "fixed_length_utf32":
        n = _length(conf, "length_bytes", value, where)
        if n % 4:
            raise MetadataError(f"{where}: fixed_length_utf32 length_bytes {n} is not a multiple of 4")
        return np.dtype(f"<U{n // 4}")
    if name == "null_terminated_bytes":
        return np.dtype(f"S{_length(conf, 'length_bytes', value, where)}")
    if name == "raw_bytes":
        return np.dtype(f"V{_length(conf, 'length_bytes', value, where)}")
    if name == "fixed-length-bytes":
        bits = _length(conf, "length_bits", value, where)
        if bits % 8:
            raise MetadataError(f"{where}: fixed-length-bytes length_bits {bits} is not a multiple of 8")
        return np.dtype(f"V{bits // 8}")
    if re.fullmatch(r"r[1-9]\d*", name):  # the core spec's raw bits
        bits = int(name[1:])
        if bits % 8 or bits // 8 > MAX_ITEMSIZE:
            raise MetadataError(f"{where}: raw data type {name!r} is not a whole number of bytes")
        return np.dtype(f"V{bits // 8}")
    if name in ("numpy.datetime64", "numpy.timedelta64"):
        return np.dtype(f"<{'M' if name.endswith('datetime64') else 'm'}8{_time_unit(conf, value, where)}")
    if name == "structured":
        return _v3_structured(conf.get("fields"), value, where)
    if name == "optional":
        raise MetadataError(f"{where}: data_type 'optional' (zarrs: values with a validity mask) is not supported")
    raise MetadataError(f"{where}: data_type {name!r} is not supported (supported: {', '.join(V3_NUMERIC)}, "
                        f"{', '.join(V3_VARIABLE)}, fixed_length_utf32, null_terminated_bytes, raw_bytes, r*, "
                        "numpy.datetime64, numpy.timedelta64, structured)")


def _length(conf: dict, key: str, value, where: str) -> int:
    n = conf.get(key)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_ITEMSIZE * 8:
        raise MetadataError(f"{where}: data_type {value!r} needs a positive integer {key!r}")
    return n


def _time_unit(conf: dict, value, where: str) -> str:
    unit, scale = conf.get("unit"), conf.get("scale_factor", 1)
    if unit not in TIME_UNITS:
        raise MetadataError(f"{where}: data_type {value!r}: unit must be one of {', '.join(TIME_UNITS)}")
    if not isinstance(scale, int) or isinstance(scale, bool) or not 1 <= scale <= MAX_SCALE:
        raise MetadataError(f"{where}: data_type {value!r}: scale_factor must be an integer in [1, {MAX_SCALE}]")
    if unit == "generic":
        return ""
    return f"[{scale if scale != 1 else ''}{'us' if unit == 'μs' else unit}]"


def _v3_structured(fields, value, where: str) -> np.dtype:
    if not isinstance(fields, list) or not fields:
        raise MetadataError(f"{where}: structured data_type {value!r} needs a non-empty list of fields")
    spec = []
    for entry in fields:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and entry[0]):
            raise MetadataError(f"{where}: structured field {entry!r} is not [name, data_type]")
        dt, codec = v3_data_type(entry[1], where)
        if codec is not None:
            raise MetadataError(f"{where}: structured field {entry[0]!r} has a variable-length type {entry[1]!r}")
        spec.append((entry[0], dt))
    return _make(spec, value, where)


def check_object_codec(data_type, object_codec: str | None, pipeline, where: str) -> None:
    """Variable-length types decode only through their object codec, and an object codec decodes only
    them (`pipeline.array_bytes`, inside a shard too, says its `object_codec`)."""
    codec = pipeline.array_bytes
    inner = getattr(codec, "inner", None)  # sharding
    codec = inner.array_bytes if inner is not None else codec
    found = getattr(codec, "object_codec", None)
    if found != object_codec:
        raise MetadataError(f"{where}: data type {data_type!r} is encoded by {object_codec or 'bytes'!r}, "
                            f"not by {found or describe(codec)!r}")
