"""Three orthogonal views and projections in the viewer, driven as a person would, on the bundled phantom
volume (z, y, x uint8, voxels 2 x 1 x 1 µm, chunks 4 thick in z). Expectations come from the arrays read
with zarr-python and the window of the metadata (omero start 0, end 100), turned into grey by hand (the
page's float32 rule for 8-bit data: (v - lo) * 255 / (hi - lo), clipped, rounded half up); projections
are numpy's max and mean over the region and level the page reports."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from test_viewer import SAMPLE, open_viewer

PHANTOM = SAMPLE / "phantom.ome.zarr"
ARTIFACTS = SAMPLE.parents[2] / "tests" / "artifacts"
ORTHO_IDLE = """() => { const o = window.viewer.ortho; return o && o.active && o.idle()
  && [...document.querySelectorAll('.ortho-pane[data-view]')].slice(0, 3).every(p => p.dataset.complete === '1'); }"""


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


@pytest.fixture(scope="module")
def phantom():
    if not (PHANTOM / "zarr.json").exists():
        pytest.fail("the bundled volume is missing: run ./build.sh (web/make_samples_ome.py writes it)")
    g = zarr.open_group(str(PHANTOM), mode="r")
    ms = g.attrs["ome"]["multiscales"][0]
    win = g.attrs["ome"]["omero"]["channels"][0]["window"]
    return {"levels": [g[d["path"]][...] for d in ms["datasets"]], "window": (win["start"], win["end"]),
            "aspect": ms["datasets"][0]["coordinateTransformations"][0]["scale"][0]
            / ms["datasets"][0]["coordinateTransformations"][0]["scale"][2]}


def grey(values, window):
    """RGBA of 8-bit values under a window, as float32 arithmetic gives it."""
    lo, hi = window
    x = (values.astype(np.float32) - np.float32(lo)) * np.float32(np.float32(255) / np.float32(hi - lo))
    g = np.trunc(np.clip(x, 0, 255).astype(np.float32) + np.float32(0.5)).astype(np.uint8)
    return np.stack([g, g, g, np.full_like(g, 255)], axis=-1)


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ortho-{name}.png"))


def open_views(page, server, source="../sample/phantom.ome.zarr"):
    open_viewer(page, server, f"?source={source}")
    page.wait_for_selector("#ortho-box:not([hidden])")
    page.check("#ortho-on")
    page.wait_for_selector("#ortho:not([hidden])")


def pane(page, name):
    return page.evaluate("""v => { const p = window.viewer.ortho.panes[v]; const r = p.el.getBoundingClientRect();
      return {zoom: p.viewport.zoom, cx: p.viewport.cx, cy: p.viewport.cy, w: p.viewport.width, h: p.viewport.height,
              left: r.left, top: r.top, aspect: p.aspect, dims: p.dims, level: Number(p.el.dataset.level)}; }""", name)


def set_view(page, name, zoom, cx, cy):
    page.evaluate("""([v, zoom, cx, cy]) => { const vp = window.viewer.ortho.panes[v].viewport;
      vp.zoom = zoom; vp.cx = cx; vp.cy = cy; vp.onChange(); }""", [name, zoom, cx, cy])
    page.wait_for_function(ORTHO_IDLE)
    page.wait_for_timeout(100)
    page.wait_for_function(ORTHO_IDLE)


def screen_of(p, row, col):
    """CSS point (relative to the pane) of the centre of level-0 pixel (row, col) of a view."""
    return ((col + 0.5 - p["cx"]) * p["zoom"] + p["w"] / 2, ((row + 0.5) * p["aspect"] - p["cy"]) * p["zoom"] + p["h"] / 2)


def check_view(page, name, want, seed):
    """Pixels of a view at the centres of random data pixels on screen equal `want` (rows, cols, 4)."""
    p = pane(page, name)
    assert p["zoom"] >= 2 and p["level"] == 0
    rng = np.random.default_rng(seed)
    pts, pix = [], []
    while len(pts) < 80:
        r, c = int(rng.integers(0, want.shape[0])), int(rng.integers(0, want.shape[1]))
        x, y = screen_of(p, r, c)
        if 2 < x < p["w"] - 2 and 2 < y < p["h"] - 2:
            pts.append((x, y)); pix.append((r, c))
    got = page.evaluate("""([v, pts]) => { const c = window.viewer.ortho.panes[v].screen.canvas; const g = c.getContext("2d");
      return pts.map(([x, y]) => Array.from(g.getImageData(Math.floor(x * devicePixelRatio), Math.floor(y * devicePixelRatio), 1, 1).data)); }""",
                        [name, pts])
    bad = [(q, g, want[q].tolist()) for q, g in zip(pix, got) if g != want[q].tolist()]
    assert not bad, bad[:8]


def click_at(page, name, row, col):
    p = pane(page, name)
    x, y = screen_of(p, row, col)
    page.mouse.click(p["left"] + x, p["top"] + y)


def test_views_equal_numpy_planes_and_the_crosshair_moves_them(page, server, phantom):
    open_views(page, server)
    page.wait_for_function(ORTHO_IDLE)
    a, win = phantom["levels"][0], phantom["window"]
    Z, Y, X = a.shape
    z, y, x = page.evaluate("window.viewer.index")
    assert (z, y, x) == ((Z - 1) // 2, (Y - 1) // 2, (X - 1) // 2)
    assert pane(page, "xz")["aspect"] == phantom["aspect"] == 2.0
    assert "XZ at full resolution reads" in page.inner_text("#ortho-note")   # chunks 4 thick in z: said
    shot(page, "fit")
    for name in ("xy", "xz", "yz"):
        p = pane(page, name)
        set_view(page, name, 3, p["cx"], p["cy"])
    check_view(page, "xz", grey(a[:, y, :], win), seed=1)
    check_view(page, "yz", grey(a[:, :, x], win), seed=2)
    check_view(page, "xy", grey(a[z], win), seed=3)
    # the coarse level was read first, then the one that suits the zoom (level 0)
    levels = page.evaluate("[...window.viewer.ortho.panes.xz.loader.entries.keys()].map(k => k.split('|')[0])")
    assert {"0", "1"} <= set(levels)
    # a click in XY moves the planes of XZ (its row) and YZ (its column)
    y1, x1 = y + 17, x - 23
    click_at(page, "xy", y1, x1)
    page.wait_for_function(f"() => window.viewer.index[1] === {y1} && window.viewer.index[2] === {x1}")
    page.wait_for_function(ORTHO_IDLE)
    page.wait_for_timeout(100)
    page.wait_for_function(ORTHO_IDLE)
    check_view(page, "xz", grey(a[:, y1, :], win), seed=4)
    check_view(page, "yz", grey(a[:, :, x1], win), seed=5)
    # a click in XZ moves the plane of XY (z) and of YZ (x)
    z2, x2 = z - 9, x1 + 11
    click_at(page, "xz", z2, x2)
    page.wait_for_function(f"() => window.viewer.index[0] === {z2} && window.viewer.index[2] === {x2}")
    page.wait_for_function(ORTHO_IDLE)
    page.wait_for_timeout(100)
    page.wait_for_function(ORTHO_IDLE)
    check_view(page, "xy", grey(a[z2], win), seed=6)
    check_view(page, "yz", grey(a[:, :, x2], win), seed=7)
    shot(page, "crosshair")
    assert not page.errors


def run_projection(page, kind, axis_name, budget=None):
    if budget is not None:
        page.evaluate(f"() => {{ window.viewer.ortho.budget = {budget}; }}")
    page.select_option("#ortho-kind", kind)
    page.select_option("#ortho-axis", label=f"along {axis_name}")
    page.click("#ortho-project button[type=submit]")
    page.wait_for_function("() => ['done', 'failed', 'cancelled'].includes(window.viewer.ortho.progress.state) && !window.viewer.ortho.running")
    assert page.evaluate("window.viewer.ortho.progress.state") == "done", page.inner_text("#ortho-status")
    return page.evaluate("""() => { const p = window.viewer.ortho.projection; const c = p.channels[0];
      return {level: p.level, region: c.region, shape: c.shape, slabs: c.slabs, data: Array.from(c.data, Number)}; }""")


@pytest.mark.parametrize("axis", ["z", "y", "x"])
def test_projection_equals_numpy_max_and_mean(page, server, phantom, axis):
    open_views(page, server)
    page.wait_for_function(ORTHO_IDLE)
    d = "zyx".index(axis)
    for kind, budget in (("max", None), ("mean", None), ("max", 20_000)):
        got = run_projection(page, kind, axis, budget)
        a = phantom["levels"][got["level"]]
        sl = [slice(None)] * 3
        for k, (lo, hi) in got["region"].items():
            sl[int(k)] = slice(lo, hi)
        part = a[tuple(sl)]
        want = part.max(axis=d) if kind == "max" else part.mean(axis=d, dtype=np.float64)
        assert got["shape"] == list(want.shape)
        assert got["slabs"] == -(-a.shape[d] // (4 if d == 0 else 64))
        data = np.array(got["data"]).reshape(want.shape)
        if kind == "max":
            np.testing.assert_array_equal(data, want)
        else:
            np.testing.assert_allclose(data, want, rtol=1e-12)
        if budget is not None and axis == "z":
            assert got["level"] == 1       # level 0's slab and sums (160 x 160 x 14 bytes) do not fit 20 kB
        elif budget is None:
            assert got["level"] == 0
    assert "slabs" in page.inner_text("#ortho-status")
    shot(page, f"projection-{axis}")


def test_projection_shows_progress_and_cancels(page, server):
    """Under /slow/ every read answers after 0.25 s: a projection over 16 slabs takes seconds, its progress
    is shown as slabs arrive, and Cancel stops it (the call rejects, the worker drops its task)."""
    open_views(page, server, "/slow/sample/phantom.ome.zarr")
    page.wait_for_function("() => window.viewer.ortho.active")
    page.select_option("#ortho-axis", label="along z")
    page.click("#ortho-project button[type=submit]")
    page.wait_for_function("() => window.viewer.ortho.progress.done >= 1 && window.viewer.ortho.progress.total === 16")
    text = page.inner_text("#ortho-status")
    assert "/ 16 slabs" in text
    assert page.evaluate("document.getElementById('ortho-progress').value") > 0
    page.click("#ortho-cancel")
    page.wait_for_function("() => window.viewer.ortho.progress.state === 'cancelled' && !window.viewer.ortho.running")
    assert page.inner_text("#ortho-status") == "cancelled"
    assert page.evaluate("window.viewer.ortho.projection") is None
    # the worker's task is gone: its progress left the session when the cancellation reached it
    token = page.evaluate("window.viewer.ortho.progress.token")
    page.wait_for_function("async t => (await window.viewer.zl.viewer('projection_progress', [t])) === null", arg=token)
    shot(page, "cancelled")
    assert not page.errors
