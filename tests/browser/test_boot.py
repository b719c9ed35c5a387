"""The built site starts offline: Pyodide, numpy and zarrlite load from web/dist/ alone; a worker that
cannot start, and calls after close(), reject clearly."""

import numpy as np


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
    got = page.evaluate("""async url => {
        const { Zarrlite } = await import("./zarrlite.js");
        const zl = await Zarrlite.create({ pyodideURL: new URL("./pyodide/", location.href).href });
        await zl.open(url);
        const r = await zl.read("", "0,0:3,0:2");
        zl.close();
        return { shape: r.shape, dtype: r.dtype, values: Array.from(r.data) };
    }""", f"{server.url}/data/boot-check.zarr")
    truth = np.arange(50, dtype="<u2").reshape(2, 5, 5)[0, 0:3, 0:2]  # what _boot_data wrote
    assert got == {"shape": [3, 2], "dtype": "<u2", "values": truth.ravel().tolist()}


def test_a_worker_that_cannot_start_rejects_create_clearly(page, server):
    """No worker.js where baseURL points: create() rejects naming the worker, instead of hanging."""
    page.set_default_timeout(30_000)
    page.goto(server.url + "/protocol.js")
    err = page.evaluate("""async () => {
        const { Zarrlite } = await import("./zarrlite.js");
        try { await Zarrlite.create({ baseURL: new URL("./no-such-folder/", location.href).href }); return null; }
        catch (e) { return e.message; }
    }""")
    assert err is not None and "zarrlite worker failed" in err, err


def test_calls_after_close_reject(page, server):
    page.set_default_timeout(90_000)
    page.goto(server.url + "/protocol.js")
    got = page.evaluate("""async url => {
        const { Zarrlite } = await import("./zarrlite.js");
        const zl = await Zarrlite.create();
        await zl.open(url);
        const pending = zl.read("", "...").then(() => "resolved", e => e.message);
        zl.close();
        const later = await zl.read("", "...").then(() => "resolved", e => e.message);
        return { pending: await pending, later };
    }""", f"{server.url}/data/boot-check.zarr")
    assert got == {"pending": "zarrlite closed", "later": "zarrlite closed"}


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
