"""Through the JS API in headless Chromium: every format and codec reads bit-for-bit like numpy."""

from __future__ import annotations

import pytest
from cases import CASES, SELECTIONS, SUMMARY_JS, expected

READ_JS = f"""async ({{url, path, selections}}) => {{
  const zl = await window.zarrlite;
  const tree = await zl.open(url);
  const reads = [];
  for (const s of selections) {{
    const r = await zl.read(path, s);
    reads.push({{...(await ({SUMMARY_JS})(r)), type: r.data.constructor.name,
                transferredWhole: r.data.byteLength === r.data.buffer.byteLength}});
  }}
  return {{tree, reads}};
}}"""

TYPED = {"|u1": "Uint8Array", "|i1": "Int8Array", "<u2": "Uint16Array", "<i2": "Int16Array",
         "<u4": "Uint32Array", "<i4": "Int32Array", "<u8": "BigUint64Array", "<i8": "BigInt64Array",
         "<f4": "Float32Array", "<f8": "Float64Array"}


@pytest.fixture(scope="session")
def written(server):
    """name -> numpy truth; each case written once under the server's /data/<name>/."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = CASES[name](server.data / name)
        return cache[name]
    return get


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_matches_numpy(shared_page, server, written, name):
    truth = written(name)
    result = shared_page.evaluate(READ_JS, {"url": f"{server.url}/data/{name}", "path": "",
                                            "selections": [s for _, s in SELECTIONS]})
    tree = result["tree"]
    assert tree["kind"] == "array" and tree["shape"] == list(truth.shape)
    for (sel, text), got in zip(SELECTIONS, result["reads"]):
        want = expected(truth, sel)
        assert {k: got[k] for k in want} == want, f"{name} [{text}]"
        assert got["type"] == TYPED[want["dtype"]]
        assert got["transferredWhole"]


ZERO_D_JS = f"""async ({{url, path, selection}}) => {{
  const zl = await window.zarrlite;
  await zl.open(url);
  const r = await zl.read(path, selection);
  return {{...(await ({SUMMARY_JS})(r)), type: r.data.constructor.name}};
}}"""


@pytest.mark.parametrize("dtype", ["<i4", "<c8", "|b1", "<f2"])
def test_a_zero_dimensional_array_reads_with_shape_empty(shared_page, server, dtype):
    """A 0-d array (written by zarr-python) reads back with numpy's shape (): `[]` in JS, `[2]` for
    complex (its two parts), not `[1]`."""
    import numpy as np
    import zarr

    name = f"zero-d-{np.dtype(dtype).name}.zarr"
    value = np.array(3 - 1.5j if dtype[1] == "c" else 3, dtype=dtype)
    if not (server.data / name).exists():
        arr = zarr.create_array(str(server.data / name), shape=(), dtype=dtype, zarr_format=3)
        arr[...] = value
    got = shared_page.evaluate(ZERO_D_JS, {"url": f"{server.url}/data/{name}", "path": "", "selection": "..."})
    want = expected(value, ())
    assert {k: got[k] for k in want} == want
    assert want["shape"] == ([2] if dtype[1] == "c" else [])


def test_a_path_through_an_n5_group_without_attributes_reads(shared_page, server):
    """N5 allows a group with no attributes.json; CPython's group["sub/arr"] opens the path from the
    root, and the browser's zl.read("sub/arr") must too."""
    import numpy as np
    from writers import ts_n5

    import zarrlite

    root = server.data / "n5-bare-middle.n5"
    data = (np.arange(6 * 10) * 7 % 251).astype("<u2").reshape(6, 10)
    if not root.exists():
        truth = ts_n5(root / "sub" / "arr", data, block_size=(4, 4), data_type="uint16", compression={"type": "raw"})
        (root / "attributes.json").write_text('{"n5": "2.2.0"}')
    truth = data.T
    assert not (root / "sub" / "attributes.json").exists()
    np.testing.assert_array_equal(zarrlite.open(str(root))["sub/arr"][...], truth)  # the CPython ground
    got = shared_page.evaluate(ZERO_D_JS, {"url": f"{server.url}/data/n5-bare-middle.n5", "path": "sub/arr",
                                           "selection": "1:5,2:"})
    want = expected(truth, (slice(1, 5), slice(2, None)))
    assert {k: got[k] for k in want} == want


