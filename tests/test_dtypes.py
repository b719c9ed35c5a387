"""Data types beyond numbers: strings, bytes, datetimes and structured values, as zarr-python 3 (v2 and v3),
zarr-python 2.18, tensorstore, numcodecs and xarray write them. Every expectation is what the writer
itself reads back (or numpy on the bytes written); a few hostile chunks and metadata at the end."""

from __future__ import annotations

import base64
import json
import struct

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.core.dtype import VariableLengthBytes
from writers import manual_zarr2, write_json, zarr2_python

import zarrlite
from zarrlite.errors import BudgetError, CodecError, MetadataError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")  # zarr: "unstable" types

STRINGS = np.dtypes.StringDType()
TEXT = np.array(["", "a", "Zürich", "長い名前", "x" * 300, "tab\tand\nnewline", "🙂", "end"], dtype=STRINGS)
BLOBS = np.array([b"", b"\x00", b"\xff\xfe", b"abc", b"\x00" * 40, b"z", b"\x80", b"q"], dtype=object)


def zarr3_reads(path):
    return zarr.open_array(str(path), mode="r")[...]


def assert_values(got, want, dtype=None):
    """Same shape, same values element by element (object and StringDType arrays too), same dtype."""
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == (dtype if dtype is not None else want.dtype), (got.dtype, want.dtype)
    assert got.tolist() == want.tolist()


def create(path, data, *, zarr_format, missing_last=True, **kwargs):
    """zarr-python 3 writes `data` in chunks of 3 along the first axis, leaving the last chunk unwritten
    (it reads as the fill value)."""
    arr = zarr.create_array(str(path), shape=data.shape, dtype=kwargs.pop("dtype", data.dtype),
                            chunks=kwargs.pop("chunks", (3,) + data.shape[1:]), zarr_format=zarr_format, **kwargs)
    n = data.shape[0] - (data.shape[0] % 3 or 3) if missing_last else data.shape[0]
    arr[:n] = data[:n]
    return arr


# --------------------------------------------------------------------------------- zarr-python 3

CASES = {
    "string": (TEXT, {}),
    "variable_length_bytes": (BLOBS, {"dtype": VariableLengthBytes()}),
    "fixed_length_utf32": (np.array(["", "ab", "Zürich", "日本", "abcdef", "x", "y", "z"], "<U6"), {}),
    "null_terminated_bytes": (np.array([b"", b"a\x00b", b"abcd", b"\xff", b"q", b"r", b"s", b"t"], "S4"), {}),
    "raw_bytes": (np.array([b"\x00\x01", b"ab", b"\xff\xff", b"", b"1", b"2", b"3", b"4"], "V2"), {}),
    "datetime64[s]": (np.array(["2020-01-01T00:00:01", "NaT", "1969-12-31", "2262-04-11", "1", "2", "3", "4"],
                               "M8[s]"), {}),
    "datetime64[ns]": (np.array(["2024-02-29T12:34:56.123456789", "NaT", "1970-01-01", "2000-01-01", "1", "2",
                                 "3", "4"], "M8[ns]"), {}),
    "datetime64[10ms]": (np.arange(8).astype("M8[10ms]"), {}),
    "timedelta64[D]": (np.array([0, -1, 2**40, "NaT", 5, 6, 7, 8], "m8[D]"), {}),
    "structured": (np.array([(i * 1.5, -i, i % 2 == 0) for i in range(8)],
                            [("x", "<f4"), ("y", "<i2"), ("ok", "?")]), {}),
}


