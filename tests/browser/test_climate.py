"""The viewer on the bundled climate-like sample (web/make_samples_climate.py, written by xarray): the
sliders, the cursor readout and the axis ticks say coordinate values as xarray decodes them (a noleap
calendar too), packed values are shown unpacked and the land mask is drawn transparent, a click plots
the time series xarray reads at that pixel (CSV copied), and the root group shows as the dataset
xarray lists. Screenshots under tests/artifacts/climate-*.png."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import xarray as xr

from test_viewer import ARTIFACTS, SAMPLE, open_viewer, settle

BACKGROUND = [11, 12, 15]           # the stage's colour (paint.js Screen.begin): what a transparent pixel shows


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 850}}


def decoded(name):
    path = SAMPLE / name
    if not (path / ("zarr.json" if name == "climate.zarr" else ".zgroup")).exists():
        pytest.fail("the climate sample is missing: run ./build.sh (web/make_samples_climate.py writes it)")
    return xr.open_zarr(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))


def iso(v) -> str:
    return v.isoformat()


def screen_of(page, x, y):
    """CSS pixel (page coordinates) of the centre of level-0 pixel (x, y)."""
    return page.evaluate("""([x, y]) => { const v = window.viewer.viewport, r = document.getElementById("stage").getBoundingClientRect();
      const [sx, sy] = v.toScreen(x + 0.5, y + 0.5); return [r.left + sx, r.top + sy]; }""", [x, y])


def set_index(page, d, i):
    page.evaluate("""([d, i]) => { const el = document.querySelector(`#dims input[type=number][data-dim="${d}"]`);
      el.value = String(i); el.dispatchEvent(new Event("input")); }""", [d, i])


@pytest.mark.parametrize("name", ["climate.zarr", "climate-v2.zarr"])
def test_readouts_mask_and_plot_equal_xarray(page, server, context, name):
    ds = decoded(name)
    open_viewer(page, server, f"?source=../sample/{name}&path=sst")
    settle(page)
    assert page.evaluate("window.viewer.image.path") == "sst"
    # the slider of model_time (noleap) says the date xarray decodes there
    set_index(page, 0, 17)
    settle(page)
    assert page.locator('#dims .coord[data-dim="0"]').inner_text() == iso(ds.model_time.values[17])
    set_index(page, 0, 1459)          # 2001-12-31T18:00 in a 365-day year
    settle(page)
    assert page.locator('#dims .coord[data-dim="0"]').inner_text() == iso(ds.model_time.values[1459]) == "2001-12-31T18:00:00"
    t = 1459
    # the readout at an ocean pixel and at a land one
    land = np.isnan(ds.sst[t].values)
    for y, x in ((20, 9), (10, 21)):
        sx, sy = screen_of(page, x, y)
        page.mouse.move(sx, sy)
        page.wait_for_function("([x, y]) => window.viewer.readout && window.viewer.readout.x === x && window.viewer.readout.y === y", arg=[x, y])
        text = page.locator("#readout").inner_text()
        lon, lat = ds.lon.values[x], ds.lat.values[y]
        assert f"lon {lon:g}°E" in text and f"lat {abs(lat):g}°{'S' if lat < 0 else 'N'}" in text, text
        assert f"model_time {iso(ds.model_time.values[t])}" in text
        if land[y, x]:
            assert "missing" in text
        else:
            want = float(ds.sst[t, y, x].values)
            got = page.evaluate("window.viewer.readout.values[0].raw")
            assert got == pytest.approx(want, rel=1e-6) and "degC" in text
    # masked pixels are transparent: the stage shows through at every land cell, and nowhere else
    pixels = page.evaluate("""(cells) => { const c = document.getElementById("canvas"), g = c.getContext("2d"),
        r = c.getBoundingClientRect(), k = c.width / r.width, v = window.viewer.viewport;
      return cells.map(([x, y]) => { const [sx, sy] = v.toScreen(x + 0.5, y + 0.5);
        return Array.from(g.getImageData(Math.floor(sx * k), Math.floor(sy * k), 1, 1).data); }); }""",
        [[x, y] for y in range(land.shape[0]) for x in range(land.shape[1])])
    shown = np.array(pixels).reshape(land.shape + (4,))
    is_bg = (shown[..., :3] == BACKGROUND).all(axis=-1)
    assert land.sum() > 100 and np.array_equal(is_bg, land)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"climate-{name.split('.')[0]}-sst.png"))
    # a click plots the time series there, as xarray reads it
    y, x = 20, 9
    sx, sy = screen_of(page, x, y)
    page.mouse.click(sx, sy)
    page.wait_for_function("([x, y]) => { const p = window.viewer.plot; return p.data && p.shownAt.x === x && p.shownAt.y === y; }", arg=[x, y])
    p = page.evaluate("window.viewer.plot.data")
    np.testing.assert_allclose(p["values"], ds.sst[:, y, x].values, rtol=1e-6)
    assert p["labels"] == [iso(v) for v in ds.model_time.values]
    assert p["xName"] == "model_time" and p["units"] == "degC"
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#plot-box .plot-csv")
    page.wait_for_function("() => document.querySelector('#plot-box .plot-status').textContent === 'copied as CSV'")
    rows = list(csv.reader(io.StringIO(page.evaluate("navigator.clipboard.readText()"))))
    assert rows[0] == ["model_time", "Sea surface temperature (degC)"]
    assert [r[0] for r in rows[1:]] == p["labels"]
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], ds.sst[:, y, x].values, rtol=1e-6)
    page.screenshot(path=str(ARTIFACTS / f"climate-{name.split('.')[0]}-plot.png"))
    # shift-hover follows the cursor to a land pixel: a line of nothing
    sx, sy = screen_of(page, 21, 10)
    page.keyboard.down("Shift")
    page.mouse.move(sx, sy)
    page.keyboard.up("Shift")
    page.wait_for_function("() => { const p = window.viewer.plot; return p.data && p.shownAt.x === 21 && p.shownAt.y === 10; }")
    assert all(v is None or np.isnan(v) for v in page.evaluate("window.viewer.plot.data.values"))
    assert not page.errors, page.errors


def test_axis_ticks_are_coordinate_values(page, server):
    ds = decoded("climate.zarr")
    open_viewer(page, server, "?source=../sample/climate.zarr&path=tas")
    settle(page)
    page.wait_for_function("() => document.querySelectorAll('#axis-ticks .tick.x').length > 2 && document.querySelectorAll('#axis-ticks .tick.y').length > 2")
    ticks = page.evaluate("""() => { const r = document.getElementById("stage").getBoundingClientRect();
      return [...document.querySelectorAll("#axis-ticks .tick")].map(t => { const b = t.getBoundingClientRect();
        return {axis: t.classList.contains("x") ? "x" : "y", label: t.textContent, cx: b.left - r.left + b.width / 2,
          cy: b.top - r.top + b.height / 2}; }); }""")
    vp = page.evaluate("(() => { const v = window.viewer.viewport; return {cx: v.cx, cy: v.cy, zoom: v.zoom, w: v.width, h: v.height}; })()")
    lon, lat = ds.lon.values, ds.lat.values
    for t in ticks:
        if t["axis"] == "x":     # at the screen position of that longitude (between cell centres: interpolated)
            value = float(t["label"].rstrip("°E"))
            assert t["label"].endswith("°E") and lon[0] <= value <= lon[-1]
            at = np.interp(value, lon, np.arange(lon.size) + 0.5)
            assert abs(t["cx"] - ((at - vp["cx"]) * vp["zoom"] + vp["w"] / 2)) < 1.5
        else:
            value = float(t["label"][:-2]) * (-1 if t["label"].endswith("S") else 1)
            at = np.interp(value, lat[::-1], (np.arange(lat.size) + 0.5)[::-1])
            assert abs(t["cy"] - ((at - vp["cy"]) * vp["zoom"] + vp["h"] / 2)) < 1.5
    # the histogram (and its label) is drawn once the view has rested 200 ms: wait for it, then check
    page.wait_for_function("() => document.getElementById('contrast-label').textContent !== ''")
    assert page.locator("#contrast-label").inner_text().startswith("Near-surface air temperature (K)")
    assert page.locator('#dims .coord[data-dim="0"]').inner_text() == ds.time.values[page.evaluate("window.viewer.index[0]")].isoformat()
    page.screenshot(path=str(ARTIFACTS / "climate-ticks.png"))
    assert not page.errors, page.errors


def test_dataset_view_lists_what_xarray_lists(page, server):
    ds = decoded("climate.zarr")
    open_viewer(page, server, "?source=../sample/climate.zarr&path=")   # the root group: the dataset
    page.wait_for_function("() => window.viewer.datasets.shown !== null")
    shown = page.evaluate("window.viewer.datasets.shown")
    assert [v["name"] for v in shown["variables"]] == sorted(ds.data_vars)
    assert sorted(c["name"] for c in shown["coordinates"]) == sorted(ds.coords)
    rows = page.locator(".dataset table.vars").first.locator("tr").all_inner_texts()[1:]
    for row, v in zip(rows, sorted(ds.data_vars)):
        cells = row.split("\t")
        assert cells[0] == v and cells[1] == " × ".join(f"{d}: {n}" for d, n in ds[v].sizes.items())
        assert cells[3:] == [ds[v].attrs["units"], ds[v].attrs["long_name"]]
    attrs = dict(r.split("\t", 1) for r in page.locator(".dataset table.kv tr").all_inner_texts())
    assert attrs == {k: str(v) for k, v in ds.attrs.items()}
    page.screenshot(path=str(ARTIFACTS / "climate-dataset.png"))
    page.click('.dataset button.link[data-path="tas"]')            # choosing a variable shows it
    page.wait_for_function("() => window.viewer.image && window.viewer.image.path === 'tas'")
    settle(page)
    assert page.locator(".dataset").is_hidden()
    assert not page.errors, page.errors
