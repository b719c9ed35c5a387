"""JupyterLite (web/dist/lab/, built by web/build-lab.sh) in headless Chromium, with every request outside
127.0.0.1 aborted: the Pyodide kernel starts from the site's own files, the example notebook runs, its
numbers equal the data, the rich displays and images appear, and a .zip dropped into the file browser
(the browser's own storage) opens from Python."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import zarr

from zarrlite.render import render

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "web" / "dist" / "lab"
ARTIFACTS = ROOT / "tests" / "artifacts"
NOTEBOOK = "zarrlite-example.ipynb"
KERNEL_TIMEOUT = 180_000     # ms; ~15 s when the machine is quiet
CELL_TIMEOUT = 120_000


def _make_sample():
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "web" / "lab" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def decode_png(data: bytes) -> np.ndarray:
    from test_notebook import decode_png as decode   # the zlib-based reader of the CPython tests
    return decode(data)


def pngs_in(output: dict) -> list[np.ndarray]:
    text = output.get("data", {}).get("text/html", "")
    text = "".join(text) if isinstance(text, list) else text
    return [decode_png(base64.b64decode(b)) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


def text_of(outputs: list[dict]) -> str:
    parts = []
    for o in outputs:
        if o["output_type"] == "stream":
            parts.append("".join(o["text"]) if isinstance(o["text"], list) else o["text"])
        elif o["output_type"] in ("execute_result", "display_data"):
            for mime in ("text/plain", "text/html"):
                v = o["data"].get(mime, "")
                parts.append("".join(v) if isinstance(v, list) else v)
        elif o["output_type"] == "error":
            parts.append(f"ERROR {o['ename']}: {o['evalue']}")
    return "\n".join(parts)


_WAIT_KERNEL = """async () => {
  const t0 = performance.now();
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session.kernel;
  while (kernel.status !== 'idle') await new Promise(r => setTimeout(r, 50));
  return performance.now();
}"""

_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code')
  .map(c => ({source: c.model.sharedModel.getSource(), count: c.model.executionCount,
              outputs: c.model.toJSON().outputs}))"""

_RUN_NEW_CELL = """async (code) => {
  const app = window.jupyterapp, nb = app.shell.currentWidget.content;
  nb.activeCellIndex = nb.widgets.length - 1;
  await app.commands.execute('notebook:insert-cell-below');
  nb.activeCell.model.sharedModel.setSource(code);
  await app.commands.execute('notebook:run-cell');
  return nb.widgets.length - 1;
}"""


@pytest.fixture(scope="module")
def sample():
    return _make_sample().levels()


