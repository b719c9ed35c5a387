"""The built site starts offline: Pyodide, numpy and zarrlite load from web/dist/ alone."""


def test_starts_offline_and_reports_progress(page, server):
    page.set_default_timeout(90_000)
    page.goto(server.url + "/index.html")
    page.wait_for_selector("body[data-ready='1']")
    info = page.evaluate("""async () => {
        const { Zarrlite } = await import("./zarrlite.js");
        const stages = [];
        const t0 = performance.now();
        const zl = await Zarrlite.create({ onProgress: p => stages.push(p.stage) });
        const ms = performance.now() - t0;
        zl.close();
        return { stages, ms };
    }""")
    assert info["stages"] == ["pyodide", "packages", "codecs", "ready"]
    assert info["ms"] < 30_000


def test_another_pyodide_distribution_by_configuration(page, server):
    """`pyodideURL` points the worker at another Pyodide folder (here: the site's own, used as if it
    were a full distribution); the zarrlite wheel is then installed by URL and codecs still work."""
    page.set_default_timeout(90_000)
    page.goto(server.url + "/protocol.js")
    shape = page.evaluate("""async url => {
        const { Zarrlite } = await import("./zarrlite.js");
        const zl = await Zarrlite.create({ pyodideURL: new URL("./pyodide/", location.href).href });
        await zl.open(url);
        const r = await zl.read("", "0,0:3,0:2");
        zl.close();
        return r.shape;
    }""", f"{server.url}/data/boot-check.zarr")
    assert shape == [3, 2]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _boot_data(server):
    import numpy as np
    import zarr
    from zarr.codecs import ZstdCodec

    root = server.data / "boot-check.zarr"
    if not root.exists():
        a = zarr.create_array(str(root), shape=(2, 5, 5), dtype="<u2", chunks=(1, 5, 5), compressors=[ZstdCodec()])
        a[...] = np.arange(50, dtype="<u2").reshape(2, 5, 5)
