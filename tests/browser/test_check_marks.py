"""The viewer's tree marks, before anything is clicked, the arrays this page cannot read, with the reason
Python gives (`zarrlite check`'s, runtime "browser"); and a static host that answers missing files with
an HTML page (status 200) still opens. Headless Chromium on the built site (web/dist)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import zarr
from numcodecs.zarr3 import PCodec
from server import start_server
from test_viewer import browser_context_args, open_viewer, settle  # noqa: F401  (the viewer's viewport)

DIST = Path(__file__).resolve().parents[2] / "web" / "dist"

NOT_FOUND_PAGE = b"<!DOCTYPE html><html><head><title>Page not found</title></head><body>404</body></html>"
OPENED = "() => Number(document.body.dataset.opened || 0) >= 1"


def tree_rows(page) -> dict:
    """path -> (classes, icon, reason text, title) of each row of the tree, as the page shows it."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll("#tree button.node")].map(b =>
      [b.dataset.path, [b.className, b.querySelector(".icon").textContent, b.querySelector(".why")?.textContent ?? "",
                        b.title]]))""")


@pytest.fixture(scope="module")
def marked(server):
    """A consolidated zarr v3 group (HTTP cannot list): a plain array, one in pcodec (no browser build)
    and one with a codec nobody knows."""
    root = server.data / "marks.zarr"
    if not root.exists():
        g = zarr.open_group(str(root), mode="w", zarr_format=3)
        for name in ("ok", "odd"):
            a = g.create_array(name, shape=(32, 32), dtype="<u2", chunks=(16, 16))
            a[...] = np.arange(32 * 32, dtype="<u2").reshape(32, 32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pc = g.create_array("pc", shape=(32, 32), dtype="<f8", chunks=(16, 16), serializer=PCodec(level=8),
                                compressors=None)
        pc[...] = np.linspace(0, 1, 32 * 32).reshape(32, 32)
        zarr.consolidate_metadata(str(root))
        top = json.loads((root / "zarr.json").read_text())   # the copy the page reads: the consolidated one
        top["consolidated_metadata"]["metadata"]["odd"]["codecs"].append({"name": "frobnicate", "configuration": {}})
        (root / "zarr.json").write_text(json.dumps(top))
    return root


def test_tree_marks_what_the_page_cannot_read(page, server, marked):
    open_viewer(page, server, "?source=/data/marks.zarr")
    page.wait_for_function(OPENED)
    rows = tree_rows(page)
    assert set(rows) == {"", "ok", "odd", "pc"}, rows
    assert rows["ok"][1] == "▦" and rows["ok"][2] == "", rows["ok"]
    for path, needles in {"pc": ("pcodec", "browser"), "odd": ("frobnicate",)}.items():
        classes, icon, why, title = rows[path]
        assert icon == "⚠" and all(n in why and n in title for n in needles), rows[path]
        assert f"'{path}'" in why, why                                       # the reason names the array
    assert not page.errors, page.errors


def test_tree_marks_chunk_files_the_metadata_does_not_name(page, server, tmp_path):
    """A picked folder lists: a v2 array written with '/'-nested chunks whose .zarray lost its
    dimension_separator is marked before it is clicked (it would show only the fill value)."""
    root = tmp_path / "nested.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    a = g.create_array("nested", shape=(32, 32), dtype="<u2", chunks=(16, 16),
                       chunk_key_encoding={"name": "v2", "separator": "/"})
    a[...] = 7
    b = g.create_array("flat", shape=(32, 32), dtype="<u2", chunks=(16, 16))
    b[...] = 9
    meta = json.loads((root / "nested" / ".zarray").read_text())
    del meta["dimension_separator"]
    (root / "nested" / ".zarray").write_text(json.dumps(meta))
    open_viewer(page, server, "")
    page.wait_for_selector("#empty:not([hidden])")
    page.set_input_files("#folder", str(root))
    page.wait_for_function(OPENED)
    rows = tree_rows(page)
    classes, icon, why, _ = rows["nested"]
    assert "unreadable" in classes and icon == "⚠" and "chunk keys" in why and "dimension_separator" in why, rows
    assert rows["flat"][2] == "" and "unreadable" not in rows["flat"][0], rows
    assert not page.errors, page.errors


@pytest.fixture(scope="module")
def html_host(data_dir):
    srv = start_server(DIST, data_dir, missing_page=NOT_FOUND_PAGE)
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_a_host_answering_missing_files_with_a_page_still_opens(page, html_host):
    """zarr v2 on a static host with a custom 404 page: zarr.json, .zgroup, .zattrs and attributes.json
    come back as HTML with status 200; the array opens and shows."""
    root = html_host.data / "html-host-v2.zarr"
    if not root.exists():
        a = zarr.create_array(str(root), shape=(48, 64), dtype="<u2", chunks=(16, 32), zarr_format=2)
        a[...] = np.arange(48 * 64, dtype="<u2").reshape(48, 64)
    open_viewer(page, html_host, "?source=/data/html-host-v2.zarr")
    page.wait_for_function(OPENED)
    settle(page)
    assert page.locator("#error").is_hidden()
    rows = tree_rows(page)
    assert list(rows) == [""] and rows[""][1] == "▦" and rows[""][2] == "", rows
    pages = [p for p, _, status in html_host.counters.requests if p.startswith("/data/html-host-v2.zarr/")
             and status == 200 and p.rsplit("/", 1)[-1] in ("zarr.json", ".zattrs")]
    assert pages, html_host.counters.requests      # the host did answer with its page
    assert not page.errors, page.errors
