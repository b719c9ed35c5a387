"""Every browser store passes the store contract in Chromium: the same Python checks as CPython's
(tests/store_contract.py, its source run in Pyodide) over FetchStore (the test server), FileStore
(File objects, as a picked folder gives), DirectoryHandleStore (a real directory in the origin-private
file system) and ZipFileStore (stored, deflated, zip of a folder).

Pyodide runs on a test page's main thread here (loaded from the site, as a notebook kernel would be), so
FetchStore uses its own `js.fetch` path; the page's worker path (web/chunk-pool.js) is what the
Content-Range test at the end goes through. Also: the HTTP options (`headers`, `backoff`, `retries`)
reach the browser store, and a custom header reaches the server."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from faultserver import FaultServer
from pages import pyodide_page
from writers import make_data


TESTS = Path(__file__).resolve().parents[1]
CONTRACT = (TESTS / "store_contract.py").read_text()


# Builds the JS objects a store needs and leaves them on `window.contract`
PREPARE_JS = """async ({content, zips}) => {
  const bytes = hex => new Uint8Array((hex.match(/../g) || []).map(h => parseInt(h, 16)));
  const files = [], paths = [];
  for (const [key, hex] of Object.entries(content)) {
    files.push(new File([bytes(hex)], key.split("/").at(-1)));
    paths.push(key);
  }
  const opfs = await navigator.storage.getDirectory();
  try { await opfs.removeEntry("contract", { recursive: true }); } catch {}
  const top = await opfs.getDirectoryHandle("contract", { create: true });
  for (const [key, hex] of Object.entries(content)) {
    const parts = key.split("/");
    let dir = top;
    for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create: true });
    const w = await (await dir.getFileHandle(parts.at(-1), { create: true })).createWritable();
    await w.write(bytes(hex));
    await w.close();
  }
  const zipFiles = {};
  for (const [name, url] of Object.entries(zips)) {
    zipFiles[name] = new File([await (await fetch(url)).blob()], name + ".zip");
  }
  window.contract = { files, paths, directory: top, zips: zipFiles };
}"""

RUN_PY = """
import json, sys, js
from zarrlite.stores.browser import DirectoryHandleStore, FetchStore, FileStore, ZipFileStore
import store_contract as contract

async def run(kind, url, options):
    c = js.contract
    make = {
        "fetch": lambda: FetchStore(url, retries=0),
        "files": lambda: FileStore(c.files, c.paths),
        "directory": lambda: DirectoryHandleStore(c.directory),
    }
    store = make[kind]() if kind in make else ZipFileStore(getattr(c.zips, kind))
    try:
        done = await contract.run_checks(store, **json.loads(options))
        if kind == "zip-of-folder":  # a key that still names the zip's root folder resolves too
            assert await store.get("data.zarr/a/b/c") == contract.VALUE, "data.zarr/a/b/c"
            assert await store.list("data.zarr/a") == ["b", "d", "e"], "list('data.zarr/a')"
        return json.dumps(done)
    except AssertionError as e:
        return json.dumps({"failed": str(e)})