@pytest.fixture
def lab_page(page, server):
    if not (LAB / "jupyter-lite.json").exists():
        pytest.fail("web/dist/lab/ is not built: run web/build-lab.sh (after web/build-web.sh)")
    page.set_default_timeout(CELL_TIMEOUT)
    page.set_viewport_size({"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    page.goto(f"{server.url}/lab/lab/index.html?path={NOTEBOOK}")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    shell_ready = time.perf_counter() - t0
    page.evaluate(_WAIT_KERNEL)
    kernel_ready = time.perf_counter() - t0
    page.timing = {"page_to_notebook_s": round(shell_ready, 2), "page_to_kernel_idle_s": round(kernel_ready, 2),
                   "kernel_start_s": round(kernel_ready - shell_ready, 2)}
    page.errors = errors
    yield page


def run_all(page) -> list[dict]:
    t0 = time.perf_counter()
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(f"({_CELLS})().every(c => c.count !== null)"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           timeout=CELL_TIMEOUT, polling=250)
    page.timing["run_all_s"] = round(time.perf_counter() - t0, 2)
    return page.evaluate(_CELLS)


def run_code(page, code: str) -> list[dict]:
    index = page.evaluate(_RUN_NEW_CELL, code)
    page.wait_for_function(
        f"(() => {{ const c = window.jupyterapp.shell.currentWidget.content.widgets[{index}];"
        " return c.model.executionCount !== null &&"
        " window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'; })()",
        timeout=CELL_TIMEOUT, polling=250)
    return page.evaluate(f"window.jupyterapp.shell.currentWidget.content.widgets[{index}].model.toJSON().outputs")


def cell(cells, needle: str) -> list[dict]:
    found = [c for c in cells if needle in c["source"]]
    assert found, f"no cell contains {needle!r}"
    return found[0]["outputs"]


def test_example_notebook_runs_offline(lab_page, server, sample, tmp_path):
    page = lab_page
    server.counters.reset()
    cells = run_all(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    errors = [text_of(c["outputs"]) for c in cells if any(o["output_type"] == "error" for o in c["outputs"])]
    assert not errors, errors

    # numbers read back over HTTP equal the data the build wrote
    level0, level1 = sample
    printed = text_of(cell(cells, "plane = await img.get"))
    m = re.search(r"plane \(256, 256\) uint16 sum (\d+) at \(100, 100\): (\d+)", printed)
    assert m, printed
    assert (int(m.group(1)), int(m.group(2))) == (int(level0[1].sum()), int(level0[1][100, 100]))
    assert any(p.startswith("/lab/files/data/sample.zarr/0/c/1/") for p, _, _ in server.counters.requests)

    # rich displays: the group and the array summaries, each with a thumbnail
    group_out = cell(cells, "root = await zarrlite.open_async(url)")
    group_text = text_of(group_out)
    assert "zarrlite.Group" in group_text and "2 levels (c, y, x)" in group_text
    omero = [{"color": "#FF00FF", "window": (100, 3160)}, {"color": "#00FF00", "window": (200, 2300)},
             {"color": "#FFFFFF", "window": (300, 4100)}]
    (thumb,) = pngs_in(group_out[0])
    np.testing.assert_array_equal(thumb, render(level1, channels=omero)[..., :3])
    array_out = cell(cells, 'img = await root.get_child("0")')
    array_text = text_of(array_out)
    for needle in ("zarrlite.Array", "(3, 256, 256)", "uint16", "(1, 128, 128)", "gzip"):
        assert needle in array_text, needle
    (thumb,) = pngs_in(array_out[0])
    np.testing.assert_array_equal(thumb, render(level0[1, ::2, ::2])[..., :3])

    # show(): a plane with a colormap, and a two-channel composite
    (shown,) = pngs_in(cell(cells, 'colormap="viridis"')[0])
    np.testing.assert_array_equal(shown, render(level0[0], colormap="viridis")[..., :3])
    (composite,) = pngs_in(cell(cells, "channels=channels")[0])
    np.testing.assert_array_equal(composite, render(level0, channels=omero[:2])[..., :3])

    # the synchronous form: works where Pyodide can suspend (JSPI), else names the async form
    sync_text = text_of(cell(cells, "zarrlite.open(url)"))
    if "SyncUnavailableError" in sync_text:
        assert "await zarrlite.open_async" in sync_text
    else:
        assert f"sync read: {level1[2, :2, :4].tolist()}" in sync_text

    # the file browser's copy (DriveFS, a local path) reads the same
    assert "local copy equals the served one: True" in text_of(cell(cells, 'open_async("data/sample.zarr")'))
    # the viewer's sample: sharded zstd chunks decoded by the WASM codecs the kernel loads on first use
    sample_root = ROOT / "web" / "dist" / "sample" / "cells.ome.zarr"
    coarsest = zarr.open_group(sample_root, mode="r")
    level = coarsest[json.loads((sample_root / "zarr.json").read_text())["attributes"]["ome"]["multiscales"][0]
                     ["datasets"][-1]["path"]]
    truth = np.asarray(level[0, 4])
    assert (f"bundled sample {level.shape} plane (0, 4) sum {int(truth.sum())}"
            in text_of(cell(cells, "cells.multiscale.levels[-1]")))

    # the images are really there for the eye: decoded by the browser
    sizes = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output img.zarrlite-image')]
                             .map(i => [i.naturalWidth, i.naturalHeight, i.complete])""")
    assert len(sizes) >= 4 and all(w > 0 and h > 0 and ok for w, h, ok in sizes), sizes
    page.locator(".jp-OutputArea-output img.zarrlite-image").nth(2).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "jupyterlite.png"))

    # a .zip put into the file browser lives in the browser's storage; Python opens it under its path
    zpath = tmp_path / "upload.zarr.zip"
    src = Path(_make_sample().write(str(tmp_path)))
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_STORED) as z:
        for f in sorted(src.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(src).as_posix())
    with page.expect_file_chooser() as chooser:
        page.locator('.jp-FileBrowser-toolbar [data-jp-item-name="uploader"] [title="Upload Files"]').click()
    chooser.value.set_files(str(zpath))
    page.locator(".jp-DirListing-itemText", has_text="upload.zarr.zip").first.wait_for(timeout=30_000)
    out = run_code(page, 'z = await zarrlite.open_async("upload.zarr.zip")\n'
                         'a = await (await z.get_child("1")).get((2, slice(None), slice(None)))\n'
                         'print("zip", a.shape, int(a.sum()), a[5, 7])')
    assert f"zip (128, 128) {int(level1[2].sum())} {level1[2, 5, 7]}" in text_of(out), text_of(out)

    page.screenshot(path=str(ARTIFACTS / "jupyterlite-zip.png"))
    (ARTIFACTS / "jupyterlite-timing.json").write_text(json.dumps(page.timing, indent=1))
    print("JupyterLite timing:", page.timing)
    assert not page.errors, page.errors