@pytest.mark.parametrize("zarr_format", [3, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_zarr_python_3_writes(tmp_path, case, zarr_format):
    data, kwargs = CASES[case]
    create(tmp_path / "a", data, zarr_format=zarr_format, **dict(kwargs))
    want = zarr3_reads(tmp_path / "a")
    got = zarrlite.open(str(tmp_path / "a"))
    assert got.dtype == want.dtype
    assert_values(got[...], want)
    assert_values(got[1:7:2], want[1:7:2])  # across chunks and into the missing one


@pytest.mark.parametrize("case", ["string", "variable_length_bytes", "fixed_length_utf32", "datetime64[ns]"])
def test_zarr_python_3_sharded(tmp_path, case):
    data, kwargs = CASES[case]
    create(tmp_path / "a", data, zarr_format=3, chunks=(2,), shards=(4,), **dict(kwargs))
    want = zarr3_reads(tmp_path / "a")
    assert_values(zarrlite.open(str(tmp_path / "a"))[...], want)


@pytest.mark.parametrize("case", ["string", "variable_length_bytes", "datetime64[ns]", "timedelta64[D]"])
def test_zarrs_codec_pipeline_writes(tmp_path, case):
    """zarr-python 3 with zarrs (Rust) encoding the chunks, sharded where zarrs shards them."""
    pytest.importorskip("zarrs")
    data, kwargs = CASES[case]
    shards = {} if case == "variable_length_bytes" else {"shards": (6,)}
    with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"}):
        create(tmp_path / "a", data, zarr_format=3, **dict(kwargs), **shards)
        want = zarr3_reads(tmp_path / "a")
    assert_values(zarrlite.open(str(tmp_path / "a"))[...], want)


@pytest.mark.parametrize("case", ["fixed_length_utf32", "datetime64[ns]", "timedelta64[D]"])
def test_zarr_python_3_big_endian(tmp_path, case):
    from zarr.codecs import BytesCodec

    data, _ = CASES[case]
    arr = create(tmp_path / "a", data, zarr_format=3, serializer=BytesCodec(endian="big"), missing_last=False)
    assert json.loads((tmp_path / "a" / "zarr.json").read_text())["codecs"][0]["configuration"]["endian"] == "big"
    want = zarr3_reads(tmp_path / "a")
    raw = np.frombuffer((tmp_path / "a" / "c" / "0").read_bytes(), arr.dtype.newbyteorder(">")) \
        if not arr.metadata.codecs[1:] else None
    got = zarrlite.open(str(tmp_path / "a"))[...]
    assert_values(got, want)
    if raw is not None:
        assert_values(got[:3], raw.astype(want.dtype), want.dtype)


def test_v3_structured_big_endian_by_hand(tmp_path):
    """zarr-python 3 writes structured values little-endian only; the bytes codec may say big."""
    data = CASES["structured"][0]
    create(tmp_path, data, zarr_format=3, missing_last=False, compressors=None)
    doc = json.loads((tmp_path / "zarr.json").read_text())
    doc["codecs"] = [{"name": "bytes", "configuration": {"endian": "big"}}]
    write_json(tmp_path / "zarr.json", doc)
    for i in range(3):
        block = np.zeros(3, data.dtype)
        block[:len(data[i * 3:(i + 1) * 3])] = data[i * 3:(i + 1) * 3]
        (tmp_path / "c" / str(i)).write_bytes(block.astype(block.dtype.newbyteorder(">")).tobytes())
    assert_values(zarrlite.open(str(tmp_path))[...], data)


@pytest.mark.parametrize("dtype", ["<M8[us]", ">M8[us]", "<m8[s]", ">m8[s]", ">U4", "<U4",
                                   [["x", "<f4"], ["y", ">i2"]], [["a", ">f8"], ["b", "|S3"], ["c", "<u8"]]])
def test_zarr_python_3_v2_byte_orders(tmp_path, dtype):
    dt = np.dtype([tuple(f) for f in dtype]) if isinstance(dtype, list) else np.dtype(dtype)
    if dt.kind in "mM":
        data = np.array([1, -5, "NaT", 2**33, 7, 0, 3], dtype=dt)
    elif dt.kind == "U":
        data = np.array(["a", "bcd", "", "éé", "x", "y", "z"], dtype=dt)
    else:
        data = np.zeros(7, dt)
        for name in dt.names:
            data[name] = (np.arange(7) * 3 - 5).astype(dt[name]) if dt[name].kind != "S" else [b"ab"] * 7
    create(tmp_path / "a", data, zarr_format=2)
    assert json.loads((tmp_path / "a" / ".zarray").read_text())["dtype"] == (dtype if isinstance(dtype, list)
                                                                           else dtype)
    want = zarr3_reads(tmp_path / "a")
    got = zarrlite.open(str(tmp_path / "a"))
    assert got.dtype == want.dtype.newbyteorder("=")
    assert_values(got[...], want.astype(got.dtype), got.dtype)


# ------------------------------------------------------------------------------ zarr-python 2.18

def _from_zarr2(readback):
    def value(v):
        return bytes.fromhex(v["bytes"]) if isinstance(v, dict) and set(v) == {"bytes"} else v
    return [value(v) for v in readback["values"]]


@pytest.mark.parametrize("codec", ["VLenUTF8", "VLenBytes", "JSON"])
def test_zarr_python_2_object_arrays(tmp_path, codec):
    values = {"VLenUTF8": ["", "a", "Zürich", "🙂", "x" * 70000, "b"],
              "VLenBytes": [b"", b"\x00\xff", b"abc", b"\x80" * 5, b"x", b"y"],
              "JSON": [1, "two", {"three": [3, None]}, [1.5, True], None, "six"]}[codec]
    back = zarr2_python(tmp_path / "a", f"""
import numcodecs, numpy as np, zarr
values = np.empty(6, dtype=object); values[:] = {values!r}
z = zarr.open(path, mode="w", shape=(8,), chunks=(3,), dtype=object, object_codec=numcodecs.{codec}())
z[:6] = values   # the chunk of elements 6..7 is partly written, 8 never: fill 0
""")
    got = zarrlite.open(str(tmp_path / "a"))[...]
    want = _from_zarr2(back)
    if codec == "VLenUTF8":  # zarr-python 3 reads the default fill 0 of zarr 2 as the text "0"
        assert got.dtype == STRINGS
        assert got.tolist() == [str(v) for v in want]
        assert_values(got, zarr3_reads(tmp_path / "a"))
    elif codec == "VLenBytes":  # zarr 2 fills with the int 0 in a bytes array; zarrlite with b""
        assert got.dtype == object
        assert got.tolist() == [b"" if v == 0 and not isinstance(v, bytes) else v for v in want]
    else:
        assert got.dtype == object
        assert got.tolist() == want


def test_zarr_python_2_str_dtype_and_fill(tmp_path):
    back = zarr2_python(tmp_path / "a", """
import numpy as np, zarr
z = zarr.open(path, mode="w", shape=(5,), chunks=(2,), dtype=str)
z[:3] = np.array(["α", "", "γγ"], dtype=object)
""")
    meta = json.loads((tmp_path / "a" / ".zarray").read_text())
    assert meta["fill_value"] == "0" and meta["dtype"] == "|O"
    got = zarrlite.open(str(tmp_path / "a"))[...]
    assert got.tolist() == _from_zarr2(back) == ["α", "", "γγ", "0", "0"]


def test_zarr_python_2_nested_structured_with_subarrays(tmp_path):
    back = zarr2_python(tmp_path / "a", """
import numpy as np, zarr
dt = np.dtype([("p", [("a", ">i4"), ("b", "S2")]), ("v", "<f8", (3,)), ("t", ">M8[s]")])
data = np.zeros(5, dt)
data["p"]["a"] = [1, -2, 3, 4, 5]; data["p"]["b"] = [b"ab", b"", b"c", b"d", b"e"]
data["v"] = np.arange(15).reshape(5, 3) / 4; data["t"] = np.arange(5) * 86400
z = zarr.open(path, mode="w", shape=(7,), chunks=(2,), dtype=dt, fill_value=None)
z[:5] = data
""")
    meta = json.loads((tmp_path / "a" / ".zarray").read_text())
    assert meta["dtype"] == [["p", [["a", ">i4"], ["b", "|S2"]]], ["v", "<f8", [3]], ["t", ">M8[s]"]]
    got = zarrlite.open(str(tmp_path / "a"))[...]
    assert got.dtype.names == ("p", "v", "t") and got["v"].shape == (7, 3)
    plain = [[[p[0], p[1].hex()], list(v), t] for (p, v, _), t in zip(got.tolist(), np.datetime_as_string(got["t"]))]
    want = [[[v[0][0], v[0][1]["bytes"]], v[1], v[2]] for v in back["values"]]
    assert plain[:5] == want[:5]
    assert got[5:].tobytes() == bytes(2 * got.dtype.itemsize)  # fill null: zeros (zarr 2 leaves them undefined)


def test_zarr_python_2_big_endian_datetime_nat_fill(tmp_path):
    back = zarr2_python(tmp_path / "a", """
import numpy as np, zarr
z = zarr.open(path, mode="w", shape=(5,), chunks=(2,), dtype=">M8[ns]", fill_value=np.datetime64("NaT"))
z[:2] = np.array(["2001-02-03T04:05:06.000000007", "1950-01-01"], "M8[ns]")
""")
    got = zarrlite.open(str(tmp_path / "a"))[...]
    assert got.dtype == np.dtype("M8[ns]")
    assert [None if np.isnat(v) else int(v.astype("i8")) for v in got] == back["values"]
    assert np.isnat(got[2:]).all()


# ---------------------------------------------------------------------------- tensorstore, numcodecs

def test_tensorstore_writes_structured_with_subarrays(tmp_path):
    import tensorstore as ts

    meta = {"shape": [5], "chunks": [2], "dtype": [["x", "<f4"], ["y", ">i2", [2]]], "compressor": {"id": "zlib"}}
    st = {"driver": "zarr", "kvstore": {"driver": "file", "path": str(tmp_path / "st")}}
    ts.open({**st, "field": "x", "metadata": meta}, create=True).result()[:3] = [1.5, -2, 3]
    ts.open({**st, "field": "y"}).result()[1:] = [[1, -1], [2, -2], [3, -3], [4, -4]]
    got = zarrlite.open(str(tmp_path / "st"))[...]
    assert_values(got["x"], ts.open({**st, "field": "x"}).result().read().result())
    assert_values(got["y"], ts.open({**st, "field": "y"}).result().read().result().astype("<i2"))


def test_numcodecs_vlen_with_filters_of_bytes_and_order_f(tmp_path):
    """A 2-D v2 string array, order F, blosc after the object codec: as numcodecs encodes it."""
    data = np.array([["a", "bb", "ccc"], ["", "é", "ffff"]], dtype=object)
    manual_zarr2(tmp_path / "a", data, (2, 2), dtype="|O", order="F", filters=[numcodecs.VLenUTF8()],
                 compressor=numcodecs.Blosc(cname="zstd"), fill_value=None)
    got = zarrlite.open(str(tmp_path / "a"))[...]
    assert_values(got, zarr3_reads(tmp_path / "a"))
    assert got.tolist() == data.tolist()


# ------------------------------------------------------------------------------------------ xarray

@pytest.mark.parametrize("zarr_format", [2, 3])
def test_xarray_dataset_with_string_and_time_coordinates(tmp_path, zarr_format):
    import xarray as xr

    ds = xr.Dataset(
        {"t2m": (("time", "station"), np.arange(12, dtype="f4").reshape(4, 3))},
        coords={"time": np.array(["2024-01-01", "2024-01-02", "NaT", "2024-03-01"], "M8[ns]"),
                "station": np.array(["Zürich", "Genève", "Sion"]),
                "code": ("station", np.array(["ZRH", "GVA", "SIR"], dtype=object))})
    ds.to_zarr(tmp_path / "ds.zarr", zarr_format=zarr_format, consolidated=False)
    back = xr.open_zarr(tmp_path / "ds.zarr", consolidated=False, decode_times=False)
    root = zarrlite.open(str(tmp_path / "ds.zarr"))
    for name in ("time", "station", "code", "t2m"):
        got, want = root[name][...], back[name].values
        assert got.tolist() == want.tolist(), name
    assert root["time"].attrs.get("units")  # CF decoding stays the reader's


# ------------------------------------------------------------------------ fill values and refusals

def _v2(tmp_path, doc, chunks=None):
    base = {"zarr_format": 2, "shape": [4], "chunks": [2], "order": "C", "compressor": None, "filters": None}
    write_json(tmp_path / ".zarray", {**base, **doc})
    for key, data in (chunks or {}).items():
        (tmp_path / key).write_bytes(data)
    return zarrlite.open(str(tmp_path))


@pytest.mark.parametrize("dtype,fill,want", [("<i4", "0", 0), ("<u2", "7", 7), ("<f8", "-2.5", -2.5),
                                             ("<f4", "NaN", np.nan), ("|i1", "-3", -3)])
def test_v2_fill_value_given_as_the_text_of_a_number(tmp_path, dtype, fill, want):
    arr = _v2(tmp_path, {"dtype": dtype, "fill_value": fill})
    np.testing.assert_array_equal(arr[...], np.full(4, want, dtype))
    assert arr[...].tolist() == zarr3_reads(tmp_path).tolist() or np.isnan(want)


@pytest.mark.parametrize("dtype,fill", [([["x", "<f4"], ["y", ">i2"]], 0), ("|V3", 0), ("|S2", 0), ("|S2", "YWI="),
                                        ("<U2", "ab"), ("|V3", "AAEC")])
def test_v2_fill_values_of_bytes_strings_and_structured(tmp_path, dtype, fill):
    arr = _v2(tmp_path, {"dtype": dtype, "fill_value": fill})
    dt = np.dtype([tuple(f) for f in dtype]) if isinstance(dtype, list) else np.dtype(dtype)
    raw = base64.b64decode(fill) if isinstance(fill, str) and dt.kind in "SV" else None
    want = (np.full(4, fill, dt) if dt.kind == "U" else np.zeros(4, dt) if raw is None
            else np.frombuffer(raw.ljust(dt.itemsize, b"\0") * 4, dt))
    assert arr[...].tobytes() == want.tobytes()


def test_v3_datetime_fill_values(tmp_path):
    for fill in ("NaT", -2**63, 86400):
        create(tmp_path / "a", np.zeros(3, "M8[s]"), zarr_format=3, fill_value=np.datetime64(fill, "s")
               if fill != "NaT" else np.datetime64("NaT"), overwrite=True, missing_last=True)
        doc = json.loads((tmp_path / "a" / "zarr.json").read_text())
        doc["fill_value"] = fill
        write_json(tmp_path / "a" / "zarr.json", doc)
        assert_values(zarrlite.open(str(tmp_path / "a"))[...], zarr3_reads(tmp_path / "a"))


@pytest.mark.parametrize("data_type,message", [
    ({"name": "optional", "configuration": {"name": "int32", "configuration": {}}}, "'optional'"),
    ({"name": "numpy.datetime64", "configuration": {"unit": "fortnight", "scale_factor": 1}}, "unit"),
    ({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 0}}, "scale_factor"),
    ({"name": "fixed_length_utf32", "configuration": {"length_bytes": 6}}, "multiple of 4"),
    ({"name": "structured", "configuration": {"fields": [["a", "int8"], ["a", "int8"]]}}, "repeats"),
    ({"name": "structured", "configuration": {"fields": [["s", "string"]]}}, "variable-length"),
    ("string", "'vlen-utf8', not by 'bytes"),
])
def test_v3_data_types_refused_with_the_reason(tmp_path, data_type, message):
    write_json(tmp_path / "zarr.json", {
        "zarr_format": 3, "node_type": "array", "shape": [2], "data_type": data_type, "fill_value": 0,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}}, "codecs": [{"name": "bytes"}]})
    with pytest.raises(MetadataError, match=message):
        zarrlite.open(str(tmp_path))