FILLS = {"nan-f4": ("<f4", float("nan")), "inf-f8": ("<f8", float("inf")), "neginf-f8": ("<f8", float("-inf")),
         "max-u8": ("<u8", 2**64 - 1), "min-i8": ("<i8", -2**63), "safe-i8": ("<i8", 2**53 - 1)}
TREE_VALUES_JS = """async ({url, names}) => {
  const zl = await window.zarrlite;
  const seen = v => ({ type: typeof v, text: String(v) });
  const fills = {};
  for (const name of names) fills[name] = seen((await zl.open(`${url}/${name}`)).fill_value);
  const tree = await zl.open(url);
  return { root: Object.fromEntries(Object.entries(tree.attrs).map(([k, v]) => [k, seen(v)])),
           escaped: tree.attrs.tagged, fills };
}"""


def _as_js(value):
    """How a JS value prints (typeof, String()): the documented mapping of numbers JSON cannot carry."""
    import math

    if isinstance(value, float):
        return {"type": "number", "text": "NaN" if math.isnan(value) else
                ("Infinity" if value == math.inf else "-Infinity" if value == -math.inf else repr(value))}
    if abs(value) > 2**53 - 1:
        return {"type": "bigint", "text": str(value)}
    return {"type": "number", "text": str(value)}


def test_values_json_cannot_carry_arrive_exact(shared_page, server):
    """Fill values and attributes: NaN and ±Infinity arrive as those numbers, integers beyond 2^53 - 1
    as BigInt (not "nan", or 2^64 for uint64 max); an attribute holding the tag's own key is kept."""
    import zarr

    root = server.data / "fill-values.zarr"
    if not root.exists():
        group = zarr.open_group(str(root), mode="w", zarr_format=3)
        group.attrs.update({"big": 2**64 - 1, "negative": -2**63, "small": 12, "tagged": {"$zarrlite": "bigint"}})
        for name, (dtype, fill) in FILLS.items():
            group.create_array(name, shape=(4,), chunks=(2,), dtype=dtype, fill_value=fill)
    written = zarr.open_group(str(root), mode="r")
    got = shared_page.evaluate(TREE_VALUES_JS, {"url": f"{server.url}/data/fill-values.zarr", "names": list(FILLS)})
    assert got["fills"] == {name: _as_js(written[name].fill_value.item()) for name in FILLS}
    assert got["root"]["big"] == _as_js(2**64 - 1) and got["root"]["negative"] == _as_js(-2**63)
    assert got["root"]["small"] == _as_js(12)
    assert got["escaped"] == {"$zarrlite": "bigint"}


def test_event_loop_callbacks_are_batched(shared_page, server, written):
    """The worker runs asyncio's ready callbacks in batches through a Pyodide internal
    (_api.scheduleCallback; see webworker.batch_call_soon): this fails if that internal disappears
    (batching is then off: `loop` is null) or if reads stop going through the batches."""
    written("zp3-v3-zstd-u2")
    got = shared_page.evaluate("""async url => {
      const zl = await window.zarrlite;
      await zl.open(url);
      const before = (await zl.stats()).loop;
      await zl.read("", "...");
      return { before, after: (await zl.stats()).loop };
    }""", f"{server.url}/data/zp3-v3-zstd-u2")
    assert got["before"] is not None and got["after"] is not None, got
    callbacks = got["after"]["callbacks"] - got["before"]["callbacks"]
    drains = got["after"]["drains"] - got["before"]["drains"]
    chunks = 2 * 4 * 3  # CHUNKS over SHAPE of cases.py
    assert callbacks >= chunks, got
    assert 0 < drains < callbacks, got
