"""render.py: window/level, colormaps, invert, channel composite — pure numpy."""

from __future__ import annotations

import numpy as np
import pytest

from zarrlite.errors import ZarrliteError
from hypothesis import given, settings
from hypothesis import strategies as st

from zarrlite.render import (auto_window, composite, lut, normalize, parse_color, percentiles_by_count, render,
                             render_plane)


def test_window_maps_lo_to_0_and_hi_to_255_and_clips():
    plane = np.array([[0, 100, 150, 200, 300]], np.uint16)
    assert normalize(plane, (100, 200)).tolist() == [[0, 0, 128, 255, 255]]


def test_invert():
    plane = np.array([[100, 200]], np.int32)
    assert normalize(plane, (100, 200), invert=True).tolist() == [[255, 0]]


def test_auto_window_uses_percentiles_and_ignores_nan():
    plane = np.arange(1000, dtype=np.float32).reshape(10, 100)
    plane[0, 0] = np.nan
    lo, hi = auto_window(plane)
    assert lo == pytest.approx(np.percentile(plane[np.isfinite(plane)], 0.1))
    assert hi == pytest.approx(np.percentile(plane[np.isfinite(plane)], 99.9))


@settings(max_examples=300, deadline=None)
@given(dtype=st.sampled_from(["u1", "i1", "<u2", "<i2", ">u2", ">i2"]), size=st.integers(1, 3000),
       spread=st.sampled_from([1, 3, 300, 1 << 16]), seed=st.integers(0, 2**32 - 1),
       percentiles=st.lists(st.floats(0, 100), min_size=1, max_size=4))
def test_percentiles_by_count_equal_numpys_bit_for_bit(dtype, size, spread, seed, percentiles):
    dt = np.dtype(dtype)
    info = np.iinfo(dt)
    rng = np.random.default_rng(seed)
    start = int(rng.integers(info.min, info.max, endpoint=True))
    values = np.clip(start + rng.integers(0, spread, size), info.min, info.max).astype(dt)
    # in float64: numpy interpolates 8-bit integers in their own type, where 127 - (-9) wraps round
    want = np.percentile(values.astype(np.float64), percentiles)
    assert percentiles_by_count(values, percentiles).tolist() == want.tolist()


def test_nan_renders_black_and_constant_plane_does_not_divide_by_zero():
    plane = np.array([[np.nan, 1.0], [1.0, 1.0]])
    assert normalize(plane, (0, 2)).tolist() == [[0, 128], [128, 128]]
    assert normalize(np.ones((2, 2)), "auto").tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize("name,first,last", [
    ("gray", (0, 0, 0), (255, 255, 255)),
    ("viridis", (68, 1, 84), (253, 231, 37)),
    ("magma", (0, 0, 4), (252, 253, 191)),
    ("inferno", (0, 0, 4), (252, 255, 164)),
])
def test_colormap_ends(name, first, last):
    table = lut(name)
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert tuple(table[0]) == first and tuple(table[-1]) == last


def test_custom_colours():
    assert parse_color("#ff8000") == (255, 128, 0)
    assert parse_color("00FF00") == (0, 255, 0)   # OME omero style
    assert parse_color([1, 2, 3]) == (1, 2, 3)
    assert tuple(lut("#ff8000")[255]) == (255, 128, 0) and tuple(lut("red")[0]) == (0, 0, 0)
    with pytest.raises(ZarrliteError, match="unknown colormap"):
        lut("nope")


def test_render_plane_is_rgba_uint8_opaque():
    rgba = render_plane(np.arange(12, dtype=np.uint8).reshape(3, 4), (0, 11), "viridis")
    assert rgba.shape == (3, 4, 4) and rgba.dtype == np.uint8
    assert (rgba[..., 3] == 255).all()
    assert tuple(rgba[0, 0, :3]) == tuple(lut("viridis")[0]) and tuple(rgba[2, 3, :3]) == tuple(lut("viridis")[255])


def test_render_needs_2d():
    with pytest.raises(ZarrliteError, match="2-D"):
        render_plane(np.zeros((2, 3, 4)))


def test_composite_is_additive_and_clipped_and_skips_hidden():
    planes = np.array([[[0, 10]], [[10, 10]]], np.uint16)
    rgba = composite(planes, [{"color": "#ff0000", "window": (0, 10)},
                              {"color": "#ff00ff", "window": (0, 10)},
                              {"index": 0, "color": "#00ff00", "visible": False}])
    assert rgba[0, 0, :3].tolist() == [255, 0, 255]
    assert rgba[0, 1, :3].tolist() == [255, 0, 255]   # 255 + 255 clipped
    planes_last = np.moveaxis(planes, 0, -1)
    assert (render(planes_last, channels=[{"color": "red", "window": (0, 10)}], channel_axis=-1)
            == composite(planes, [{"color": "red", "window": (0, 10)}])).all()


def test_complex_renders_magnitude_and_bool_renders():
    assert normalize(np.array([[3 + 4j]]), (0, 5)).tolist() == [[255]]
    assert normalize(np.array([[True, False]]), (0, 1)).tolist() == [[255, 0]]


@pytest.mark.parametrize("dtype", ["u1", "i1", "u2", "i2"])
@pytest.mark.parametrize("window", ["auto", "full", (10, 200), (-40, 5), (7, 7), (300, -300)])
@pytest.mark.parametrize("colormap, invert", [("gray", False), ("viridis", True), ("#ff8000", False)])
def test_small_integer_planes_render_by_value_table_like_the_per_pixel_path(dtype, window, colormap, invert):
    info = np.iinfo(dtype)
    plane = np.random.default_rng(3).integers(info.min, info.max, (300, 400), endpoint=True).astype(dtype)
    idx = normalize(plane, window, invert)
    expected = np.empty(idx.shape + (4,), np.uint8)
    expected[..., :3] = lut(colormap)[idx]
    expected[..., 3] = 255
    got = render_plane(plane, window, colormap, invert)  # > 2**16 pixels: the table path
    assert got.dtype == np.uint8 and np.array_equal(got, expected)