@pytest.mark.parametrize("dtype,filters,message", [
    ("|O", None, "needs an object codec"),
    ("|O", [{"id": "pickle"}], "refused"),
    ("|O", [{"id": "msgpack2"}], "refused"),
    ("f4,i4", None, "not supported"),
    ([["x", "|O"]], None, "object"),
    ("<U0", None, "0 bytes"),
])
def test_v2_dtypes_refused_with_the_reason(tmp_path, dtype, filters, message):
    with pytest.raises((MetadataError, CodecError), match=message):
        _v2(tmp_path, {"dtype": dtype, "fill_value": None, "filters": filters})


# ------------------------------------------------------------------------------------------ hostile

def _vlen(items, count=None):
    out = struct.pack("<I", len(items) if count is None else count)
    for item in items:
        out += struct.pack("<I", len(item)) + item
    return out


def _vlen_array(tmp_path, chunk, codec="vlen-utf8", **kwargs):
    return _v2(tmp_path, {"dtype": "|O", "fill_value": None, "filters": [{"id": codec}]}, {"0": chunk}, **kwargs)


@pytest.mark.parametrize("chunk,message", [
    (_vlen([b"a", b"b"], count=3), "says 3 elements"),
    (_vlen([b"a", b"b"], count=2**32 - 1), "says 4294967295"),
    (struct.pack("<II", 2, 2**31) + b"abcdefgh", "2147483648 bytes long"),
    (_vlen([b"a"], count=2)[:-1], "says 2|at least"),
    (_vlen([b"a", b"\xff\xfe"]), "element 1 is not valid UTF-8"),
    (_vlen([b"a", b"\xed\xa0\x80"]), "not valid UTF-8"),  # a lone surrogate
    (b"\x02\x00", "too short"),
])
def test_vlen_chunks_that_lie(tmp_path, chunk, message):
    assert numcodecs.VLenUTF8  # the format is numcodecs'
    with pytest.raises(CodecError, match=message):
        _vlen_array(tmp_path, chunk)[:2]


