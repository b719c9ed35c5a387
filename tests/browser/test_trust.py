"""Safe to open anything (issue 11), in the viewer page as a person meets it: nothing from a link runs
until they ask, no script but the site's own runs (Content-Security-Policy), hostile names and
attributes render as text, a huge attribute does not freeze the page, one malformed member does not
stop the rest of a source from opening."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from test_viewer import browser_context_args, check_pixels, open_viewer, settle, zoom_in  # noqa: F401
from zarrlite.render import render_plane

# Counts the page's zl.viewer calls by function name (window.viewerCalls), wrapping the Zarrlite instance
# the page stores in window.viewer.zl when it has started.
COUNT_VIEWER_CALLS = """(() => {
  window.viewerCalls = {};
  let app;
  Object.defineProperty(window, "viewer", { configurable: true, get: () => app, set: a => {
    app = a;
    let zl = a.zl;
    Object.defineProperty(a, "zl", { configurable: true, get: () => zl, set: z => {
      zl = z;
      if (!z) return;
      const call = z.viewer.bind(z);
      z.viewer = (fn, ...rest) => { window.viewerCalls[fn] = (window.viewerCalls[fn] ?? 0) + 1; return call(fn, ...rest); };
    } });
  } });
})()"""


@pytest.fixture(scope="module")
def plane(server):
    """A (96, 128) uint16 array at /data/trust-plane.zarr, values 0..999."""
    root = server.data / "trust-plane.zarr"
    data = (np.arange(96 * 128, dtype="<u2").reshape(96, 128) * 7 % 1000).astype("<u2")
    if not root.exists():
        a = zarr.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(48, 64), zarr_format=3)
        a[...] = data
    return data


def test_an_expression_from_a_link_is_shown_but_runs_only_on_apply(page, server, plane):
    page.add_init_script(COUNT_VIEWER_CALLS)
    open_viewer(page, server, "?source=/data/trust-plane.zarr&ch=1:0:999:gray&expr=np.log1p(x)")
    settle(page)
    zoom_in(page, 1)
    assert page.locator("#expr").input_value() == "np.log1p(x)"
    assert "link" in page.locator("#expr-status").inner_text()
    assert page.evaluate("window.viewerCalls.evaluate ?? 0") == 0
    check_pixels(page, render_plane(plane, window=(0, 999)), seed=20)     # the values themselves
    assert "expr=np.log1p(x)" in page.url                               # still in the link, still pending
    page.locator("#expr-form button[type=submit]").click()
    page.wait_for_function("document.getElementById('expr-status').textContent.startsWith('x: level')")
    settle(page)
    assert page.evaluate("window.viewerCalls.evaluate") >= 1
    page.fill("#win-lo", "2")
    page.fill("#win-hi", "7")
    page.press("#win-hi", "Enter")
    settle(page)
    check_pixels(page, render_plane(np.log1p(plane), window=(2, 7)), seed=21)
    assert not page.errors, page.errors
