"""Fixtures and the run summary of the fuzz suite (the harness itself is fuzzkit.py)."""

from __future__ import annotations

import pytest

import corpus
import fuzzkit


@pytest.fixture(scope="session")
def seeds():
    """{family: [corpus.Seed]}: real arrays per format x codec, as {key: bytes}."""
    return corpus.Corpus(corpus.seeds())


@pytest.fixture(autouse=True, scope="module")
def _stop_tracing_after_module():
    yield
    fuzzkit.stop_tracing()  # tracemalloc slows every allocation: not for the rest of the test run


def pytest_terminal_summary(terminalreporter):
    fuzzkit.write_summary(terminalreporter)
