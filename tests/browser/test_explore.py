"""zarrlite.explore in the offline JupyterLite (web/dist/lab/: the widgets' labextension and ipywidgets
shipped with it), in Chromium with every request outside 127.0.0.1 aborted: the view appears, and moving
its slider (a plane typed into its readout, as a person would) shows the right plane. The pixels are read back from
the <img> the browser decoded and compared with the data's grey levels computed here by hand."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from test_jupyterlite import lab_page, run_code, text_of  # noqa: F401  (the lab fixture and helpers)

SHAPE = (5, 40, 48)


def levels(shape) -> np.ndarray:
    """Grey levels 0..255, different in every plane; the data hold 3x them, so window (0, 765) shows k."""
    z, y, x = np.indices(shape)
    return (37 * z + 48 * y + x) % 256


@pytest.fixture(scope="module")
def stack(data_dir):
    z = zarr.create_array(str(data_dir / "explore.zarr"), shape=SHAPE, chunks=(1, 16, 16), dtype="u2",
                          overwrite=True)
    z[:] = 3 * levels(SHAPE)
    return "/data/explore.zarr"


_PIXELS = """async (index) => {
  const img = [...document.querySelectorAll('.jp-OutputArea-output img.widget-image')][index];
  await img.decode();
  const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.naturalWidth, img.naturalHeight).data;
  return {src: img.src, width: img.naturalWidth, height: img.naturalHeight, rgba: Array.from(data)};
}"""


def pixels(page, previous_src=None) -> tuple[np.ndarray, str]:
    """The RGB pixels of the explorer's image, once its source differs from `previous_src`."""
    if previous_src is not None:
        page.wait_for_function("src => { const i = document.querySelector('.jp-OutputArea-output img.widget-image');"
                               " return i && i.src !== src; }", arg=previous_src, timeout=60_000, polling=100)
    out = page.evaluate(_PIXELS, 0)
    rgba = np.array(out["rgba"], np.uint8).reshape(out["height"], out["width"], 4)
    assert (rgba[..., 3] == 255).all()
    return rgba[..., :3], out["src"]


def gray(k) -> np.ndarray:
    return np.repeat(np.asarray(k, np.uint8)[..., None], 3, axis=2)


def test_slider_shows_the_plane(lab_page, server, stack):
    page = lab_page
    out = run_code(page, "import zarrlite\n"
                         f"arr = await zarrlite.open_async({server.url + stack!r})\n"
                         "ex = await zarrlite.explore(arr, window=(0, 765))\n"
                         "ex")
    assert not any(o["output_type"] == "error" for o in out), text_of(out)
    page.locator(".jp-OutputArea-output img.widget-image").first.wait_for(timeout=60_000)
    image, src = pixels(page)
    np.testing.assert_array_equal(image, gray(levels(SHAPE)[2]))       # the middle plane first
    readout = page.locator(".jp-OutputArea-output .widget-slider .widget-readout").first
    for z in (3, 0):                                                    # typed into the slider's readout
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(str(z))
        page.keyboard.press("Enter")
        image, src = pixels(page, src)
        np.testing.assert_array_equal(image, gray(levels(SHAPE)[z]))
        assert page.locator(".jp-OutputArea-output .widget-slider .noUi-handle").first.get_attribute(
            "aria-valuenow") == f"{z}.0"
    assert "index [0, 19, 23]" in text_of(run_code(page, "print('index', ex.index)"))
    # the contrast set from Python: rendered in the kernel's background, shown by the page
    run_code(page, "ex.window.value = (0, 1530)")
    image, src = pixels(page, src)
    np.testing.assert_array_equal(image, gray((levels(SHAPE)[0] + 1) // 2))   # k / 2 rounded half up
    assert page.locator(".jp-OutputArea-output .widget-dropdown select").first.input_value() == "manual"
    assert not page.errors, page.errors
