"""Strings, bytes, JSON values, datetimes and structured values in Chromium: through the JS API (the
mapping of web/protocol.js Values) and in the viewer, which shows them as a table of values. Fixtures by
zarr-python 3, zarr-python 2.18 and xarray; expectations are what those libraries read back."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from writers import zarr2_python

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # zarr: "unstable" v3 data types

HOSTILE = ["<img src=x onerror=\"window.pwned=1\">", "</td></tr><script>window.pwned=2</script>", "&amp; & 'q'"]
TEXT = np.array([f"row {i} ü" for i in range(247)] + HOSTILE, dtype=np.dtypes.StringDType())

# JS: what a read gives, in JSON-safe form (BigInt as text, bytes as lists of numbers, fields recursively)
PLAIN_JS = """
const plain = r => {
  const d = r.data;
  if (d && d.fields) return {dtype: r.dtype, shape: r.shape, fields: Object.fromEntries(
    Object.entries(d.fields).map(([k, v]) => [k, plain(v)]))};
  const values = d instanceof BigInt64Array ? Array.from(d, String)
    : Array.isArray(d) ? d.map(v => v instanceof Uint8Array ? Array.from(v) : v) : Array.from(d);
  return {dtype: r.dtype, shape: r.shape, kind: r.kind ?? null, unit: r.unit ?? null, scale: r.scale ?? null,
          sourceDtype: r.sourceDtype ?? null, type: d.constructor.name, values};
};"""

READ_JS = """async ({url, path, selection}) => {
  %s
  const zl = await window.zarrlite;
  await zl.open(url);
  return plain(await zl.read(path, selection));
}""" % PLAIN_JS


def _write(root, data, **kwargs):
    if not root.exists():
        arr = zarr.create_array(str(root), shape=data.shape, dtype=kwargs.pop("dtype", data.dtype),
                                chunks=kwargs.pop("chunks", (64,) + data.shape[1:]), **kwargs)
        arr[:] = data
    return zarr.open_array(str(root), mode="r")[...]


def _read(page, server, name, path="", selection="..."):
    return page.evaluate(READ_JS, {"url": f"{server.url}/data/{name}", "path": path, "selection": selection})


def test_strings_arrive_as_string_arrays(shared_page, server):
    want = _write(server.data / "dt-strings.zarr", TEXT)
    got = _read(shared_page, server, "dt-strings.zarr", selection="10:260")
    assert got["type"] == "Array" and got["dtype"] == "str" and got["shape"] == [240]
    assert got["values"] == want[10:].tolist()


def test_datetimes_arrive_as_int64_counts_with_their_unit(shared_page, server):
    data = np.array(["2024-02-29T12:00:00.000000001", "NaT", "1900-01-01", "2262-04-11"], "M8[ns]")
    want = _write(server.data / "dt-times.zarr", data, chunks=(3,))
    got = _read(shared_page, server, "dt-times.zarr")
    assert got["type"] == "BigInt64Array" and got["kind"] == "datetime64" and (got["unit"], got["scale"]) == ("ns", 1)
    assert got["values"] == [str(v) for v in want.view("i8")]
    assert got["values"][1] == str(-2**63)  # NaT
    delta = _write(server.data / "dt-deltas.zarr", np.array([5, -3, "NaT"], "m8[10ms]"), chunks=(2,))
    got = _read(shared_page, server, "dt-deltas.zarr")
    assert (got["kind"], got["unit"], got["scale"]) == ("timedelta64", "ms", 10)
    assert got["values"] == [str(v) for v in delta.view("i8")]


def test_bytes_arrive_as_uint8_arrays(shared_page, server):
    blobs = np.array([b"", b"\x00\xff", b"abc"], dtype=object)
    want = _write(server.data / "dt-vbytes.zarr", blobs, dtype="variable_length_bytes", chunks=(2,))
    got = _read(shared_page, server, "dt-vbytes.zarr")
    assert got["dtype"] == "bytes" and got["values"] == [list(v) for v in want]
    fixed = _write(server.data / "dt-fixed.zarr", np.array([b"ab", b"a\x00c", b""], "S3"), chunks=(2,))
    assert _read(shared_page, server, "dt-fixed.zarr")["values"] == [list(v) for v in fixed]


def test_structured_values_arrive_one_array_per_field(shared_page, server):
    back = zarr2_python(server.data / "dt-struct2.zarr", """
import numpy as np, zarr, os
if not os.path.exists(path):
    dt = np.dtype([("x", "<f4"), ("y", ">i2", (2,)), ("when", ">M8[s]"), ("p", [("a", "<u1")])])
    z = zarr.open(path, mode="w", shape=(3,), chunks=(2,), dtype=dt, fill_value=None)
    v = np.zeros(3, dt); v["x"] = [1.5, -2, 3]; v["y"] = [[1, -1], [2, -2], [3, -3]]; v["when"] = [0, 86400, 1]
    v["p"]["a"] = [7, 8, 9]
    z[:] = v
