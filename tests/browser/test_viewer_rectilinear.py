"""The viewer on a rectilinear chunk grid (zarr-python >= 3.2): the image shows the array's pixels
(checked against numpy through zarrlite.render, nearest-neighbour display), and the chunk map draws
the chunks where they are - its cells are the grid's own chunks, the chunks never written marked."""

from __future__ import annotations

import numpy as np
import pytest
from test_viewer import check_pixels, open_viewer, settle, shot, zoom_in
from writers import zarr32_python

from zarrlite.render import render_plane

ROWS = [[9, 2], 30, [11, 3], 17]             # 9, 9, 30, 11, 11, 11, 17: 98 rows
COLS = [[16, 4], 3, [20, 2], 25]             # 16 x4, 3, 20, 20, 25: 132 columns
WRITTEN = [[[0, 60], [0, 132]], [[60, 98], [0, 67]]]   # the rest is never written (fill value 0)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 850}}


@pytest.fixture(scope="module")
def rect(server):
    root = server.data / "viewer-rectilinear.zarr"
    y, x = np.mgrid[0:98, 0:132]
    data = ((y * 7 + x * 3) % 251).astype("u1")
    return zarr32_python(root, data, chunks=[expand(ROWS), expand(COLS)], fill_value=0, regions=WRITTEN)


def expand(spec):
    out = []
    for e in spec:
        out += [e[0]] * e[1] if isinstance(e, list) else [e]
    return out


def test_viewer_draws_a_rectilinear_grid(page, server, rect):
    open_viewer(page, server, "?source=/data/viewer-rectilinear.zarr")
    settle(page)
    starts_y = list(np.cumsum([0] + expand(ROWS)))
    starts_x = list(np.cumsum([0] + expand(COLS)))
    assert page.evaluate("window.viewer.image.levels[0].bounds") == [starts_y, starts_x]
    page.fill("#win-lo", "0")
    page.fill("#win-hi", "250")
    page.press("#win-hi", "Enter")
    zoom_in(page, 1)
    check_pixels(page, render_plane(rect, window=(0, 250)), seed=3)
    page.locator("#chunkmap").check()
    page.wait_for_selector("#chunk-stats table")
    cells = page.evaluate("window.viewer.chunkInfo.res.cells")
    # every cell is a chunk of the grid; stored exactly where a written region touches it
    for row, col, n in cells:
        y0, y1, x0, x1 = starts_y[row], starts_y[row + 1], starts_x[col], starts_x[col + 1]
        written = any(a < y1 and b > y0 and c < x1 and d > x0 for (a, b), (c, d) in WRITTEN)
        assert (n is not None) == written, (row, col, n)
    assert any(n is None for *_, n in cells) and any(n is not None for *_, n in cells)
    stats = page.locator("#chunk-stats").inner_text()
    assert "not stored" in stats, stats
    shot(page, "rectilinear-chunkmap")
    assert not page.errors, page.errors
