"""Safe to open anything (issue 11), in the viewer page as a person meets it: nothing from a link runs
until they ask, no script but the site's own runs (Content-Security-Policy), hostile names and
attributes render as text, a huge attribute does not freeze the page, one malformed member does not
stop the rest of a source from opening."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from test_viewer import browser_context_args, check_pixels, open_viewer, settle, zoom_in  # noqa: F401
from zarrlite.render import render_plane

# Counts the page's zl.viewer calls by function name (window.viewerCalls), wrapping the Zarrlite instance
# the page stores in window.viewer.zl when it has started.
COUNT_VIEWER_CALLS = """(() => {
  window.viewerCalls = {};
  let app;
  Object.defineProperty(window, "viewer", { configurable: true, get: () => app, set: a => {
    app = a;
    let zl = a.zl;
    Object.defineProperty(a, "zl", { configurable: true, get: () => zl, set: z => {
      zl = z;
      if (!z) return;
      const call = z.viewer.bind(z);
      z.viewer = (fn, ...rest) => { window.viewerCalls[fn] = (window.viewerCalls[fn] ?? 0) + 1; return call(fn, ...rest); };
    } });
  } });
})()"""


@pytest.fixture(scope="module")
def plane(server):
    """A (96, 128) uint16 array at /data/trust-plane.zarr, values 0..999."""
    root = server.data / "trust-plane.zarr"
    data = (np.arange(96 * 128, dtype="<u2").reshape(96, 128) * 7 % 1000).astype("<u2")
    if not root.exists():
        a = zarr.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(48, 64), zarr_format=3)
        a[...] = data
    return data


def test_an_expression_from_a_link_is_shown_but_runs_only_on_apply(page, server, plane):
    page.add_init_script(COUNT_VIEWER_CALLS)
    open_viewer(page, server, "?source=/data/trust-plane.zarr&ch=1:0:999:gray&expr=np.log1p(x)")
    settle(page)
    zoom_in(page, 1)
    assert page.locator("#expr").input_value() == "np.log1p(x)"
    assert "link" in page.locator("#expr-status").inner_text()
    assert page.evaluate("window.viewerCalls.evaluate ?? 0") == 0
    check_pixels(page, render_plane(plane, window=(0, 999)), seed=20)     # the values themselves
    assert "expr=np.log1p(x)" in page.url                               # still in the link, still pending
    page.locator("#expr-form button[type=submit]").click()
    page.wait_for_function("() => document.getElementById('expr-status').textContent.startsWith('x: level')")
    settle(page)
    assert page.evaluate("window.viewerCalls.evaluate") >= 1
    page.fill("#win-lo", "2")
    page.fill("#win-hi", "7")
    page.press("#win-hi", "Enter")
    settle(page)
    check_pixels(page, render_plane(np.log1p(plane), window=(2, 7)), seed=21)
    assert not page.errors, page.errors


# The longest main-thread task since the last reset (window.longTasks.max, ms), from the browser's own
# long-task entries.
WATCH_LONG_TASKS = """(() => {
  window.longTasks = { max: 0, reset() { this.max = 0; } };
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) window.longTasks.max = Math.max(window.longTasks.max, e.duration);
  }).observe({ type: "longtask" });
})()"""


def big_attrs_source(server):
    """/data/trust-big-attrs.zarr: a group whose array "big" has ~5 MB of attributes (an ROI table)."""
    root = server.data / "trust-big-attrs.zarr"
    rois = [{"id": i, "label": f"cell {i}", "bbox": [i % 97, i % 89, i % 97 + 12, i % 89 + 9], "area": 108.5 + i % 13}
            for i in range(60_000)]
    if not root.exists():
        g = zarr.open_group(str(root), mode="w", zarr_format=3)
        a = g.create_array("big", shape=(32, 32), dtype="|u1", chunks=(32, 32))
        a[...] = 1
        a.attrs["note"] = "<b>not bold</b>"
        a.attrs["rois"] = rois
        zarr.consolidate_metadata(str(root))     # plain HTTP cannot list: the tree comes from here
    return root, json.dumps({"note": "<b>not bold</b>", "rois": rois}, indent=1)


def test_a_5_mb_attribute_keeps_the_page_responsive(page, server):
    root, pretty = big_attrs_source(server)
    assert (root / "big" / "zarr.json").stat().st_size > 5_000_000
    page.add_init_script(WATCH_LONG_TASKS)
    open_viewer(page, server, "?source=/data/trust-big-attrs.zarr&path=")
    page.wait_for_selector("#tree button.node[data-path='big']")
    page.evaluate("window.longTasks.reset()")
    page.locator("#tree button.node[data-path='big']").click()
    page.wait_for_selector("#meta .attrs .more", timeout=2_000)        # the panel shows, truncated
    page.wait_for_timeout(300)                                          # long tasks are reported after they end
    shown = page.locator("#meta .attrs pre").inner_text()
    longest = page.evaluate("window.longTasks.max")
    print(f"5 MB attribute: longest main-thread task {longest:.0f} ms, {len(shown)} characters shown")
    assert 1_000 <= len(shown) <= 4_000 and pretty.startswith(shown.rstrip("…").rstrip())
    assert "<b>not bold</b>" in shown and page.locator("#meta .attrs pre b").count() == 0
    label = page.locator("#meta .attrs .more").inner_text()            # "show all (N kB)"
    assert any(f"({k} kB)" in label for k in (len(pretty) // 1000, len(pretty) // 1000 + 1)), label
    assert longest < 1_000, f"the main thread was blocked {longest:.0f} ms"
    page.evaluate("window.longTasks.reset()")
    page.locator("#meta .attrs .more").click()                          # expands in place, bounded
    page.wait_for_function(f"() => document.querySelector('#meta .attrs pre').textContent.length > {len(shown) + 10_000}")
    page.wait_for_timeout(300)
    expanded = page.locator("#meta .attrs pre").inner_text()
    assert pretty.startswith(expanded.rstrip("…").rstrip()) and len(expanded) < len(pretty)
    longest = page.evaluate("window.longTasks.max")
    print(f"expanded: longest task {longest:.0f} ms, {len(expanded)} characters shown")
    assert longest < 1_000, f"the main thread was blocked {longest:.0f} ms"
    assert not page.errors, page.errors


def bad_member_group(root, fmt, consolidated=False):
    """members good (the data), badjson (its metadata cut short), badcodec (an unknown codec)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_bad_members import GOOD, zarr_group   # the CPython suite's malformed group

    if not root.exists():
        root.mkdir(parents=True)
        zarr_group(root, fmt, consolidated)
    return GOOD


