"""The built site starts offline: Pyodide, numpy and zarrlite load from web/dist/ alone; a worker that
cannot start, and calls after close(), reject clearly."""

import numpy as np


def test_starts_offline_and_reports_progress(page, server):
    """The stages in order, numpy and zarrlite unpacked by the helper worker (unpack.js): not by the
    loadPackage fallback, which starts the runtime too, only later."""
    page.set_default_timeout(90_000)
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
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
    assert not [w for w in warnings if "unpacking the wheels" in w], warnings


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


WORKERS_JS = """(() => {   // the calls the page posts to its workers, in order
  const W = window.Worker;
  window.__calls = [];
  window.Worker = class extends W {
    postMessage(message, transfer) {
      if (message && message.rpc === "call") window.__calls.push(message.op === "viewer" ? `viewer ${message.args.fn}` : message.op);
      return super.postMessage(message, transfer);
    }
  };
})();"""


def test_the_viewer_asks_to_open_its_link_before_anything_else(page, server):
    """A link's source is the first call the viewer makes once the runtime is up: the colormap tables are
    asked for once it has opened, beside the tree's summaries (they were asked for first, and the open
    waited for them)."""
    page.set_default_timeout(90_000)
    page.add_init_script(WORKERS_JS)
    page.goto(server.url + "/viewer/?source=" + server.url + "/data/boot-check.zarr")
    page.wait_for_function("() => window.viewer && window.viewer.timings.firstImage !== undefined")
    calls = page.evaluate("window.__calls")
    assert calls[:4] == ["init", "open", "viewer summaries", "viewer colormaps"], calls


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
