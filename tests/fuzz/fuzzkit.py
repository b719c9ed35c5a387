"""The fuzz suite's harness: settings, the per-case guard (time and memory), outcome bookkeeping,
and the mutation strategies shared by the targets.

Every case must end in a result or a `zarrlite.ZarrliteError` subclass. Anything else fails the case:
another exception type (hypothesis then shrinks it and prints the smallest input), a case running past
`CASE_SECONDS` (a SIGALRM interrupts it; a case stuck in C code is caught by faulthandler's watchdog,
which dumps every thread's stack and ends the process after `HARD_SECONDS`), or a case whose traced
allocations (tracemalloc: Python objects, numpy arrays, the compression libraries' buffers) peak above
its memory budget.

`ZARRLITE_FUZZ_CASES` sets the examples per target (`./build.sh fuzz`: 10,000, random); without it each
target runs a small derandomized slice (`DEFAULT_CASES`), the same inputs on every run.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import faulthandler
import json
import math
import os
import signal
import sys
import time
import tracemalloc
import unittest.mock

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import zarrlite
import zarrlite.array

DEFAULT_CASES = 200
CASES = int(os.environ.get("ZARRLITE_FUZZ_CASES") or DEFAULT_CASES)
LONG_RUN = "ZARRLITE_FUZZ_CASES" in os.environ
CASE_SECONDS = 10.0     # soft limit: SIGALRM raises CaseTimeout in the case
HARD_SECONDS = 60.0     # hard limit: faulthandler dumps all stacks and exits (a hang in C code)
MIB = 1 << 20

SETTINGS = settings(
    max_examples=CASES,
    derandomize=not LONG_RUN,
    database=None,          # every run starts clean: the regression inputs are the @example lines
    deadline=None,          # the guard's CASE_SECONDS is the per-case time limit
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


class CaseTimeout(AssertionError):
    """A case ran longer than CASE_SECONDS (a hang or a pathological slowdown)."""


class Stats:
    """Per-target counts for the summary (`pytest_terminal_summary` in conftest.py)."""

    def __init__(self):
        self.cases = 0
        self.seconds = 0.0
        self.peak = 0
        self.outcomes = collections.Counter()


STATS: dict[str, Stats] = collections.defaultdict(Stats)


def _on_alarm(signum, frame):
    raise CaseTimeout(f"case ran longer than {CASE_SECONDS:g} s")


@contextlib.contextmanager
def guard(target: str, memory_budget: int):
    """Run one case under the time and memory limits and count it for `target`."""
    stats = STATS[target]
    tracemalloc.start(1)  # only around the case: hypothesis' own work is not traced (nor slowed)
    before = tracemalloc.get_traced_memory()[0]
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    faulthandler.dump_traceback_later(HARD_SECONDS, exit=True)
    start = time.perf_counter()
    try:
        yield stats
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)
        stats.seconds += time.perf_counter() - start
        stats.cases += 1
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
    stats.peak = max(stats.peak, peak)
    assert peak <= memory_budget, f"case allocated {peak / MIB:.1f} MiB, over its budget of {memory_budget / MIB:.1f} MiB"


def outcome(stats: Stats, func, *args, label: str = ""):
    """Call `func`; a ZarrliteError is a valid outcome (returned), any other exception fails the case."""
    try:
        result = func(*args)
    except zarrlite.ZarrliteError as e:
        message = str(e)
        assert message.strip(), f"{type(e).__name__} without a message"
        stats.outcomes[label + type(e).__name__] += 1
        return e
    stats.outcomes[label + "result"] += 1
    return result


def stop_tracing():
    if tracemalloc.is_tracing():
        tracemalloc.stop()


# ------------------------------------------------------------------------------ the event loop

_LOOP: asyncio.AbstractEventLoop | None = None


async def _inline(func, *args):
    return func(*args)


def run(coro):
    """Run a coroutine on one long-lived loop in this (main) thread, so SIGALRM can interrupt it.

    Decoding runs inline, as zarrlite runs it in Pyodide (`runtime.run_cpu`), not in worker threads:
    a case's memory is then all its own, and no decoder releases the GIL in a thread while tracemalloc
    traces (CPython 3.12.1 crashed so, in liblzma's allocator; thread-safety fixes to tracemalloc came
    in 3.12.9, gh-128679). A loop interrupted by a timeout is dropped, not reused."""
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    try:
        with unittest.mock.patch.object(zarrlite.array, "run_cpu", _inline):
            return _LOOP.run_until_complete(coro)
    except CaseTimeout:
        _LOOP = None
        raise


# --------------------------------------------------------------------------- byte mutations

INTERESTING_INTS = (0, 1, 2, 7, 8, 255, 256, 0x7F, 0x80, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                    2**62, 2**63 - 1, 2**63, 2**64 - 1)


@st.composite
def byte_mutation(draw, size: int):
    """One edit of a byte string of length `size`: (op, position, argument)."""
    op = draw(st.sampled_from(["flip", "flip", "byte", "truncate", "insert", "delete", "int32", "int64",
                               "repeat", "random"]))
    pos = draw(st.integers(0, max(size - 1, 0)))
    if op == "flip":
        arg = draw(st.integers(0, 7))
    elif op == "byte":
        arg = draw(st.integers(0, 255))
    elif op in ("int32", "int64"):
        arg = (draw(st.sampled_from(INTERESTING_INTS)), draw(st.sampled_from(["<", ">"])))
    elif op == "insert":
        arg = draw(st.binary(min_size=1, max_size=16))
    elif op == "delete":
        arg = draw(st.integers(1, 16))
    elif op == "repeat":
        arg = draw(st.integers(1, 64))
    elif op == "random":
        arg = draw(st.binary(max_size=64))
    else:
        arg = None
    return op, pos, arg


def apply_byte_mutation(data: bytes, mutation) -> bytes:
    op, pos, arg = mutation
    b = bytearray(data)
    if not b and op not in ("insert", "random"):
        return bytes(b)
    pos = min(pos, max(len(b) - 1, 0))
    if op == "flip":
        b[pos] ^= 1 << arg
    elif op == "byte":
        b[pos] = arg
    elif op == "truncate":
        del b[pos:]
    elif op == "insert":
        b[pos:pos] = arg
    elif op == "delete":
        del b[pos:pos + arg]
    elif op in ("int32", "int64"):
        value, endian = arg
        width = 4 if op == "int32" else 8
        b[pos:pos + width] = (value % (1 << 8 * width)).to_bytes(width, "little" if endian == "<" else "big")
    elif op == "repeat":  # a region repeated: plausible-looking garbage
        b[pos:pos] = b[pos:pos + arg] * 4
    elif op == "random":
        return arg
    return bytes(b)


def byte_mutations(size: int, max_edits: int = 3):
    return st.lists(byte_mutation(size), min_size=1, max_size=max_edits)


# --------------------------------------------------------------------------- JSON mutations

INTERESTING_JSON = [
    0, -1, 1, 2, 3, 2**31, 2**32, 2**53, 2**62, 2**63 - 1, 2**63, 2**64, -2**63, 10**30, 1.5, -0.0, 1e308,
    True, False, None, "", "NaN", "Infinity", "-Infinity", "0x7fc00000", "0xffffffffffffffffff", "NaT",
    "pickle", "numcodecs.pickle", "vlen-utf8", "object", "zstd", "blosc", "gzip", "zlib", "bz2", "lzma", "lz4",
    "xz", "bzip2", "raw", "crc32c", "sharding_indexed", "bytes", "transpose", "delta", "fixedscaleoffset",
    "astype", "packbits", "shuffle", "quantize", "C", "F", "/", ".", "..", "../outside", "/etc", "a\\b",
    "a\x00b", "c:", "big", "little", "start", "end", "|O", "<f8", ">u2", "|b1", "<M8[ns]", "<m8", "|S4",
    "<U3", "V8", "uint64", "int8", "float16", "complex64", "bool", "regular", "default", "v2", "array",
    "group", [], {}, [0], [1], [0, 0], [-1, 4], [2**62, 2**62], [2**31, 2**31, 2**31], [1] * 40, [0.5],
    ["x", "y"], {"name": "bytes"}, {"name": "zstd", "configuration": {}},
    {"name": "sharding_indexed", "configuration": {"chunk_shape": [1, 1], "codecs": [{"name": "bytes"}]}},
    {"id": "zlib"}, {"id": "pickle"}, {"id": "delta", "dtype": "<i8"},
]

JSON_KEYS = [
    "zarr_format", "shape", "chunks", "dtype", "compressor", "filters", "fill_value", "order",
    "dimension_separator", "node_type", "data_type", "chunk_grid", "chunk_key_encoding", "codecs",
    "configuration", "name", "chunk_shape", "index_codecs", "index_location", "endian", "separator",
    "dimension_names", "attributes", "storage_transformers", "consolidated_metadata", "metadata",
    "dimensions", "blockSize", "dataType", "compression", "type", "level", "useZlib", "cname", "clevel",
    "shuffle", "blocksize", "id", "elementsize", "astype", "scale", "offset", "multiscales", "datasets",
    "path", "axes", "coordinateTransformations", "version", "omero", "channels", "scales", "ome",
]

json_leaf = st.one_of(st.sampled_from(INTERESTING_JSON), st.none(), st.booleans(),
                      st.integers(-2**70, 2**70), st.floats(allow_nan=True), st.text(max_size=12))
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(JSON_KEYS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


def json_paths(doc, prefix=()):
    """Every path (tuple of keys/indices) in a JSON document, the root included."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from json_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from json_paths(v, prefix + (i,))


