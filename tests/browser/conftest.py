"""Browser tests: headless Debian Chromium (pytest-playwright), web/dist/ and fixtures served on
127.0.0.1 by a threaded server that honours Range and counts bytes, and no request leaves the machine."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
DIST = ROOT / "web" / "dist"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.fail("Debian's chromium is not installed (./build.sh test installs it with apt)")
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_FLAGS}


from pages import loopback_only, zarrlite_page  # noqa: E402  (tests/browser/pages.py)
from server import start_server  # noqa: E402  (tests/browser/server.py)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("browser-data")


@pytest.fixture(scope="session")
def server(data_dir):
    """web/dist/ at /, the session's fixtures at /data/ (CORS open)."""
    if not (DIST / "pyodide" / "pyodide-lock.json").exists():
        pytest.fail("web/dist/ is not built: run ./build.sh (or bash web/build-web.sh)")
    srv = start_server(DIST, data_dir)
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture(scope="session")
def nocors_server(data_dir):
    """The same fixtures from another origin (another port) that sends no CORS headers."""
    srv = start_server(DIST, data_dir, cors=False)
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture(scope="session")
def outside_requests():
    """Every request that tried to leave 127.0.0.1 (all are aborted)."""
    return []


@pytest.fixture
def context(context, outside_requests):
    context.route("**/*", loopback_only(outside_requests))
    yield context
    assert not outside_requests, f"requests left the machine: {outside_requests}"


@pytest.fixture(scope="session")
def shared_page(browser, server, outside_requests):
    """One page with zarrlite started, shared by the read tests (start-up costs ~3 s)."""
    ctx, page = zarrlite_page(browser, server, outside_requests)
    yield page
    ctx.close()
    assert not outside_requests, f"requests left the machine: {outside_requests}"
