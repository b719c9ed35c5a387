"""Rich display (zarrlite.notebook): the PNG encoder, decoded here with zlib and compared pixel for pixel,
the HTML summaries of arrays and groups, and show()."""

from __future__ import annotations

import asyncio
import base64
import re
import struct
import zlib

import numpy as np
import pytest
import zarr

import zarrlite
from zarrlite import notebook
from zarrlite.render import render

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def decode_png(data: bytes) -> np.ndarray:
    """A minimal PNG reader for 8-bit, non-interlaced images with filter type 0 (what the encoder writes),
    checking every chunk's CRC. Gray images come back as (H, W), others as (H, W, C)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header, tags = 8, b"", None, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(tag + body), f"bad CRC in {tag}"
        tags.append(tag)
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    assert tags[0] == b"IHDR" and tags[-1] == b"IEND"
    width, height, depth, color, compression, filt, interlace = header
    assert (depth, compression, filt, interlace) == (8, 0, 0, 0)
    channels = CHANNELS[color]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    assert (raw[:, 0] == 0).all(), "rows use filter type 0"
    pixels = raw[:, 1:].reshape(height, width, channels)
    return pixels[:, :, 0] if channels == 1 else pixels


def png_of(html_text: str) -> bytes:
    m = re.search(r'src="data:image/png;base64,([^"]+)"', html_text)
    assert m, "no inline PNG in the HTML"
    return base64.b64decode(m.group(1))


# -- PNG ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (64, 300)])
@pytest.mark.parametrize("channels", [None, 3, 4])
def test_png_round_trip(shape, channels):
    rng = np.random.default_rng(sum(shape) + (channels or 0))
    full = shape if channels is None else shape + (channels,)
    image = rng.integers(0, 256, full, dtype=np.uint8)
    if channels == 4:
        image[0, 0, 3] = 7  # alpha that is not all 255: RGBA stays RGBA
    np.testing.assert_array_equal(decode_png(notebook.png_bytes(image)), image)


def test_png_opaque_rgba_is_written_as_rgb():
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0] = np.arange(4)
    rgba[..., 3] = 255
    png = notebook.png_bytes(rgba)
    assert png[25] == 2  # IHDR colour type: RGB
    np.testing.assert_array_equal(decode_png(png), rgba[..., :3])


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint16), np.zeros((4,), np.uint8),
                                 np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4), np.uint8)])
def test_png_rejects_what_it_cannot_encode(bad):
    with pytest.raises(zarrlite.ZarrliteError, match="png"):
        notebook.png_bytes(bad)


# -- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A Zarr v3 group: a (3, 40, 50) uint16 stack with attrs, a 1-D array, and an OME-NGFF pyramid."""
    root = tmp_path_factory.mktemp("nb") / "stack.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=3, attributes={"title": "notebook <test>"})
    data = (np.arange(3 * 40 * 50, dtype=np.uint16).reshape(3, 40, 50) * 7) % 1000
    a = g.create_array("img", shape=data.shape, chunks=(1, 16, 16), dtype="uint16",
                       attributes={"units": "counts"})
    a[...] = data
    g.create_array("line", shape=(10,), chunks=(5,), dtype="float32")[...] = np.arange(10, dtype="float32")
    ome = g.create_group("ome", attributes={"ome": {"version": "0.5", "multiscales": [{
        "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [{"path": str(i), "coordinateTransformations": [{"type": "scale", "scale": [2.0**i] * 2}]}
                     for i in range(3)]}]}})
    for i, n in enumerate((512, 256, 128)):
        lvl = np.add.outer(np.arange(n), np.arange(n)).astype("uint8")
        ome.create_array(str(i), shape=lvl.shape, chunks=(128, 128), dtype="uint8")[...] = lvl
    return root, data


# -- show --------------------------------------------------------------------------------------------
def test_show_renders_the_middle_plane_like_render(stack):
    root, data = stack
    arr = zarrlite.open(str(root), "img")
    shown = notebook.show(arr, window=(0, 999), colormap="viridis")
    html_text = shown._repr_html_()
    expected = render(data[1], window=(0, 999), colormap="viridis")[..., :3]
    np.testing.assert_array_equal(decode_png(png_of(html_text)), expected)
    assert decode_png(shown._repr_png_()).shape == (40, 50, 3)
    assert "/img" in html_text and "window 0..999" in html_text and "viridis" in html_text


