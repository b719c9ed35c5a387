"""The wheel decodes on its own (a JupyterLite that is not ours has no codecs.js beside the notebook): with
a server that answers 404 for the site's codecs.js and no numcodecs in the distribution, the offline lab's
kernel and a bare Pyodide that installed the pure wheel with micropip read blosc, zstd, lz4 and xz chunks
that zarr-python wrote through numcodecs, with the WASM codecs the wheel carries. Values are compared
with numpy's by sum and sha256."""

from __future__ import annotations

import hashlib
import re
import time

import numcodecs
import numpy as np
import pytest
import zarr

from conftest import DIST
from server import start_server
from test_jupyterlite import LAB, NOTEBOOK, _WAIT_KERNEL, run_code, text_of

COMPRESSORS = {
    "blosc": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "blosc-zstd": numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE),
    "zstd": numcodecs.Zstd(level=5),
    "lz4": numcodecs.LZ4(acceleration=1),
    "xz": numcodecs.LZMA(),
}


@pytest.fixture(scope="module")
def arrays(data_dir):
    rng = np.random.default_rng(16)
    truth = {}
    for name, compressor in COMPRESSORS.items():
        data = (rng.integers(0, 900, (3, 50, 70)) + np.arange(70)).astype("<u2")
        z = zarr.create_array(str(data_dir / f"wheel-{name}.zarr"), shape=data.shape, chunks=(1, 32, 32),
                              dtype="<u2", zarr_format=2, compressors=compressor, overwrite=True)
        z[:] = data
        truth[name] = data
    return truth


@pytest.fixture(scope="module")
def refusing_server(data_dir):
    """web/dist/ without the site's codecs: /codecs.js answers 404."""
    srv = start_server(DIST, data_dir, refused={"/codecs.js"})
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_chunks_decode_from_the_wheels_own_codecs(page, refusing_server, arrays):
    if not (LAB / "jupyter-lite.json").exists():
        pytest.fail("web/dist/lab/ is not built: run web/build-lab.sh (after web/build-web.sh)")
    srv = refusing_server
    page.set_default_timeout(120_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    page.goto(f"{srv.url}/lab/lab/index.html?path={NOTEBOOK}")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    page.evaluate(_WAIT_KERNEL)
    code = ["import hashlib, zarrlite", "from zarrlite.codecs import registry"]
    for name in arrays:
        code += [f"a = await (await zarrlite.open_async({srv.url + f'/data/wheel-{name}.zarr'!r})).get()",
                 f"print({name!r}, a.shape, int(a.sum()), hashlib.sha256(a.tobytes()).hexdigest())"]
    code.append("print('served by:', registry.make_compressor('zstd', {}).loader.source)")
    out = text_of(run_code(page, "\n".join(code)))
    print(f"kernel start and five reads: {time.perf_counter() - t0:.1f} s")
    assert "Error" not in out, out
    for name, data in arrays.items():
        want = f"{name} {data.shape} {int(data.sum())} {hashlib.sha256(data.tobytes()).hexdigest()}"
        assert want in out, (want, out)
    assert "served by: this wheel's wasm/codecs.js" in out, out
    refused = [(p, s) for p, _, s in srv.counters.requests if re.search(r"codecs\.js$", p)]
    assert refused == [] or all(s == 404 for _, s in refused), refused
    assert not errors, errors


# Anyone's Pyodide: the pure wheel installed by micropip, as `%pip install zarrlite` does in another
# JupyterLite, on a page with no zarrlite worker and the site's codecs.js answering 404.
MICROPIP_PAGE = """<!doctype html><meta charset="utf-8"><title>pyodide + micropip</title>
<script type="module">
import { loadPyodide } from "/pyodide/pyodide.mjs";
window.pyodideReady = (async () => {
  const pyodide = await loadPyodide({ indexURL: new URL("/pyodide/", location.href).href, checkAPIVersion: false });
  await pyodide.loadPackage(["micropip"], { messageCallback: () => {} });
  return pyodide;
})();
</script>"""


def test_the_pure_wheel_installed_by_micropip(page, refusing_server, arrays):
    srv = refusing_server
    (srv.data / "micropip-page.html").write_text(MICROPIP_PAGE)
    wheel = next((DIST / "pyodide").glob("zarrlite-*-py3-none-any.whl")).name
    page.set_default_timeout(120_000)
    page.goto(f"{srv.url}/data/micropip-page.html")
    code = ["import micropip", f"await micropip.install({srv.url + '/pyodide/' + wheel!r})",
            "import hashlib, zarrlite", "from zarrlite.codecs import registry"]
    for name in arrays:
        code += [f"a = await (await zarrlite.open_async({srv.url + f'/data/wheel-{name}.zarr'!r})).get()",
                 f"print({name!r}, a.shape, int(a.sum()), hashlib.sha256(a.tobytes()).hexdigest())"]
    code.append("print('served by:', registry.make_compressor('zstd', {}).loader.source)")
    out = page.evaluate("async code => { const py = await window.pyodideReady; let text = '';"
                        " py.setStdout({batched: s => { text += s + '\\n'; }});"
                        " await py.runPythonAsync(code); return text; }", "\n".join(code))
    for name, data in arrays.items():
        want = f"{name} {data.shape} {int(data.sum())} {hashlib.sha256(data.tobytes()).hexdigest()}"
        assert want in out, (want, out)
    assert "served by: this wheel's wasm/codecs.js" in out, out
    assert not [r for r in srv.counters.requests if r[0] == "/codecs.js" and r[2] == 200]
