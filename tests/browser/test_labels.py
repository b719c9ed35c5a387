"""Label overlays in the viewer, driven as a person would: the bundled coins sample (an OME image with a
`labels` group) shows its label images over the image; canvas pixels equal the label image coloured
by the palette rule (written out here with Python integers) and the listed `image-label.colors` (read
from the metadata with zarr-python); hovering names the id and its properties; outline mode shows only
the boundaries (numpy over the whole label image); each label image can be hidden. A uint64
segmentation in an N5 container is shown over an image beside it with "Show as labels"."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from test_viewer import SAMPLE, canvas_pixels, data_pixel_centres, open_viewer, settle, shot, view, zoom_in

COINS = SAMPLE / "coins.ome.zarr"
M = 2654435761
LABELS_IDLE = "() => window.viewer.labels && window.viewer.labels.idle() && window.viewer.idle()"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 850}}


def rule(v: int) -> tuple[int, int, int]:
    h = ((v % 2**64) * M) % 2**32
    return tuple(64 + ((h >> (8 * k)) & 255) * 191 // 255 for k in range(3))


@pytest.fixture(scope="module")
def coins():
    if not (COINS / "zarr.json").exists():
        pytest.fail("the bundled sample is missing: run ./build.sh (web/make_samples_ome.py writes it)")
    g = zarr.open_group(str(COINS), mode="r")
    lab = g["labels/coins"].attrs["ome"]["image-label"]
    return {"image": g["0"][...], "ids": g["labels/coins/0"][...],
            "colors": {c["label-value"]: tuple(c["rgba"][:3]) for c in lab["colors"]},
            "properties": {p["label-value"]: p for p in lab["properties"]}}


def boundary(ids):
    """Pixels with a 4-neighbour of another id (both sides of every edge)."""
    b = np.zeros(ids.shape, bool)
    b[1:] |= ids[1:] != ids[:-1]
    b[:-1] |= ids[1:] != ids[:-1]
    b[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    b[:, :-1] |= ids[:, 1:] != ids[:, :-1]
    return b


def expected(coins, outline=False, labels_on=True):
    """RGBA on screen at opacity 100%: the label colour over a labelled pixel, the grey image elsewhere."""
    img, ids = coins["image"], coins["ids"]
    out = np.stack([img, img, img, np.full_like(img, 255)], axis=-1)
    if not labels_on:
        return out
    show = (ids != 0) & (boundary(ids) if outline else True)
    for y, x in zip(*np.nonzero(show)):
        v = int(ids[y, x])
        out[y, x, :3] = coins["colors"].get(v) or rule(v)
    return out


def set_control(page, selector, value):
    page.evaluate("""([sel, value]) => { const el = document.querySelector(sel);
      if (el.type === "checkbox") el.checked = value; else el.value = String(value);
      el.dispatchEvent(new Event("input", { bubbles: true })); }""", [selector, value])


def check(page, want, seed, n=150):
    v = view(page)
    assert v["zoom"] >= 2
    pts, pix = data_pixel_centres(v, want.shape[:2], n=n, seed=seed)
    got = canvas_pixels(page, pts)
    bad = [(p, g, want[p].tolist()) for p, g in zip(pix, got) if g != want[p].tolist()]
    assert not bad, bad[:10]
    return pix


def open_coins(page, server):
    open_viewer(page, server, "?source=../sample/coins.ome.zarr")
    settle(page)
    page.wait_for_function("() => window.viewer.labels.overlays.length === 2")
    zoom_in(page, 1)
    page.wait_for_function(LABELS_IDLE)


def test_label_images_are_overlaid_in_their_colours(page, server, coins):
    open_coins(page, server)
    assert page.locator("#labels-box").is_visible()
    assert page.locator("#labels .label-row").count() == 2               # coins, size
    shot(page, "labels-default")
    set_control(page, "#label-opacity", 100)
    set_control(page, '#labels input[data-overlay="1"]', False)          # only the coins' ids
    page.wait_for_function(LABELS_IDLE)
    page.wait_for_timeout(100)
    pix = check(page, expected(coins), seed=1)
    ids = coins["ids"]
    listed = [p for p in pix if int(ids[p]) in coins["colors"]]
    assert any(int(ids[p]) == 0 for p in pix) and len({int(ids[p]) for p in pix}) > 5
    assert len(listed) < len(pix)                       # both listed colours and the palette were checked
    shot(page, "labels-opaque")
    # the id and its properties under the cursor
    v = view(page)
    ys, xs = np.nonzero(ids)
    inside = [(y, x) for y, x in zip(ys, xs) if abs(x + 0.5 - v["cx"]) * v["zoom"] < v["w"] / 2 - 4
              and abs(y + 0.5 - v["cy"]) * v["zoom"] < v["h"] / 2 - 4]
    y, x = inside[len(inside) // 2]
    page.mouse.move(v["left"] + (x + 0.5 - v["cx"]) * v["zoom"] + v["w"] / 2, v["top"] + (y + 0.5 - v["cy"]) * v["zoom"] + v["h"] / 2)
    label = int(ids[y, x])
    props = coins["properties"][label]
    page.wait_for_function("want => document.getElementById('label-hover').textContent.startsWith(want)", arg=f"coins {label} ")
    text = page.locator("#label-hover").inner_text()
    assert f"area (px) {props['area (px)']}" in text and f"mean intensity {props['mean intensity']:g}" in text, text
    assert int(np.count_nonzero(ids == label)) == props["area (px)"]
    assert page.evaluate("window.viewer.labels.hover[0].id") == label
    assert not page.errors, page.errors


def test_outline_mode_and_hiding_a_label_image(page, server, coins):
    open_coins(page, server)
    set_control(page, "#label-opacity", 100)
    set_control(page, '#labels input[data-overlay="1"]', False)
    set_control(page, "#label-outline", True)
    page.wait_for_function(LABELS_IDLE)
    page.wait_for_timeout(100)
    want = expected(coins, outline=True)
    pix = check(page, want, seed=2, n=250)
    ids = coins["ids"]
    assert any(int(ids[p]) != 0 and not boundary(ids)[p] for p in pix)   # inside a coin: the image shows
    # boundary pixels specifically (random points rarely fall on a line)
    v = view(page)
    edge = [(y, x) for y, x in zip(*np.nonzero(boundary(ids) & (ids != 0)))
            if abs(x + 0.5 - v["cx"]) * v["zoom"] < v["w"] / 2 - 2 and abs(y + 0.5 - v["cy"]) * v["zoom"] < v["h"] / 2 - 2]
    pts = [((x + 0.5 - v["cx"]) * v["zoom"] + v["w"] / 2, (y + 0.5 - v["cy"]) * v["zoom"] + v["h"] / 2) for y, x in edge[::37]]
    assert canvas_pixels(page, pts) == [want[p].tolist() for p in edge[::37]]
    shot(page, "labels-outline")
    set_control(page, '#labels input[data-overlay="0"]', False)         # every label image hidden
    page.wait_for_timeout(150)
    check(page, expected(coins, labels_on=False), seed=3)


def test_zoomed_out_labels_are_read_at_the_level_the_image_uses(page, server, coins):
    page.set_viewport_size({"width": 1000, "height": 700})              # a small stage zooms out further
    open_coins(page, server)
    box = page.locator("#stage").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(50)
    page.wait_for_function(LABELS_IDLE)
    assert page.evaluate("window.viewer.viewport.zoom") < 0.5
    info = page.locator("#level-info").inner_text()
    assert info.startswith("level 1/1"), info
    keys = page.evaluate("[...window.viewer.labels.loader.entries.keys()]")   # their level 1: 2 x 2 pixels each
    assert any(k.startswith("labels/coins|1|") for k in keys)
    assert page.evaluate("window.viewer.labels.drawnLevels") == {"labels/coins": 1, "labels/size": 1}
    assert not page.errors, page.errors


@pytest.fixture(scope="module")
def em_n5(server):
    """An N5 container with a uint8 image `raw` and a uint64 segmentation `seg` at half its resolution."""
    import tensorstore as ts

    root = server.data / "em.n5"
    yy, xx = np.mgrid[0:64, 0:80]
    seg = ((yy // 9) * 100 + (xx // 11) + 2**60).astype(np.uint64)
    seg[:9, :11] = 0
    raw = (np.arange(128 * 160) % 251).astype(np.uint8).reshape(128, 160)
    if not root.exists():
        for name, data, dtype in (("seg", seg, "uint64"), ("raw", raw, "uint8")):
            ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(root / name)},
                     "metadata": {"dimensions": list(data.shape[::-1]), "blockSize": [32, 32], "dataType": dtype,
                                  "compression": {"type": "gzip"}}, "create": True}).result().write(data.T).result()
        (root / "attributes.json").write_text('{"n5": "2.5.1"}')
    return raw, seg


def test_uint64_segmentation_beside_an_image_is_shown_as_labels(page, server, em_n5):
    raw, seg = em_n5
    open_viewer(page, server, "?source=/data/em.n5&path=raw")
    settle(page)
    page.wait_for_function("() => window.viewer.labels.idle() && document.querySelector('#label-path')")
    page.fill("#label-path", "seg")          # plain HTTP cannot list: the path is typed
    page.click("#label-add")
    page.wait_for_function("() => window.viewer.labels.overlays.length === 1")
    set_control(page, "#label-opacity", 100)
    zoom_in(page, 1)
    page.wait_for_function(LABELS_IDLE)
    page.wait_for_timeout(100)
    up = np.repeat(np.repeat(seg, 2, axis=0), 2, axis=1)          # a label pixel covers 2 x 2 image pixels
    want = np.stack([raw, raw, raw, np.full_like(raw, 255)], axis=-1)
    for y, x in zip(*np.nonzero(up)):
        want[y, x, :3] = rule(int(up[y, x]))
    check(page, want, seed=4)
    v = view(page)
    x, y = int(v["cx"]), int(v["cy"])
    page.mouse.move(v["left"] + v["w"] / 2 + 0.3, v["top"] + v["h"] / 2 + 0.3)
    page.wait_for_function("want => document.getElementById('label-hover').textContent === want", arg=f"seg {int(up[y, x])}")
    shot(page, "labels-segmentation")
    assert not page.errors, page.errors