def check_bad_members_marked(page):
    tree = page.locator("#tree")
    for name, kind in (("badjson", "metadata"), ("badcodec", "codec")):
        node = tree.locator(f"button.node.error[data-path='{name}']")
        assert node.count() == 1, tree.inner_text()
        assert node.locator(".why").inner_text(), "the error is in the tree as text"
        assert node.evaluate("b => getComputedStyle(b).color") == "rgb(255, 107, 107)"      # var(--bad)
    assert "frobnicate" in tree.locator("button.node.error[data-path='badcodec'] .why").inner_text()
    tree.locator("button.node[data-path='badcodec']").click()            # clicking shows the error
    page.wait_for_selector("#error:not([hidden])")
    assert page.locator("#error").get_attribute("data-kind") == "codec"
    assert "frobnicate" in page.locator("#error-message").inner_text()
    assert "frobnicate" in page.locator("#meta pre.err").inner_text()


def test_a_folder_with_malformed_members_opens_the_rest(page, server, tmp_path):
    good = bad_member_group(tmp_path / "bad-members.zarr", 3)
    open_viewer(page, server, "")
    page.wait_for_selector("#empty:not([hidden])")
    page.set_input_files("#folder", str(tmp_path / "bad-members.zarr"))
    page.wait_for_function("() => Number(document.body.dataset.opened || 0) >= 1")
    settle(page)
    assert page.evaluate("window.viewer.image.path") == "good"          # the member that opens is shown
    assert page.locator("#error").is_hidden()
    zoom_in(page, 1)
    check_pixels(page, render_plane(good, window=tuple(page.evaluate("window.viewer.image.channels[0].window"))), seed=22)
    check_bad_members_marked(page)
    assert not page.errors, page.errors


