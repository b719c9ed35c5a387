"""zl.render(): window/level and colormaps computed in the worker, drawn on a canvas, pixel-exact."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from writers import make_data

import zarr
from zarrlite.render import composite, render_plane

RENDER_JS = """async ({url, selection, options}) => {
  const zl = await window.zarrlite;
  await zl.open(url);
  const img = await zl.render("", selection, options);
  const canvas = new OffscreenCanvas(img.width, img.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, img.width, img.height).data;
  const hex = b => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join("");
  return {width: img.width, height: img.height, kind: img.constructor.name,
          sha: hex(await crypto.subtle.digest("SHA-256", px))};
}"""


@pytest.fixture(scope="module")
def image(server):
    data = make_data((2, 60, 80), "<u2", seed=21) // 64
    a = zarr.create_array(str(server.data / "render.zarr"), shape=data.shape, dtype=data.dtype,
                          chunks=(1, 32, 32), overwrite=True)
    a[...] = data
    return data


@pytest.mark.parametrize("options", [
    {"window": [100, 900], "colormap": "gray"},
    {"window": "auto", "colormap": "viridis"},
    {"window": [0, 1023], "colormap": "magma", "invert": True},
    {"window": [50, 800], "colormap": "#ff8000"},
])
def test_render_plane(shared_page, server, image, options):
    got = shared_page.evaluate(RENDER_JS, {"url": f"{server.url}/data/render.zarr", "selection": "1",
                                           "options": options})
    want = render_plane(image[1], options["window"], options["colormap"], options.get("invert", False))
    assert (got["width"], got["height"]) == (80, 60)
    assert got["kind"] == "ImageBitmap"
    assert got["sha"] == hashlib.sha256(want.tobytes()).hexdigest()


def test_render_channels(shared_page, server, image):
    channels = [{"index": 0, "color": "#ff00ff", "window": [0, 800]}, {"index": 1, "color": "#00ff00"}]
    got = shared_page.evaluate(RENDER_JS, {"url": f"{server.url}/data/render.zarr", "selection": "...",
                                           "options": {"channels": channels}})
    want = composite(image, channels)
    assert got["sha"] == hashlib.sha256(want.tobytes()).hexdigest()