def test_vlen_chunk_bounded_by_the_read_budget(tmp_path):
    big = numcodecs.Zstd().encode(_vlen([b"x" * (3 * 2**20), b"y"]))
    _v2(tmp_path, {"dtype": "|O", "fill_value": None, "filters": [{"id": "vlen-bytes"}],
                   "compressor": {"id": "zstd", "level": 1}}, {"0": big})
    assert zarrlite.open(str(tmp_path))[:2].tolist()[1] == b"y"
    with pytest.raises((CodecError, BudgetError), match="more than|budget|limit"):
        zarrlite.open(str(tmp_path), max_bytes=2**20)[:2]


def test_json2_deep_nesting_is_refused_before_parsing(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    chunk = f'[{deep},1,"|O",[2]]'.encode()
    with pytest.raises(CodecError, match="nested more than"):
        _vlen_array(tmp_path, chunk, codec="json2")[:2]


@pytest.mark.parametrize("chunk,message", [
    (b'[1,2,3,"|O",[2]]', "3 elements"),
    (b'[1,2,"|O",[5]]', "shape"),
    (b'{"a": 1}', "expected"),
    (b'[1, 2, "|O", [2]', "malformed"),
    (b'["\xff", 1, "|O", [2]]', "UTF-8"),
])
def test_json2_chunks_that_lie(tmp_path, chunk, message):
    with pytest.raises(CodecError, match=message):
        _vlen_array(tmp_path, chunk, codec="json2")[:2]


def test_json2_values_are_data(tmp_path):
    chunk = numcodecs.JSON().encode(np.array([{"__class__": "os.system", "args": ["true"]}, "x"], dtype=object))
    got = _vlen_array(tmp_path, chunk, codec="json2")[:2]
    assert got.tolist() == [{"__class__": "os.system", "args": ["true"]}, "x"]


# ------------------------------------------------------------- what crosses to JS, what the table says

def _unpack(buf, col):
    """A reader of the packed layout written from its description (web/protocol.js does the same in JS)."""
    n = int(np.prod(col["shape"], dtype=np.int64))
    raw = buf.tobytes()
    if col["kind"] == "struct":
        return {name: _unpack(buf, f) for name, f in col["fields"]}
    if col["kind"] in ("typed", "datetime64", "timedelta64"):
        return np.frombuffer(raw, col["dtype"], n, col["offset"]).reshape(col["shape"])
    if col["kind"] == "json":
        return json.loads(raw[col["offset"]:col["offset"] + col["length"]])
    ends = np.frombuffer(raw, "<u4", n, col["ends"]).tolist()
    data = raw[col["bytes"]:col["bytes"] + col["length"]]
    items = [data[a:b] for a, b in zip([0] + ends[:-1], ends)]
    return [b.decode() for b in items] if col["kind"] == "str" else items


def test_packed_values_for_javascript(tmp_path):
    from zarrlite.packed import pack

    create(tmp_path / "s", TEXT, zarr_format=3, missing_last=False)
    strings = zarrlite.open(str(tmp_path / "s"))[...]
    buf, col = pack(strings)
    assert col["kind"] == "str" and _unpack(buf, col) == zarr3_reads(tmp_path / "s").tolist()
    times = np.array(["2020-01-01", "NaT"], "M8[10s]")
    buf, col = pack(times)
    assert (col["kind"], col["unit"], col["scale"]) == ("datetime64", "s", 10)
    assert _unpack(buf, col).tolist() == [times[0].astype("i8"), -2**63]
    st = np.zeros(3, [("x", ">f4"), ("y", "<i2", (2,)), ("b", "S2"), ("t", "<m8[D]")])
    st["x"], st["y"], st["b"], st["t"] = [1, 2, 3], [[1, 2]] * 3, [b"a", b"", b"bc"], [1, -1, 5]
    buf, col = pack(st)
    got = _unpack(buf, col)
    assert got["x"].dtype == "<f4" and got["x"].tolist() == [1, 2, 3] and got["y"].shape == (3, 2)
    assert got["b"] == [b"a", b"", b"bc"] and got["t"].tolist() == [1, -1, 5]
    assert all(f["offset" if "offset" in f else "ends"] % 8 == 0 for _, f in col["fields"])
    blobs = pack(BLOBS)
    assert blobs[1]["kind"] == "bytes" and _unpack(*blobs) == BLOBS.tolist()
    values = np.empty(2, object)
    values[:] = [{"a": [1, None]}, float("nan")]
    buf, col = pack(values)
    assert col["kind"] == "json" and _unpack(buf, col)[0] == {"a": [1, None]}


def test_table_cells_follow_numpy():
    from zarrlite.tables import cell, table_of

    dt = np.dtype([("name", "U8"), ("t", "M8[s]"), ("v", "<f8", (2,))])
    v = np.array([("Zürich", "2024-01-01T10:00:00", [1.5, 2])], dt)
    page = table_of(v, dt, 0, 1, 1)
    assert page["columns"] == ["name", "t", "v"]
    assert page["rows"] == [["Zürich", "2024-01-01T10:00:00", "[1.5, 2.0]"]]
    assert cell(np.datetime64("NaT", "ns"), np.dtype("M8[ns]")) == "NaT"
    assert cell(np.timedelta64(3, "D"), np.dtype("m8[D]")) == "3 days"
    assert cell(b"\x00a", np.dtype(object)) == "b'\\x00a'"
    assert cell(np.void(b"\x01\xff"), np.dtype("V2")) == "01 ff"
    assert cell("x" * 500, STRINGS).endswith("…") and len(cell("x" * 500, STRINGS)) == 200
    two_d = np.array([["a", "b"], ["c", "d"]], STRINGS)
    assert table_of(two_d, STRINGS, 5, 9, 70)["columns"] == ["0", "1"]


def test_table_pages_and_the_tree_entry(tmp_path):
    import asyncio

    from zarrlite.tables import table_page
    from zarrlite.webworker import describe_node

    create(tmp_path / "s", TEXT, zarr_format=3)
    arr = zarrlite.open(str(tmp_path / "s"))
    page = asyncio.run(table_page(arr, 6, 100))
    assert page["start"] == 6 and page["total"] == 8 and [r[0] for r in page["rows"]] == \
        zarr3_reads(tmp_path / "s")[6:].tolist()
    entry = asyncio.run(describe_node(arr, "", {}))
    assert entry["table"] is True and entry["outDtype"] == "str"
    zarr.create_array(str(tmp_path / "n"), shape=(2, 2), dtype="<u2")
    assert asyncio.run(describe_node(zarrlite.open(str(tmp_path / "n")), "", {}))["table"] is False


def test_cli_get_saves_strings_as_fixed_length_text(tmp_path, capsys):
    from zarrlite.cli import main

    create(tmp_path / "s", TEXT, zarr_format=3)
    assert main(["get", str(tmp_path / "s"), "", "-o", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy", allow_pickle=False).tolist() == zarr3_reads(tmp_path / "s").tolist()
    create(tmp_path / "b", BLOBS, zarr_format=3, dtype="variable_length_bytes")
    assert main(["get", str(tmp_path / "b"), "", "-o", str(tmp_path / "b.npy")]) == 2
    assert "pickle" in capsys.readouterr().err and not (tmp_path / "b.npy").exists()


@pytest.mark.parametrize("data_type,codec,chunk,want", [
    ("bytes", {"name": "vlen-bytes"}, numcodecs.VLenBytes().encode(BLOBS[:4]), BLOBS[:4].tolist()),
    ("string", {"name": "vlen-utf8"}, numcodecs.VLenUTF8().encode(TEXT[:4].astype(object)), TEXT[:4].tolist()),
    ("r16", {"name": "bytes"}, b"\x00\x01abcd\xff\xfe", [b"\x00\x01", b"ab", b"cd", b"\xff\xfe"]),
])
def test_v3_names_by_hand_with_numcodecs_chunks(tmp_path, data_type, codec, chunk, want):
    """The zarr-extensions `bytes` name, `string`, and the core spec's raw bits, chunks by numcodecs/numpy."""
    write_json(tmp_path / "zarr.json", {
        "zarr_format": 3, "node_type": "array", "shape": [6], "data_type": data_type,
        "fill_value": "" if data_type != "r16" else "AAA=",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}}, "codecs": [codec]})
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "0").write_bytes(chunk)
    got = zarrlite.open(str(tmp_path))[...]
    fill = {"bytes": b"", "string": "", "r16": b"\x00\x00"}[data_type]
    assert [bytes(v) if data_type == "r16" else v for v in got.tolist()] == want + [fill, fill]