""")
    got = _read(shared_page, server, "dt-struct2.zarr")
    f = got["fields"]
    assert got["dtype"] == "struct" and list(f) == ["x", "y", "when", "p"]
    assert f["x"]["type"] == "Float32Array" and f["x"]["values"] == [v[0] for v in back["values"]]
    assert f["y"]["shape"] == [3, 2] and f["y"]["type"] == "Int16Array"
    assert f["y"]["values"] == [x for v in back["values"] for x in v[1]]
    assert f["when"]["unit"] == "s" and f["when"]["values"] == ["0", "86400", "1"]
    assert f["p"]["fields"]["a"]["values"] == [7, 8, 9]


def test_json2_values_and_zarr2_strings(shared_page, server):
    back = zarr2_python(server.data / "dt-json2.zarr", """
import numcodecs, numpy as np, zarr, os
if not os.path.exists(path):
    z = zarr.open(path, mode="w", shape=(3,), chunks=(2,), dtype=object, object_codec=numcodecs.JSON())
    v = np.empty(3, object); v[0] = {"a": [1, None]}; v[1] = "x"; v[2] = 2.5
    z[:] = v
""")
    assert _read(shared_page, server, "dt-json2.zarr")["values"] == back["values"]
    back = zarr2_python(server.data / "dt-str2.zarr", """
import numcodecs, numpy as np, zarr, os
if not os.path.exists(path):
    z = zarr.open(path, mode="w", shape=(3,), chunks=(2,), dtype=object, object_codec=numcodecs.VLenUTF8())
    z[:] = np.array(["Genève", "", "🙂"], dtype=object)
""")
    got = _read(shared_page, server, "dt-str2.zarr")
    assert got["dtype"] == "str" and got["values"] == back["values"]


def test_xarray_coordinates_in_the_browser(shared_page, server):
    import xarray as xr

    root = server.data / "dt-xarray.zarr"
    if not root.exists():
        xr.Dataset({"t": (("time", "station"), np.zeros((2, 3), "f4"))},
                   coords={"time": np.array(["2024-01-01", "NaT"], "M8[ns]"),
                           "station": np.array(["Zürich", "Genève", "Sion"])}).to_zarr(root, zarr_format=3)
    back = xr.open_zarr(root, decode_times=False)
    assert _read(shared_page, server, "dt-xarray.zarr", "station")["values"] == back["station"].values.tolist()
    got = _read(shared_page, server, "dt-xarray.zarr", "time")
    assert got["values"] == [str(v) for v in back["time"].values.astype("i8")]


# ------------------------------------------------------------------------------------------- viewer

def _viewer(page, server, query):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(90_000)
    page.goto(f"{server.url}/viewer/{query}")
    page.wait_for_selector(".values table td")
    return errors


def _cells(page):
    return page.evaluate("""() => [...document.querySelectorAll('.values tbody tr')].map(
      tr => [...tr.children].map(c => c.textContent))""")


def test_viewer_shows_strings_as_a_table_with_pages(page, server):
    want = _write(server.data / "dt-strings.zarr", TEXT).tolist()
    errors = _viewer(page, server, "?source=/data/dt-strings.zarr")
    rows = _cells(page)
    assert rows[:3] == [["0", want[0]], ["1", want[1]], ["2", want[2]]] and len(rows) == 100
    assert "rows 0–99 of 250" in page.locator(".values-nav").inner_text()
    page.locator(".values-nav button", has_text="⏭").click()
    page.wait_for_function("() => document.querySelector('.values-label').textContent.includes('rows 200')")
    rows = _cells(page)
    assert [r[1] for r in rows] == want[200:]                  # the hostile strings, as text
    assert page.evaluate("() => window.pwned") is None
    assert page.locator(".values img, .values script").count() == 0
    assert page.locator(".values").is_visible()
    assert not errors, errors


def test_viewer_shows_dates_and_structured_values(page, server):
    times = _write(server.data / "dt-times.zarr", np.array(["2024-02-29T12:00:00.000000001", "NaT", "1900-01-01",
                                                            "2262-04-11"], "M8[ns]"), chunks=(3,))
    errors = _viewer(page, server, "?source=/data/dt-times.zarr")
    assert [r[1] for r in _cells(page)] == [str(np.datetime_as_string(t)) for t in times]
    st = _write(server.data / "dt-struct3.zarr", np.array([(1.5, -1), (2.0, 7)], [("x", "<f4"), ("y", "<i2")]),
                chunks=(2,))
    page.goto(f"{server.url}/viewer/?source=/data/dt-struct3.zarr")
    page.wait_for_selector(".values table td")
    assert page.evaluate("() => [...document.querySelectorAll('.values thead th')].map(t => t.textContent)") == \
        ["#", "x", "y"]
    assert _cells(page) == [["0", str(st["x"][0]), str(st["y"][0])], ["1", str(st["x"][1]), str(st["y"][1])]]
    assert not errors, errors