def test_a_url_with_malformed_consolidated_members_opens_the_rest(page, server):
    bad_member_group(server.data / "trust-bad-members-v2.zarr", 2, consolidated=True)
    open_viewer(page, server, "?source=/data/trust-bad-members-v2.zarr")
    page.wait_for_function("() => Number(document.body.dataset.opened || 0) >= 1")
    page.wait_for_selector("#tree button.node[data-path='good']")
    check_bad_members_marked(page)
    page.locator("#tree button.node[data-path='good']").click()
    settle(page)
    assert page.evaluate("window.viewer.image.path") == "good"
    assert not page.errors, page.errors


# Every Content-Security-Policy violation the page reports (window.cspViolations).
WATCH_CSP = """(() => {
  window.cspViolations = [];
  document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(
    { directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample }));
})()"""

INJECT = """async src => {
  const seen = window.cspViolations.length;
  const s = document.createElement("script");
  if (src) s.src = src; else s.textContent = "window.injected = 1";
  document.body.append(s);
  await new Promise(r => setTimeout(r, 300));
  let evaluated = "no";
  try { evaluated = String(eval("'eval ran'")); } catch (e) { evaluated = e.name; }
  return { injected: window.injected ?? null, evaluated, violations: window.cspViolations.slice(seen) };
}"""


def test_the_viewer_runs_only_the_sites_own_scripts(page, server, nocors_server):
    page.add_init_script(WATCH_CSP)
    open_viewer(page, server)
    settle(page)                                     # Pyodide, the codecs and the sample work under it
    policy = page.evaluate("document.querySelector(\"meta[http-equiv='Content-Security-Policy']\")?.content ?? ''")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'"], policy
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"], policy
    assert page.evaluate("window.cspViolations") == []          # nothing the page itself needs is refused
    inline = page.evaluate(INJECT, None)
    assert inline["injected"] is None and inline["evaluated"] == "EvalError", inline
    assert inline["violations"][:1] == [{"directive": "script-src-elem", "blocked": "inline", "sample": ""}], inline
    # a script from another origin (another port of this machine) is refused before it is fetched
    nocors_server.counters.reset()
    other = page.evaluate(INJECT, f"{nocors_server.url}/viewer/app.js")
    assert other["violations"][0]["directive"] == "script-src-elem" and other["violations"][0]["blocked"].startswith(nocors_server.url)
    assert nocors_server.counters.requests == []
    assert not page.errors, page.errors


HOSTILE = {n: f"<img src=x onerror=window.pwned={n}>" for n in range(1, 12)}


def hostile_source(server):
    """/data/trust-hostile.zarr (consolidated): an OME-Zarr 0.5 image "cells" whose name, axis names, unit
    and channel labels and colours are markup; an array named with markup whose attributes hold markup
    and javascript: URLs; a member whose (consolidated) metadata is broken with markup in it."""
    root = server.data / "trust-hostile.zarr"
    if root.exists():
        return root
    g = zarr.open_group(str(root), mode="w", zarr_format=3)
    cells = g.create_group("cells")
    a = cells.create_array("0", shape=(2, 3, 16, 16), dtype="|u1", chunks=(1, 1, 16, 16))
    a[...] = 9
    window = {"start": 0, "end": 255, "min": 0, "max": 255}
    cells.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "name": HOSTILE[1],
        "axes": [{"name": "c", "type": "channel"}, {"name": HOSTILE[2], "type": "space"},
                 {"name": "y", "type": "space", "unit": HOSTILE[5]}, {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1, 1]}]}]}],
        "omero": {"channels": [{"label": HOSTILE[3], "color": "FF0000", "window": window, "active": True},
                               {"label": "javascript:window.pwned=4", "color": f'"><{HOSTILE[10]}', "window": window,
                                "active": True}]}}
    named = g.create_array(HOSTILE[6], shape=(16, 16), dtype="|u1", chunks=(16, 16))
    named[...] = 3
    named.attrs["link"] = "javascript:window.pwned=7"
    named.attrs["html"] = f"<script>window.pwned=8</script><a href='javascript:window.pwned=9'>click</a>{HOSTILE[9]}"
    g.create_array("bad", shape=(4, 4), dtype="|u1", chunks=(4, 4))
    zarr.consolidate_metadata(str(root))
    meta = json.loads((root / "zarr.json").read_text())
    meta["consolidated_metadata"]["metadata"]["bad"]["shape"] = HOSTILE[11]
    (root / "zarr.json").write_text(json.dumps(meta))
    return root


