"""kerchunk references from local files in Chromium: a folder picked, files dropped on the viewer or
picked with its files input, a directory handle (stores/refs_dropped.py finds the reference file and its
targets among them), and `zarrlite view refs.json` (serve.py's server, as the CLI starts it, with the
built site). HDF5 / NetCDF4 files written by h5py / netCDF4, references by kerchunk; reads equal what
h5py / netCDF4 read, the viewer's pixels what zarrlite.render draws from that truth."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cases import SUMMARY_JS, expected
from refs_fixtures import write_h5, write_netcdf
from test_viewer import check_pixels, open_viewer, settle, shot, show_plane

from zarrlite.render import render_plane
from zarrlite.serve import source_server

DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
READ_JS = f"""async ({{path, selection}}) => ({SUMMARY_JS})(await (await window.zarrlite).read(path, selection))"""
# Files made in the page from the test server's copies (a person's files, without a server)
FILES_JS = """async urls => Promise.all(urls.map(async url => new File([await (await fetch(url)).blob()],
                                                                      url.split("/").pop())))"""


@pytest.fixture(scope="module")
def h5(server):
    root = server.data / "dropped-h5"
    root.mkdir(exist_ok=True)
    refs, truth = write_h5(root)
    return root, refs, truth


@pytest.fixture(scope="module")
def netcdf(server):
    """Three NetCDF4 files and combined.json naming them by absolute path (as kerchunk wrote them where
    they were made); abs/ holds the same reference file next to the files, for `zarrlite view`."""
    root = server.data / "dropped-nc"
    root.mkdir(exist_ok=True)
    with ThreadPoolExecutor(1) as pool:  # kerchunk's combine runs asyncio.run: not on Playwright's loop
        refs, truth = pool.submit(write_netcdf, root, False).result()
    made_at = "/home/someone/run-7/nc"  # a folder of another machine: matched by file name
    for v in refs["refs"].values():
        if isinstance(v, list):
            v[0] = f"{made_at}/{v[0]}"
    (root / "combined.json").write_text(json.dumps(refs))
    return root, truth


def _read_all(page, arrays):
    for path, truth in arrays.items():
        assert page.evaluate(READ_JS, {"path": path, "selection": "..."}) == expected(truth, (Ellipsis,)), path


def test_picked_folder_of_references(shared_page, h5):
    """A folder input (<input webkitdirectory>) with refs.json and data.h5: relative targets."""
    root, _, truth = h5
    before = int(shared_page.evaluate("document.body.dataset.opened || 0"))
    shared_page.set_input_files("#folder", str(root))
    shared_page.wait_for_function(f"Number(document.body.dataset.opened || 0) > {before}")
    assert shared_page.evaluate("window.lastError ? window.lastError.message : null") is None
    tree = shared_page.evaluate("window.lastTree")
    assert {c["path"] for c in tree["children"]} >= {"gz", "raw", "grp", "contig"}
    _read_all(shared_page, {name: truth[name] for name in ("gz", "raw", "grp/deep", "contig", "partial")})


def test_several_files_with_absolute_targets(shared_page, server, netcdf):
    root, truth = netcdf
    names = ["combined.json", "f0.nc", "f1.nc", "f2.nc"]
    shared_page.evaluate(f"""async urls => {{
      const zl = await window.zarrlite;
      await zl.open(await ({FILES_JS})(urls));
    }}""", [f"{server.url}/data/dropped-nc/{n}" for n in names])
    _read_all(shared_page, truth)


def test_a_directory_handle_with_references(shared_page, server, h5):
    """A FileSystemDirectoryHandle (the origin-private file system, as showDirectoryPicker() gives one)."""
    root, _, truth = h5
    shared_page.evaluate(f"""async urls => {{
      const opfs = await navigator.storage.getDirectory();
      try {{ await opfs.removeEntry("refs-folder", {{ recursive: true }}); }} catch {{}}
      const top = await opfs.getDirectoryHandle("refs-folder", {{ create: true }});
      const sub = await top.getDirectoryHandle("data", {{ create: true }});
      for (const file of await ({FILES_JS})(urls)) {{
        const dir = file.name.endsWith(".json") ? top : sub;
        const w = await (await dir.getFileHandle(file.name, {{ create: true }})).createWritable();
        await w.write(file);
        await w.close();
      }}
      await (await window.zarrlite).open(top);
    }}""", [f"{server.url}/data/dropped-h5/{n}" for n in ("refs.json", "data.h5")])
    # refs.json names "data.h5" beside it; the file is in data/: the one file of that name
    _read_all(shared_page, {"gz": truth["gz"], "grp/deep": truth["grp/deep"]})


def _viewer_shows_t2m(page, truth, name):
    page.wait_for_function("() => Number(document.body.dataset.opened || 0) >= 1")
    settle(page)
    assert page.locator("#error").is_hidden(), page.locator("#error").inner_text()
    show_plane(page, 4, (270, 300), "inferno")
    check_pixels(page, render_plane(truth["t2m"][4], window=(270, 300), colormap="inferno"), seed=5)
    shot(page, name)
    assert not page.errors, page.errors


def test_viewer_opens_dropped_reference_and_files(page, server, netcdf):
    root, truth = netcdf
    open_viewer(page, server, "")
    page.wait_for_selector("#empty:not([hidden])")
    # a drop as the browser delivers it: one DataTransfer holding the four files
    page.evaluate(f"""async urls => {{
      const dt = new DataTransfer();
      for (const f of await ({FILES_JS})(urls)) dt.items.add(f);
      const stage = document.getElementById("stage");
      stage.dispatchEvent(new DragEvent("dragenter", {{ dataTransfer: dt, bubbles: true }}));
      stage.dispatchEvent(new DragEvent("drop", {{ dataTransfer: dt, bubbles: true }}));
    }}""", [f"{server.url}/data/dropped-nc/{n}" for n in ("f0.nc", "combined.json", "f1.nc", "f2.nc")])
    _viewer_shows_t2m(page, truth, "references-dropped")


def test_viewer_opens_picked_reference_and_files(page, server, netcdf):
    root, truth = netcdf
    open_viewer(page, server, "")
    page.wait_for_selector("#empty:not([hidden])")
    page.set_input_files("#zip", [str(root / n) for n in ("combined.json", "f0.nc", "f1.nc", "f2.nc")])
    _viewer_shows_t2m(page, truth, "references-picked")


def test_viewer_says_which_target_was_not_dropped(page, server, netcdf):
    root, _ = netcdf
    open_viewer(page, server, "")
    page.wait_for_selector("#empty:not([hidden])")
    page.set_input_files("#zip", [str(root / n) for n in ("combined.json", "f1.nc", "f2.nc")])  # the first plane is in f0.nc
    # the coordinates' chunks are read first (lat/0 is in f0.nc): the stage says why the image cannot show
    page.wait_for_selector("#stage .card.note:not([hidden])")
    text = page.locator("#stage .card.note").inner_text()
    assert "/home/someone/run-7/nc/f0.nc is not among the files opened" in text, text


def test_zarrlite_view_of_a_reference_file(page, netcdf, tmp_path):
    """The server `zarrlite view combined.json` starts (serve.source_server over the built site), the
    reference file beside its NetCDF4 files naming them by absolute path: the viewer reads them through it."""
    root, truth = netcdf
    here = tmp_path / "run"
    here.mkdir()
    refs = json.loads((root / "combined.json").read_text())
    for v in refs["refs"].values():
        if isinstance(v, list):
            v[0] = str(here / v[0].rsplit("/", 1)[-1])
    for name in ("f0.nc", "f1.nc", "f2.nc"):
        shutil.copy(root / name, here / name)
    (here / "combined.json").write_text(json.dumps(refs))
    httpd, query = source_server(str(DIST), str(here / "combined.json"))
    try:
        site = type("Site", (), {"url": f"http://127.0.0.1:{httpd.server_address[1]}"})
        open_viewer(page, site, query)
        _viewer_shows_t2m(page, truth, "references-zarrlite-view")
    finally:
        httpd.shutdown()
        httpd.server_close()