@st.composite
def json_mutation(draw):
    """(path index, op, value, key): resolved against the document when applied."""
    op = draw(st.sampled_from(["replace", "replace", "tweak", "tweak", "tweak", "delete", "insert", "wrap",
                               "scale"]))
    return (draw(st.integers(0, 10_000)), op, draw(json_value),
            draw(st.sampled_from(JSON_KEYS) | st.text(max_size=6)))


def apply_json_mutation(doc, mutation):
    index, op, value, key = mutation
    value = copy.deepcopy(value)  # drawn values may be shared constants: never mutate those
    paths = list(json_paths(doc))
    path = paths[index % len(paths)]
    if not path:
        return value if op == "replace" else doc
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    old = parent[last]
    if op == "replace":
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "insert":
        if isinstance(old, dict):
            old[key] = value
        elif isinstance(old, list):
            old.insert(index % (len(old) + 1), value)
        else:
            parent[last] = value
    elif op == "tweak":
        parent[last] = _tweak(old, index)
    elif op == "wrap":
        parent[last] = [old]
    elif op == "scale" and isinstance(old, int) and not isinstance(old, bool):
        parent[last] = old * 2**31 + 1 if index % 2 else -old
    return doc


_STRINGS = [v for v in INTERESTING_JSON if isinstance(v, str)]


