"""Shared, generic fixtures. Format-specific fixture writing lives in tests/writers.py."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
for p in (str(TESTS), str(ROOT / "py")):
    # tests import `writers` / `httpserver`; zarrlite from the source tree when not installed (-e)
    if p not in sys.path:
        sys.path.insert(0 if p == str(TESTS) else len(sys.path), p)


@pytest.fixture(scope="session")
def fixture_dir(tmp_path_factory):
    """fixture_dir("name") -> a fresh directory, unique per call, living for the whole session."""
    counter = itertools.count()

    def make(name: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
        return tmp_path_factory.mktemp(f"{safe}-{next(counter)}", numbered=False)

    return make


@pytest.fixture(scope="session")
def http_server():
    """A real threaded HTTP server on 127.0.0.1 serving a tree of directories, honouring Range.

    `http_server.mount(name, directory) -> base URL`; `.stats` counts requests and bytes sent."""
    from httpserver import RangeHTTPServer

    server = RangeHTTPServer()
    server.start()
    yield server
    server.stop()


def pytest_report_header(config):
    try:
        import zarrlite

        where = getattr(zarrlite, "__file__", "?")
    except Exception as e:  # noqa: BLE001 - only for the header
        where = f"not importable: {e}"
    return [f"zarrlite: {where}", f"PYTHONPATH root: {ROOT}", f"pid {os.getpid()}"]
