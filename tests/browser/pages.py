"""Pages for the browser tests: only loopback requests leave them."""

from __future__ import annotations

import re


def loopback_only(outside_requests):
    """A route handler: requests to 127.0.0.1 (and data:, blob:) go through, any other is aborted and noted."""
    def guard(route):
        url = route.request.url
        if re.match(r"^(https?|wss?)://127\.0\.0\.1[:/]", url) or url.startswith(("data:", "blob:")):
            return route.continue_()
        outside_requests.append(url)
        return route.abort()

    return guard


def zarrlite_page(browser, server, outside_requests, timeout=60_000):
    """A new context and page on the site's test page, zarrlite started; (context, page). The page's
    uncaught errors, from its first moment, are in `page.errors`."""
    ctx = browser.new_context()
    ctx.route("**/*", loopback_only(outside_requests))
    page = ctx.new_page()
    page.set_default_timeout(timeout)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(server.url + "/index.html")
    page.wait_for_selector("body[data-ready='1']", timeout=90_000)
    return ctx, page
