"""Plates in the viewer: the bundled 2 x 3 sample opens as a grid of its wells, named as its metadata
says, each with the thumbnail of its first field's lowest level (pixels against numpy); a well opens
its fields and a field its image. A test-generated 96-well plate served here is read for the whole
overview with a few requests per well, counted by the server, and timed (numbers printed and written
to tests/artifacts/plate-overview.json); on a 384-well plate, thumbnails load only for the wells in
view, and scrolling past wells cancels their loads."""

from __future__ import annotations

import json
import shutil
import sys
import time
import warnings

import numpy as np
import pytest
import zarr

from test_viewer import ARTIFACTS, ROOT, SAMPLE, open_viewer
from writers import manual_group2, manual_zarr2

sys.path.insert(0, str(ROOT / "web"))
from make_samples_ome import write_plate  # noqa: E402  (zarr-python)

PLATE = SAMPLE / "plate.ome.zarr"
ROWS96, COLS96 = list("ABCDEFGH"), [str(i) for i in range(1, 13)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 850}}


def wait_overview(page):
    page.wait_for_function("() => window.viewer.plates.stats.full !== null", timeout=120_000)


def thumbnail_pixels(page, path):
    return page.evaluate("""path => { const c = document.querySelector(`button.well[data-well="${path}"] canvas`);
      return {w: c.width, h: c.height, data: Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data)}; }""", path)


def test_sample_plate_grid_thumbnails_and_a_well_opened(page, server):
    if not (PLATE / ".zgroup").exists():
        pytest.fail("the bundled plate is missing: run ./build.sh (web/make_samples_ome.py writes it)")
    meta = zarr.open_group(str(PLATE), mode="r").attrs["plate"]
    open_viewer(page, server, "?source=../sample/plate.ome.zarr")
    wait_overview(page)
    assert page.locator("#plate").is_visible()
    wells = page.locator("button.well")
    want_names = sorted(meta["rows"][w["rowIndex"]]["name"] + meta["columns"][w["columnIndex"]]["name"] for w in meta["wells"])
    assert sorted(wells.all_inner_texts()) == want_names == ["A1", "A2", "A3", "B1", "B2", "B3"]
    assert page.locator(".plate-row").all_inner_texts() == ["A", "B"]
    assert page.locator(".plate-col").all_inner_texts() == ["1", "2", "3"]
    assert page.locator("button.well canvas").count() == 6
    # a thumbnail: the lowest level (2) of field 0, grey, windowed by its 0.1 / 99.9 percentiles
    low = zarr.open_array(str(PLATE / "B" / "2" / "0" / "2"), mode="r")[...]
    lo, hi = np.percentile(low, [0.1, 99.9])
    want = np.clip(np.round((low.astype(np.float64) - lo) / (hi - lo) * 255), 0, 255)
    got = thumbnail_pixels(page, "B/2")
    assert (got["h"], got["w"]) == low.shape
    rgba = np.array(got["data"]).reshape(low.shape + (4,))
    assert np.abs(rgba[..., 0] - want).max() <= 1 and (rgba[..., 3] == 255).all()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-plate.png"))
    page.click('button.well[data-well="B/2"]')
    page.wait_for_function("() => document.querySelectorAll('button.field canvas').length === 2")
    assert page.locator("button.field").count() == 2
    page.screenshot(path=str(ARTIFACTS / "viewer-plate-well.png"))
    page.click('button.field[data-field="B/2/1"]')
    page.wait_for_function("() => window.viewer.image && window.viewer.image.path === 'B/2/1' && window.viewer.idle()")
    assert page.locator("#plate").is_hidden()
    assert page.evaluate("window.viewer.image.levels.length") == 3
    page.screenshot(path=str(ARTIFACTS / "viewer-plate-field.png"))
    page.click('#tree button.node[data-path=""]')                     # back to the plate
    page.wait_for_function("() => !document.getElementById('plate').hidden && document.querySelectorAll('button.well canvas').length === 6")
    assert not page.errors, page.errors


def plate_v2_by_hand(root, rows, cols, shape=(64, 64), chunks=(32, 32), levels=2):
    """An OME-NGFF 0.4 plate (Zarr v2) written JSON and raw bytes by hand, one field per well: fast for
    hundreds of wells. Each well's field is a constant image (its well number) in `levels` levels."""
    wells = [{"path": f"{r}/{c}", "rowIndex": i, "columnIndex": j} for i, r in enumerate(rows) for j, c in enumerate(cols)]
    manual_group2(root, {"plate": {"version": "0.4", "name": root.name, "rows": [{"name": r} for r in rows],
                                   "columns": [{"name": c} for c in cols], "wells": wells, "field_count": 1}})
    for k, w in enumerate(wells):
        manual_group2(root / w["path"].split("/")[0])
        manual_group2(root / w["path"], {"well": {"version": "0.4", "images": [{"path": "0"}]}})
        image = root / w["path"] / "0"
        manual_group2(image, {"multiscales": [{"version": "0.4", "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                                               "datasets": [{"path": str(lv), "coordinateTransformations": [{"type": "scale", "scale": [2.0 ** lv] * 2}]}
                                                            for lv in range(levels)]}]})
        for lv in range(levels):
            size = (shape[0] >> lv, shape[1] >> lv)
            manual_zarr2(image / str(lv), np.full(size, k, np.uint16), tuple(min(c, s) for c, s in zip(chunks, size)))