def _tweak(old, n: int):
    """A small, plausible change of a value: what a buggy writer might produce."""
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return (old + 1, old - 1, 0, -old, old * 2**20, old + 2**32, old * 2**40 + 1)[n % 7]
    if isinstance(old, float):
        return (float("nan"), float("inf"), -old, old * 1e300)[n % 4]
    if isinstance(old, list):
        return (old[:-1], old + old[-1:], old[::-1], old * 3, [])[n % 5]
    if isinstance(old, str):
        return _STRINGS[n % len(_STRINGS)]
    if isinstance(old, dict) and old:
        keys = list(old)
        return {k: v for k, v in old.items() if k != keys[n % len(keys)]}
    return (0, "", [], {})[n % 4]


def json_mutations(max_edits: int = 3):
    return st.lists(json_mutation(), min_size=1, max_size=max_edits)


def mutate_json_bytes(raw: bytes, mutations) -> bytes:
    doc = json.loads(raw)
    for m in mutations:
        doc = apply_json_mutation(doc, m)
    return json.dumps(doc).encode()


def selection_for(shape, max_chunks: int, chunks) -> tuple:
    """The whole array, or (when that touches too many chunks for a quick case) a corner of it."""
    n = math.prod(math.ceil(s / c) if c else 0 for s, c in zip(shape, chunks)) if shape else 1
    if n <= max_chunks:
        return ...
    side = max(1, int(max_chunks ** (1 / max(len(shape), 1))))
    return tuple(slice(0, c * side) for c in chunks)


def write_summary(terminalreporter):
    if not STATS:
        return
    terminalreporter.section("zarrlite fuzz targets")
    total = 0
    for target, s in sorted(STATS.items()):
        total += s.cases
        outcomes = ", ".join(f"{k} {v}" for k, v in s.outcomes.most_common())
        terminalreporter.write_line(f"{target:34s} {s.cases:7d} cases {s.seconds:8.1f} s  "
                                    f"peak {s.peak / MIB:6.1f} MiB  [{outcomes}]")
    terminalreporter.write_line(f"{'total':34s} {total:7d} cases  (ZARRLITE_FUZZ_CASES={CASES}, "
                                f"{'random' if LONG_RUN else 'derandomized'})")


def check_count(target: str):
    """Each target must really have run CASES examples (hypothesis stops early if a space runs out)."""
    n = STATS[target].cases
    assert n >= CASES, f"{target}: only {n} of {CASES} cases ran"


__all__ = [name for name in dir(sys.modules[__name__]) if not name.startswith("_")]
