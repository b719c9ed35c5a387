"""zarrlite.explore in CPython with the real ipywidgets: the controls an array's axes call for, and every
change (a slider, the contrast window, the colormap, a channel toggle) re-rendering the image to what is
computed here by hand from the data zarr-python wrote: a window (lo, hi) maps v to round((v - lo) * 255 /
(hi - lo)), clipped, and the data are chosen so that is exact."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import zarrlite
from test_notebook import decode_png

pytest.importorskip("ipywidgets")

SHAPE = (5, 40, 48)


def levels(shape) -> np.ndarray:
    """Grey levels 0..255, different in every plane (plane z: (37 z + 48 y + x) mod 256)."""
    z, y, x = np.indices(shape)
    return (37 * z + 48 * y + x) % 256


@pytest.fixture
def stack(tmp_path):
    data = (3 * levels(SHAPE)).astype(np.uint16)       # window (0, 765) shows level k as k
    z = zarr.create_array(str(tmp_path / "stack.zarr"), shape=SHAPE, chunks=(1, 16, 16), dtype="u2")
    z[:] = data
    return zarrlite.open(str(tmp_path / "stack.zarr")), data


def image_of(ex) -> np.ndarray:
    rgba = decode_png(bytes(ex.image.value))
    assert rgba.shape[2] in (3, 4) and (rgba.shape[2] == 3 or (rgba[..., 3] == 255).all())
    return rgba[..., :3]


def gray(k) -> np.ndarray:
    return np.repeat(np.asarray(k, np.uint8)[..., None], 3, axis=2)


def test_sliders_move_through_planes(stack):
    arr, data = stack
    ex = zarrlite.explore(arr, window=(0, 765))
    assert ex.error is None
    assert list(ex.sliders) == [0] and (ex.sliders[0].min, ex.sliders[0].max) == (0, 4)
    assert ex.sliders[0].value == 2                              # the middle plane first
    np.testing.assert_array_equal(image_of(ex), gray(levels(SHAPE)[2]))
    for z in (4, 0, 3):
        ex.sliders[0].value = z
        assert ex.index[0] == z
        np.testing.assert_array_equal(image_of(ex), gray(levels(SHAPE)[z]))
    assert "[3,:,:]" in ex.caption.value and "window 0..765" in ex.caption.value


def test_contrast_and_colormap(stack):
    arr, data = stack
    ex = zarrlite.explore(arr)
    # auto: the 0.1-99.9 percentiles of the plane shown (numpy's, on the plane zarr-python reads)
    lo, hi = np.percentile(data[2], (0.1, 99.9))
    assert ex.window_mode.value == "auto"
    np.testing.assert_allclose(ex.window.value, (lo, hi))
    ex.window.value = (0, 1530)                                  # a person drags the contrast slider
    assert ex.window_mode.value == "manual"
    k = levels(SHAPE)[2]
    np.testing.assert_array_equal(image_of(ex), gray((k + 1) // 2))   # k / 2 rounded half up
    ex.sliders[0].value = 1                                     # the manual window stays
    np.testing.assert_array_equal(image_of(ex), gray((levels(SHAPE)[1] + 1) // 2))
    ex.window_mode.value = "full"                                # the plane's min..max
    plane = data[1].astype(np.float64)
    want = np.floor((plane - plane.min()) * 255 / (plane.max() - plane.min()) + 0.5)
    assert ex.window.value == (plane.min(), plane.max())
    got = image_of(ex)[..., 0].astype(np.int64)
    assert np.abs(got - want).max() <= 1 and (got == want).mean() > 0.99   # float32 arithmetic at .5
    ex.window.value = (0, 765)
    ex.colormap.value = "viridis"
    table = zarrlite.render.lut("viridis")
    np.testing.assert_array_equal(image_of(ex), table[levels(SHAPE)[1]])
    ex.invert.value = True
    np.testing.assert_array_equal(image_of(ex), table[255 - levels(SHAPE)[1]])


@pytest.fixture
def channels(tmp_path):
    """An OME-Zarr 0.5 image (c, z, y, x) = (3, 4, 32, 40), red, green and blue channels of window (0, 765)."""
    shape = (3, 4, 32, 40)
    k = np.stack([np.roll(levels(shape[1:]), 11 * c, axis=2) for c in range(3)])
    root = zarr.open_group(str(tmp_path / "img.ome.zarr"), mode="w", zarr_format=3)
    axes = [{"name": "c", "type": "channel"}] + [{"name": n, "type": "space"} for n in "zyx"]
    root.attrs.put({"ome": {"version": "0.5", "multiscales": [{"axes": axes, "datasets": [
        {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0] * 4}]}]}],
        "omero": {"channels": [{"label": name, "color": color, "window": {"start": 0, "end": 765}}
                               for name, color in (("r", "FF0000"), ("g", "00FF00"), ("b", "0000FF"))]}}})
    a = root.create_array("0", shape=shape, chunks=(1, 1, 16, 16), dtype="u2")
    a[:] = 3 * k
    return zarrlite.open(str(tmp_path / "img.ome.zarr")), k


def test_channel_toggles(channels):
    group, k = channels
    ex = zarrlite.explore(group)
    assert ex.error is None
    assert list(ex.sliders) == [0, 1] and ex.sliders[0].disabled        # c (composite), z
    assert [t.description for t in ex.channel_toggles] == ["r", "g", "b"]
    z = ex.index[1]
    assert z == 1                                                        # (4 - 1) // 2
    np.testing.assert_array_equal(image_of(ex), np.moveaxis(k[:, z], 0, -1))
    ex.sliders[1].value = 3
    np.testing.assert_array_equal(image_of(ex), np.moveaxis(k[:, 3], 0, -1))
    ex.channel_toggles[1].value = False                                  # green off
    want = np.moveaxis(k[:, 3], 0, -1).copy()
    want[..., 1] = 0
    np.testing.assert_array_equal(image_of(ex), want)
    ex.active_channel.value = 2                                          # blue's window (0, 1530)
    assert ex.window.value == (0, 765)
    ex.window.value = (0, 1530)
    want[..., 2] = (k[2, 3] + 1) // 2
    np.testing.assert_array_equal(image_of(ex), want)
    ex.composite.value = False                                           # one channel, with its slider
    assert not ex.sliders[0].disabled and ex.channel_toggles[0].disabled
    ex.sliders[0].value = 1
    np.testing.assert_array_equal(image_of(ex), gray(k[1, 3]))          # green's omero window


def test_not_an_image_is_an_error(tmp_path):
    z = zarr.create_array(str(tmp_path / "line.zarr"), shape=(10,), chunks=(5,), dtype="u1")
    z[:] = np.arange(10)
    with pytest.raises(zarrlite.ZarrliteError, match="a plane needs 2"):
        zarrlite.explore(zarrlite.open(str(tmp_path / "line.zarr")))


def test_inside_a_running_event_loop(stack):
    """As in a Jupyter kernel, whose event loop runs while a cell executes: built and awaited there."""
    import asyncio

    arr, data = stack

    async def cell():
        ex = await zarrlite.explore(arr, window=(0, 765))
        ex.sliders[0].value = 1                     # a widget callback, run from within the loop
        return ex

    ex = asyncio.run(cell())
    np.testing.assert_array_equal(image_of(ex), gray(levels(SHAPE)[1]))