def test_show_selection_text_and_auto_window(stack):
    root, data = stack
    arr = zarrlite.open(str(root), "img")
    shown = notebook.show(arr, "2,10:30,:")
    png = decode_png(png_of(shown._repr_html_()))
    lo, hi = shown.window
    np.testing.assert_allclose((lo, hi), np.percentile(data[2, 10:30], (0.1, 99.9)))
    np.testing.assert_array_equal(png, render(data[2, 10:30], window=(lo, hi))[..., :3])


def test_show_downsamples_with_a_step(stack):
    root, data = stack
    arr = zarrlite.open(str(root), "img")
    png = decode_png(notebook.show(arr, window=(0, 999), max_size=20)._repr_png_())
    np.testing.assert_array_equal(png, render(data[1, ::2, ::3], window=(0, 999))[..., :3])


def test_show_await_form_and_ndarray(stack):
    root, data = stack
    arr = zarrlite.open(str(root), "img")

    async def go():
        return await notebook.show(arr, (0, slice(None), slice(None)), window="full")

    shown = asyncio.run(go())
    assert shown.png is not None and shown.window == (float(data[0].min()), float(data[0].max()))
    np.testing.assert_array_equal(decode_png(notebook.show(data[0], window="full")._repr_png_()),
                                  decode_png(shown.png))


def test_show_multiscale_group_picks_a_level(stack):
    root, _ = stack
    shown = notebook.show(zarrlite.open(str(root), "ome"), max_size=200, window=(0, 255))
    png = decode_png(shown._repr_png_())
    assert "/ome/1 " in shown.caption()          # the coarsest level with >= 200 px: 256 x 256
    assert png.shape == (128, 128, 3)             # read with step 2 to stay within max_size


def test_show_channels_composite(stack):
    root, data = stack
    arr = zarrlite.open(str(root), "img")
    channels = [{"color": "red", "window": (0, 999)}, {"color": "green", "window": (0, 999)},
                {"visible": False}]
    png = decode_png(notebook.show(arr, channels=channels)._repr_png_())
    expected = render(data, channels=channels)[..., :3]
    np.testing.assert_array_equal(png, expected)


# -- summaries ---------------------------------------------------------------------------------------
def test_array_summary_has_metadata_and_thumbnail(stack):
    root, data = stack
    arr = zarrlite.open(str(root), "img")
    text = notebook.array_html(arr)
    for needle in ["zarrlite.Array", "/img", "(3, 40, 50)", "uint16", "(1, 16, 16)", "units", "counts",
                   "bytes"]:
        assert needle in text, needle
    assert "zstd" in text or "bytes" in text  # the codec chain is listed
    thumb = decode_png(png_of(text))
    assert thumb.shape[:2] == (40, 50)
    np.testing.assert_array_equal(thumb, render(data[1])[..., :3])


def test_array_summary_without_thumbnail_for_1d(stack):
    root, _ = stack
    text = notebook.array_html(zarrlite.open(str(root), "line"))
    assert "(10,)" in text and "float32" in text and "data:image/png" not in text
    assert "fewer than 2 dimensions" in text


def test_thumbnail_respects_the_budget(stack):
    root, _ = stack
    arr = zarrlite.open(str(root), "img")
    png, why = asyncio.run(notebook.thumbnail_async(arr, budget=100))
    assert png is None and "no thumbnail" in why


def test_group_summary_lists_members_and_escapes_attrs(stack):
    root, _ = stack
    text = notebook.group_html(zarrlite.open(str(root)))
    assert "zarrlite.Group" in text and "img" in text and "line" in text and "ome/" in text
    assert "notebook &lt;test&gt;" in text and "<test>" not in text
    assert "data:image/png" not in text   # no multiscale here


def test_multiscale_group_summary_has_a_thumbnail(stack):
    root, _ = stack
    text = notebook.group_html(zarrlite.open(str(root), "ome"))
    assert "3 levels" in text
    assert decode_png(png_of(text)).shape == (128, 128, 3)


def test_async_summary_matches(stack):
    root, _ = stack
    arr = zarrlite.open(str(root), "img")
    text = asyncio.run(notebook.summary(arr))._repr_html_()
    assert "(3, 40, 50)" in text and decode_png(png_of(text)).shape == (40, 50, 3)


