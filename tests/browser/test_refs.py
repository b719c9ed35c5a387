"""kerchunk references in Chromium: the JS API and the viewer open a reference file by URL; chunks are
byte ranges of HDF5 / NetCDF4 files written by h5py and netCDF4 (references by kerchunk), read through
fetch, and equal what h5py / netCDF4 read. Adjacent chunks of one file merge into fewer requests (the
server's log counts them); a target the page cannot reach (CORS) and a Parquet set say so."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from cases import SUMMARY_JS, expected
from refs_fixtures import chunk_refs, write_fletcher32, write_h5, write_netcdf
from test_viewer import check_pixels, open_viewer, settle, shot, show_plane

from zarrlite.render import render_plane

OPEN_READ_JS = f"""async ({{url, path, selection}}) => {{
  const zl = await window.zarrlite;
  await zl.open(url);
  return ({SUMMARY_JS})(await zl.read(path, selection));
}}"""

OPEN_ERROR_JS = """async ({url, path, selection}) => {
  const zl = await window.zarrlite;
  try { await zl.open(url); if (path !== null) await zl.read(path, selection); return null; }
  catch (e) { return e.name + ": " + e.message; }
}"""


@pytest.fixture(scope="module")
def h5(server):
    root = server.data / "refs-h5"
    root.mkdir(exist_ok=True)
    refs, truth = write_h5(root)
    return refs, truth


@pytest.fixture(scope="module")
def netcdf(server):
    root = server.data / "refs-nc"
    root.mkdir(exist_ok=True)
    # kerchunk's combine runs asyncio.run, which Playwright's loop on this thread does not allow
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(write_netcdf, root).result()


def file_requests(server, path):
    return [r for r in server.counters.requests if r[0] == path]


@pytest.mark.parametrize("name, sel, text", [
    ("gz", (Ellipsis,), "..."), ("gz", (slice(7, 43, 3), slice(5, 66, 4)), "7:43:3,5:66:4"),
    ("raw", (Ellipsis,), "..."), ("grp/deep", (2, slice(None), 5), "2,:,5"), ("contig", (Ellipsis,), "..."),
])
def test_hdf5_references_read_as_h5py(shared_page, server, h5, name, sel, text):
    _, truth = h5
    got = shared_page.evaluate(OPEN_READ_JS, {"url": f"{server.url}/data/refs-h5/refs.json", "path": name,
                                              "selection": text})
    assert got == expected(truth[name], sel)


def test_adjacent_chunks_merge_into_fewer_requests(shared_page, server, h5):
    refs, truth = h5
    url = f"{server.url}/data/refs-h5/refs.json"
    shared_page.evaluate("async url => { await (await window.zarrlite).open(url); }", url)
    server.counters.reset()
    got = shared_page.evaluate("""async () => {
      const zl = await window.zarrlite;
      return (%s)(await zl.read("gz", "..."));
    }""" % SUMMARY_JS)
    assert got == expected(truth["gz"], (Ellipsis,))
    requests = file_requests(server, "/data/refs-h5/data.h5")
    chunks = chunk_refs(refs, "gz")
    assert all(r[1] and r[1].startswith("bytes=") and r[2] == 206 for r in requests), requests
    assert 0 < len(requests) <= len(chunks) / 3, f"{len(requests)} requests for {len(chunks)} chunks"


def test_netcdf_several_targets(shared_page, server, netcdf):
    refs, truth = netcdf
    server.counters.reset()
    got = shared_page.evaluate(OPEN_READ_JS, {"url": f"{server.url}/data/refs-nc/combined.json", "path": "t2m",
                                              "selection": "..."})
    assert got == expected(truth["t2m"], (Ellipsis,))
    for name in ("f0.nc", "f1.nc", "f2.nc"):
        assert file_requests(server, f"/data/refs-nc/{name}"), f"nothing read from {name}"


def test_fletcher32_in_the_browser(shared_page, server):
    root = server.data / "refs-fletcher"
    root.mkdir(exist_ok=True)
    truth, _ = write_fletcher32(root)
    got = shared_page.evaluate(OPEN_READ_JS, {"url": f"{server.url}/data/refs-fletcher/f.json", "path": "x",
                                              "selection": "..."})
    assert got == expected(truth, (Ellipsis,))


def test_target_without_cors_names_key_and_url(shared_page, server, nocors_server, h5):
    """The reference file is readable; the HDF5 file it points at is on an origin that sends no CORS."""
    refs, _ = h5
    moved = json.loads(json.dumps(refs))
    target = f"{nocors_server.url}/data/refs-h5/data.h5"
    for v in moved["refs"].values():
        if isinstance(v, list):
            v[0] = target
    (server.data / "refs-h5" / "elsewhere.json").write_text(json.dumps(moved))
    err = shared_page.evaluate(OPEN_ERROR_JS, {"url": f"{server.url}/data/refs-h5/elsewhere.json", "path": "gz",
                                               "selection": "0:10,0:14"})
    assert err is not None and "'gz/0.0'" in err and target in err, err
    assert "CORS" in err and "Access-Control-Allow-Origin" in err, err


def test_parquet_reference_set_is_unsupported_in_the_browser(shared_page, server, netcdf):
    err = shared_page.evaluate(OPEN_ERROR_JS, {"url": f"{server.url}/data/refs-nc/combined.parq", "path": None,
                                               "selection": None})
    assert err is not None and "Parquet" in err and "not supported in the browser" in err, err


def test_viewer_opens_a_reference_url(page, server, netcdf):
    _, truth = netcdf
    open_viewer(page, server, "?source=/data/refs-nc/combined.json&path=t2m")
    settle(page)
    assert page.locator("#error").is_hidden()
    assert page.locator("#dims .dimrow .n").all_inner_texts() == ["time"]
    show_plane(page, 4, (270, 300), "inferno")
    check_pixels(page, render_plane(truth["t2m"][4], window=(270, 300), colormap="inferno"), seed=3)
    shot(page, "references")
    assert not page.errors, page.errors
