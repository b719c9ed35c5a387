"""Pages for the browser tests: only loopback requests leave them."""

from __future__ import annotations

import re

LOOPBACK = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|([a-z0-9-]+\.)*localhost)[:/]")


def loopback_only(outside_requests):
    """A route handler: requests to 127.0.0.1 and *.localhost (which Chromium resolves to loopback by
    itself, never asking DNS), and data:, blob:, go through; any other is aborted and noted."""
    def guard(route):
        url = route.request.url
        if LOOPBACK.match(url) or url.startswith(("data:", "blob:")):
            return route.continue_()
        outside_requests.append(url)
        return route.abort()

    return guard


def page_at(browser, url, outside_requests, timeout=90_000):
    """A new context (loopback requests only) and a page opened at `url`; (context, page). The page's
    uncaught errors, from its first moment, are in `page.errors`."""
    ctx = browser.new_context()
    ctx.route("**/*", loopback_only(outside_requests))
    page = ctx.new_page()
    page.set_default_timeout(timeout)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    return ctx, page


# Pyodide and the zarrlite wheel from the site, on the page's own thread, as a notebook kernel has them
# (no zarrlite worker): window.pyodideReady resolves to the runtime.
PYODIDE_PAGE = """<!doctype html><meta charset="utf-8"><title>pyodide</title>
<script type="module">
import { loadPyodide } from "/pyodide/pyodide.mjs";
window.pyodideReady = (async () => {
  const indexURL = new URL("/pyodide/", location.href).href;
  const pyodide = await loadPyodide({ indexURL, lockFileURL: indexURL + "pyodide-lock.json", checkAPIVersion: false });
  await pyodide.loadPackage(["zarrlite"], { messageCallback: () => {} });
  return pyodide;
})();
</script>"""


def pyodide_page(browser, server, outside_requests, setup: str = ""):
    """(context, page) with Pyodide and zarrlite loaded on the page and the Python `setup` run in it."""
    (server.data / "pyodide-page.html").write_text(PYODIDE_PAGE)
    ctx, page = page_at(browser, f"{server.url}/data/pyodide-page.html", outside_requests)
    page.evaluate("async code => { await (await window.pyodideReady).runPythonAsync(code); }", setup)
    return ctx, page


def zarrlite_page(browser, server, outside_requests, timeout=60_000):
    """(context, page) on the site's test page, zarrlite started (see `page_at`)."""
    ctx, page = page_at(browser, server.url + "/index.html", outside_requests, timeout)
    page.wait_for_selector("body[data-ready='1']", timeout=90_000)
    return ctx, page
