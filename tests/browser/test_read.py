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


def test_lzma_outside_the_xz_container_is_a_clear_error(shared_page, server):
    """The legacy .lzma container (numcodecs LZMA(format=FORMAT_ALONE)) decodes in CPython, not with
    the browser's xz decoder: the error says so and what reads it."""
    import lzma

    import numcodecs
    from writers import make_data, zarr_python

    root = server.data / "lzma-alone.zarr"
    if not root.exists():
        zarr_python(root, make_data((20, 30), "<u2", seed=1), zarr_format=2, chunks=(20, 30),
                    compressors=numcodecs.LZMA(format=lzma.FORMAT_ALONE))
    err = shared_page.evaluate("""async url => {
      const zl = await window.zarrlite;
      await zl.open(url);
      try { await zl.read("", "..."); return null; } catch (e) { return e.message; }
    }""", f"{server.url}/data/lzma-alone.zarr")
    assert err is not None and ".xz container" in err and "(0, 0)" in err, err