@pytest.fixture(scope="module")
def plates(server):
    """96-well plates as OME-NGFF 0.5 (Zarr v3, zarr-python) and 0.4 (Zarr v2, by hand; and the same with
    consolidated metadata, by zarr-python), and a 384-well one."""
    v3 = server.data / "plate96-v3.zarr"
    if not v3.exists():
        fields = {(r, c): [np.full((64, 64), 12 * r + c, np.uint16)] for r in range(8) for c in range(12)}
        write_plate(v3, fields, ROWS96, COLS96, zarr_format=3, n_levels=2, chunks=(32, 32), name="96 wells")
    v2 = server.data / "plate96-v2.zarr"
    if not v2.exists():
        plate_v2_by_hand(v2, ROWS96, COLS96)
    consolidated = server.data / "plate96-v2c.zarr"
    if not consolidated.exists():
        shutil.copytree(v2, consolidated)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # zarr-python calls consolidated metadata non-standard in v3
            zarr.consolidate_metadata(str(consolidated))
    big = server.data / "plate384-v2.zarr"
    if not big.exists():
        plate_v2_by_hand(big, [chr(65 + i) for i in range(16)], [str(i) for i in range(1, 25)], shape=(32, 32), chunks=(16, 16))
    return {"v3": v3.name, "v2": v2.name, "v2-consolidated": consolidated.name, "384": big.name}


@pytest.mark.parametrize("fmt", ["v3", "v2", "v2-consolidated"])
def test_96_well_overview_requests_and_time(page, server, plates, fmt):
    name = plates[fmt]
    open_viewer(page, server, "")
    server.counters.reset()
    t0 = time.perf_counter()
    page.fill("#url", f"/data/{name}")
    page.press("#url", "Enter")
    wait_overview(page)
    wall = time.perf_counter() - t0
    stats = page.evaluate("window.viewer.plates.stats")
    assert page.locator("button.well").count() == 96 and page.locator("button.well canvas").count() == 96
    assert sorted(page.locator("button.well").all_inner_texts()) == sorted(r + c for r in ROWS96 for c in COLS96)
    requests = [(p, s) for p, _, s in server.counters.requests if p.startswith(f"/data/{name}")]
    chunks = [p for p, s in requests if s == 200 and p.rsplit("/", 1)[-1][0].isdigit() or "/c/" in p]
    # per well: the well's, the field's and the lowest level's metadata (one zarr.json each; v2: .zarray and
    # .zattrs, and .zgroup for the two groups; none when consolidated), and its one chunk
    metadata = {"v3": 3, "v2": 3 + 3 + 2, "v2-consolidated": 0}[fmt]
    assert len({p for p in chunks}) == 96
    assert len(requests) <= 96 * (metadata + 1) + 12, len(requests)
    result = {"plate": name, "wells": 96, "requests": len(requests), "requests_per_well": round(len(requests) / 96, 2),
              "chunk_requests": len(chunks), "overview_ms_in_page": round(stats["full"]), "wall_s": round(wall, 2)}
    print(json.dumps(result))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / "plate-overview.json"
    saved = json.loads(out.read_text()) if out.exists() else {}
    saved[fmt] = result
    out.write_text(json.dumps(saved, indent=1))
    page.screenshot(path=str(ARTIFACTS / f"viewer-plate96-{fmt}.png"))
    assert not page.errors, page.errors


JUMP_AWAY = """() => {
  const loading = [...window.viewer.plates.loader.inflight.values()].map(l => l.entry.meta.path);
  const s = document.querySelector(".plate-scroll");
  s.scrollTop = s.scrollHeight; s.scrollLeft = s.scrollWidth;    // to the far corner, at once
  return loading;
}"""


def test_384_wells_load_lazily_and_scrolling_cancels(page, server, plates):
    name = plates["384"]
    page.set_viewport_size({"width": 1000, "height": 700})
    open_viewer(page, server, "")
    server.counters.reset()
    page.fill("#url", f"/data/{name}")
    page.press("#url", "Enter")
    page.wait_for_function("() => window.viewer.plates.stats.shown > 0 && !window.viewer.plates.loader.loading")
    page.wait_for_timeout(200)
    shown = page.evaluate("window.viewer.plates.stats.shown")
    in_view = page.evaluate("""() => { const s = document.querySelector(".plate-scroll").getBoundingClientRect();
      return [...document.querySelectorAll("button.well")].filter(b => { const r = b.getBoundingClientRect();
        return r.bottom > s.top && r.top < s.bottom && r.right > s.left && r.left < s.right; }).length; }""")
    assert 0 < in_view <= shown < 384 // 2, (in_view, shown)          # the wells in view (and a margin), not all
    wells_read = {p.split("/")[3] + p.split("/")[4] for p, _, _ in server.counters.requests if p.count("/") >= 5}
    assert len(wells_read) == shown
    # the same plate from a slow server (every answer 0.25 s late): scroll away while thumbnails load
    page.fill("#url", f"/slow/data/{name}")
    page.press("#url", "Enter")
    page.wait_for_function("() => window.viewer.plates.loader.loading >= 4")
    loading = page.evaluate(JUMP_AWAY)
    page.wait_for_function("() => window.viewer.plates.stats.shown > 0 && !window.viewer.plates.loader.loading && !window.viewer.plates.loader.queued", timeout=120_000)
    aborts = page.evaluate("window.viewer.plates.loader.aborts")
    painted = set(page.evaluate("[...window.viewer.plates.thumbs.keys()]"))
    print(json.dumps({"in_view_first": in_view, "shown_first": shown, "loading_when_scrolled": len(loading),
                      "aborted": aborts, "shown_after_scroll": len(painted)}))
    assert len(loading) >= 4 and aborts >= len(loading)
    assert not painted & set(loading)                  # what scrolled away was cancelled, never drawn
    assert "P/24" in painted                           # the far corner was drawn
    assert not page.errors, page.errors