"""

EVAL_JS = """async ({code, contract, call}) => {
  const pyodide = await window.pyodideReady;
  pyodide.FS.mkdirTree("/tmp/contract");
  pyodide.FS.writeFile("/tmp/contract/store_contract.py", contract);
  await pyodide.runPythonAsync("import sys\\nif '/tmp/contract' not in sys.path: sys.path.insert(0, '/tmp/contract')");
  const ns = pyodide.globals.get("dict")();
  await pyodide.runPythonAsync(code, { globals: ns });
  try {
    return await ns.get(call.fn)(...call.args);
  } finally {
    ns.destroy();
  }
}"""


def _zip(path, content, compression, folder=""):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for key, value in content.items():
            zf.writestr(f"{folder}/{key}" if folder else key, value)
    with zipfile.ZipFile(path) as zf:
        return {info.filename[len(folder) + 1 if folder else 0:]: info.compress_size for info in zf.infolist()}


@pytest.fixture(scope="module")
def contract_data(server):
    import store_contract as contract

    base = server.data / "contract"
    for key, value in contract.CONTENT.items():
        path = base.joinpath("tree", *key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(value)
    sizes = {"zip-stored": None,
             "zip-deflated": _zip(base / "deflated.zip", contract.CONTENT, zipfile.ZIP_DEFLATED),
             "zip-of-folder": _zip(base / "folder.zip", contract.CONTENT, zipfile.ZIP_DEFLATED, "data.zarr")}
    _zip(base / "stored.zip", contract.CONTENT, zipfile.ZIP_STORED)
    zips = {"zip-stored": "stored.zip", "zip-deflated": "deflated.zip", "zip-of-folder": "folder.zip"}
    return contract.CONTENT, {k: f"{server.url}/data/contract/{v}" for k, v in zips.items()}, sizes


@pytest.fixture(scope="module")
def contract_page(browser, server, contract_data, outside_requests):
    content, zips, _ = contract_data
    ctx, page = pyodide_page(browser, server, outside_requests)
    page.evaluate(PREPARE_JS, {"content": {k: v.hex() for k, v in content.items()}, "zips": zips})
    yield page
    ctx.close()
    assert not outside_requests, outside_requests


def run_python(page, code, fn, *args):
    return page.evaluate(EVAL_JS, {"code": code, "contract": CONTRACT, "call": {"fn": fn, "args": list(args)}})


KINDS = ["fetch", "files", "directory", "zip-stored", "zip-deflated", "zip-of-folder"]


@pytest.mark.parametrize("kind", KINDS)
def test_browser_store_contract(contract_page, server, contract_data, kind):
    import store_contract as contract

    options = {"can_list": kind != "fetch"}
    if contract_data[2].get(kind):
        options["sizes"] = contract_data[2][kind]
    got = json.loads(run_python(contract_page, RUN_PY, "run", kind, f"{server.url}/data/contract/tree",
                                json.dumps(options)))
    assert got == [c.__name__ for c in contract.CHECKS], got


# ------------------------------------------------------------------------- HTTP options and faults

@pytest.fixture(scope="module")
def fault_server():
    """Zarr v2 (zlib) and Zarr v3 sharded raw inner chunks, from another origin with CORS open."""
    import tempfile

    import numcodecs
    from writers import zarr_python

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        v2 = zarr_python(root / "v2", make_data((6, 7), "<u2"), zarr_format=2, chunks=(4, 3),
                         compressors=numcodecs.Zlib(level=1))
        # 8 x 6 in shards of 4 x 8: no shard is wanted whole (its last inner chunks lie outside the
        # array), so a full read still takes each index and the inner chunks with byte ranges
        shard = zarr_python(root / "shard", make_data((8, 6), "<i4", seed=3), zarr_format=3, chunks=(2, 2),
                            shards=(4, 8), compressors=None)
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    srv = FaultServer(files, stall_seconds=2, cors=True).start()
    yield srv, {"v2": v2, "shard": shard}
    srv.stop()


OPTIONS_PY = """
import json
import zarrlite
from zarrlite.stores import store_for

async def run(url):
    store = store_for(url, headers={"X-Zarrlite-Test": "yes"}, backoff=0.01, retries=2, timeout=5, cache_bytes=0)
    arr = await zarrlite.open_async(url, "v2", headers={"X-Zarrlite-Test": "yes"}, backoff=0.01, retries=2)
    values = await arr.get((slice(None), slice(None)))
    return json.dumps({"type": type(store).__name__, "headers": store.headers, "backoff": store.backoff,
                       "retries": store.retries, "timeout": store.timeout, "values": values.tolist()})
"""


def test_http_options_reach_the_browser_store_and_the_server(contract_page, fault_server):
    srv, truths = fault_server
    srv.clear()
    srv.inject("503", match="v2/.zarray", times=1)  # retried after the back-off asked for
    got = json.loads(run_python(contract_page, OPTIONS_PY, "run", srv.url))
    assert {k: got[k] for k in ("type", "headers", "backoff", "retries", "timeout")} == {
        "type": "FetchStore", "headers": {"X-Zarrlite-Test": "yes"}, "backoff": 0.01, "retries": 2, "timeout": 5}
    np.testing.assert_array_equal(np.array(got["values"], dtype="<u2"), truths["v2"])
    sent = srv.header_values("X-Zarrlite-Test")
    assert sent and set(sent) == {"yes"}, srv.log
    assert srv.requests("v2/.zarray") >= 2


READ_ERROR_JS = """async ({url, path}) => {
  const zl = await window.zarrlite;
  await zl.open(url);
  try { const r = await zl.read(path, "..."); return {ok: Array.from(r.data)}; }
  catch (e) { return {name: e.name, message: e.message}; }
}"""


@pytest.mark.parametrize("which,ranges", [("shard index (a suffix)", r"^bytes=-"),
                                          ("inner chunk (raw)", r"^bytes=\d")])
def test_other_bytes_of_the_same_length_are_refused(shared_page, fault_server, which, ranges):
    """A server answering a range with as many bytes from elsewhere (labelled by its Content-Range):
    the read fails with a StoreError naming the URL, as in CPython, instead of giving another chunk's
    values."""
    srv, truths = fault_server
    srv.clear()
    srv.inject("other-range", match="shard/c/", ranges=ranges)
    got = shared_page.evaluate(READ_ERROR_JS, {"url": f"{srv.url}/shard", "path": ""})
    srv.clear()
    assert "ok" not in got, f"read {which} answered with other bytes: {got['ok'][:8]}... (truth " \
                            f"{truths['shard'].ravel()[:8].tolist()}...)"
    assert got["name"] == "StoreError", got
    assert f"{srv.url}/shard/c/" in got["message"] and "Content-Range" in got["message"], got
