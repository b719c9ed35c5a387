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


def test_the_viewer_starts_its_runtime_before_its_own_modules_load(page, server):
    """The viewer's head starts the worker (early.js) while viewer.js is still on its way: with viewer.js
    held back for 2 s, the zarrlite worker is constructed before viewer.js arrives; the picture still
    comes, the page's CSP is kept (no violation), and a page with no source fetches no dataset."""
    page.set_default_timeout(90_000)
    urls, violations = [], []
    page.on("request", lambda r: urls.append(r.url))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script("""(() => {   // when each worker is constructed, on the page's clock
      const W = window.Worker;
      window.__workers = [];
      window.Worker = class extends W {
        constructor(url, options) { super(url, options); window.__workers.push({ url: String(url), t: performance.now() }); }
      };
    })();""")

    handler = server.httpd.RequestHandlerClass.func   # the server's handler class: its /slow/ delay
    handler.slow_seconds = 2.0
    try:   # viewer.js comes from /slow/ (2 s late), under its own URL; every other file at once
        page.route("**/viewer/viewer.js", lambda route: route.continue_(url=server.url + "/slow/viewer/viewer.js"))
        page.goto(server.url + "/viewer/")
        page.wait_for_selector("body[data-ready='1']")
    finally:
        del handler.slow_seconds
    got = page.evaluate("""() => ({ workers: window.__workers,
        viewerJs: performance.getEntriesByType("resource").find(e => e.name.endsWith("/viewer/viewer.js")).responseEnd })""")
    zarrlite = [w["t"] for w in got["workers"] if w["url"].endswith("/worker.js")]
    assert zarrlite and zarrlite[0] < got["viewerJs"], got
    assert got["viewerJs"] > 1500, got
    assert not [u for u in urls if "/data/" in u or ("/sample/" in u and not u.endswith("samples.json"))], urls
    page.unroute("**/viewer/viewer.js")
    page.goto(server.url + "/viewer/?source=" + server.url + "/data/boot-check.zarr")
    page.wait_for_function("() => window.viewer && window.viewer.timings.firstImage !== undefined")
    assert violations == []


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