NO_MARKUP_RAN = """() => ({
  pwned: window.pwned ?? null,
  images: document.querySelectorAll("img, svg, script:not([src])").length,
  jsLinks: [...document.querySelectorAll("[href], [src], [action]")].filter(e =>
    /^\\s*javascript:/i.test(e.getAttribute("href") ?? e.getAttribute("src") ?? e.getAttribute("action") ?? "")).length,
})"""


def assert_no_markup_ran(page):
    assert page.evaluate(NO_MARKUP_RAN) == {"pwned": None, "images": 0, "jsLinks": 0}


def test_markup_in_names_attributes_and_ome_fields_is_text(page, server):
    hostile_source(server)
    open_viewer(page, server, "?source=/data/trust-hostile.zarr&path=cells")
    settle(page)
    tree = page.locator("#tree").inner_text()
    assert HOSTILE[6] in tree and HOSTILE[11] in page.locator("#tree button.node[data-path='bad']").inner_text()
    assert page.locator("#channels .ch .lbl").all_inner_texts() == [HOSTILE[3], "javascript:window.pwned=4"]
    assert page.locator("#dims .dimrow .n").all_inner_texts() == [HOSTILE[2]]
    assert HOSTILE[1] in page.locator("#meta").inner_text()
    assert_no_markup_ran(page)
    page.locator("#tree button.node").filter(has_text=HOSTILE[6]).click()
    page.wait_for_selector("#meta .attrs pre")
    shown = page.locator("#meta .attrs pre").inner_text()
    assert "javascript:window.pwned=7" in shown and "<script>window.pwned=8</script>" in shown and HOSTILE[9] in shown
    assert page.locator("#meta a").count() == 0
    assert_no_markup_ran(page)
    page.locator("#tree button.node[data-path='bad']").click()
    page.wait_for_selector("#error:not([hidden])")
    assert HOSTILE[11] in page.locator("#error-message").inner_text()
    assert_no_markup_ran(page)
    assert not page.errors, page.errors


def test_a_javascript_source_in_a_link_is_not_followed(page, server):
    open_viewer(page, server, "?source=javascript:window.pwned=1")
    page.wait_for_selector("#error:not([hidden])")
    assert page.url.startswith(f"{server.url}/viewer/")
    assert page.locator("#url").input_value() == "javascript:window.pwned=1"
    assert_no_markup_ran(page)


def test_the_lab_pages_run_only_the_sites_own_scripts(page, server):
    """JupyterLite (web/dist/lab/): every page has the policy and no inline script; the lab starts under it
    (the notebook runs under it in test_jupyterlite.py). JupyterLab compiles its settings validators
    with `new Function`, so the lab allows eval; inline and other-origin scripts stay refused."""
    import re
    from pathlib import Path

    lab = Path(__file__).resolve().parents[2] / "web" / "dist" / "lab"
    pages = sorted(lab.rglob("*.html"))
    assert len(pages) >= 3
    for path in pages:
        html = path.read_text()
        assert "http-equiv=\"Content-Security-Policy\"" in html, path
        for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            assert "src=" in attrs or "application/json" in attrs or not body.strip(), (path, attrs, body[:80])
    page.add_init_script(WATCH_CSP)
    page.set_default_timeout(90_000)
    page.goto(f"{server.url}/lab/lab/index.html")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget !== undefined")
    policy = page.evaluate("document.querySelector(\"meta[http-equiv='Content-Security-Policy']\")?.content ?? ''")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'", "'unsafe-eval'"], policy
    assert directives["object-src"] == ["'none'"], policy
    assert page.evaluate("window.cspViolations") == []
    inline = page.evaluate(INJECT, None)
    assert inline["injected"] is None and inline["violations"][:1] == [
        {"directive": "script-src-elem", "blocked": "inline", "sample": ""}], inline