def test_no_sync_runtime_gives_the_async_form(stack, monkeypatch):
    root, _ = stack
    arr = zarrlite.open(str(root), "img")

    def no_sync(coro, form):
        coro.close()
        raise zarrlite.SyncUnavailableError(f"use {form}")

    from zarrlite import inline, summaries

    monkeypatch.setattr(inline, "run_sync", no_sync)      # show() and the summaries read through these
    monkeypatch.setattr(summaries, "run_sync", no_sync)
    text = notebook.array_html(arr)
    assert "(3, 40, 50)" in text and "await zarrlite.show(node)" in text and "data:image/png" not in text
    shown = notebook.show(arr)
    assert "await zarrlite.show(...)" in shown._repr_html_() and shown._repr_png_() is None
    assert "await zarrlite.notebook.summary(group)" in notebook.group_html(zarrlite.open(str(root)))


def test_show_multiscale_group_composites_its_omero_channels(tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "make_sample", Path(__file__).resolve().parents[1] / "web" / "lab" / "make_sample.py")
    make_sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sample)
    root = zarrlite.open(make_sample.write(str(tmp_path)))
    channels = [{"color": "#FF00FF", "window": (100, 3160)}, {"color": "#00FF00", "window": (200, 2300)},
                {"color": "#FFFFFF", "window": (300, 4100)}]
    expected = render(make_sample.levels()[0], channels=channels)[..., :3]
    np.testing.assert_array_equal(decode_png(notebook.show(root)._repr_png_()), expected)
    thumb = decode_png(png_of(notebook.group_html(root)))           # level 1 (128 px), same colours
    np.testing.assert_array_equal(thumb, render(make_sample.levels()[1], channels=channels)[..., :3])


# -- what to show comes from the image model ------------------------------------------------------------
def test_show_rgb_array_in_its_own_colours(tmp_path):
    """An (y, x, 3) uint8 picture shows as itself: red, green and blue channels added up."""
    rgb = np.random.default_rng(5).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    zarr.create_array(str(tmp_path / "rgb.zarr"), data=rgb, chunks=(16, 16, 3))
    np.testing.assert_array_equal(decode_png(notebook.show(zarrlite.open(str(tmp_path / "rgb.zarr")))._repr_png_()), rgb)


def test_show_omero_default_z(tmp_path):
    planes = (np.arange(4)[:, None, None] * 60 + np.zeros((4, 8, 10), int)).astype(np.uint8)
    g = zarr.open_group(str(tmp_path / "z.zarr"), mode="w", zarr_format=3)
    g.attrs["ome"] = {"version": "0.5", "omero": {"rdefs": {"defaultZ": 1}}, "multiscales": [{
        "axes": [{"name": n, "type": "space"} for n in "zyx"], "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 1.0, 1.0]}]}]}]}
    g.create_array("0", data=planes, chunks=(1, 8, 10))
    png = decode_png(notebook.show(zarrlite.open(str(tmp_path / "z.zarr")), window=(0, 255))._repr_png_())
    np.testing.assert_array_equal(png, np.repeat(planes[1][..., None], 3, axis=2))   # plane 1, not the middle (2)


def test_show_n5_pyramid_described_on_its_datasets(tmp_path):
    """N5 levels s0, s1 carrying their own downsamplingFactors (no `scales` on the group): a pyramid."""
    import json

    from writers import ts_n5

    vol = np.arange(5 * 12 * 16, dtype=np.uint8).reshape(16, 12, 5)   # tensorstore order: x, y, z
    root = tmp_path / "p.n5"
    for i, f in enumerate([1, 2]):
        ts_n5(root / f"s{i}", vol[::f, ::f, :].copy(), block_size=[8, 8, 2], data_type="uint8",
              compression={"type": "raw"}, attributes={"downsamplingFactors": [f, f, 1]})
    (root / "attributes.json").write_text(json.dumps({"n5": "2.5.1"}))
    shown = notebook.show(zarrlite.open(str(root)), window=(0, 255), max_size=8)
    png = decode_png(shown._repr_png_())
    assert "/s1 " in shown.caption()                                # the coarsest level >= 8 px
    want = vol[::2, ::2, :].T[2]                                    # C order (z, y, x), middle z
    np.testing.assert_array_equal(png, np.repeat(want[..., None], 3, axis=2))
