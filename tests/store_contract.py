"""The store contract: what every zarrlite store does, as plain async checks (in the spirit of
zarr-python's `testing/store.py` StoreTests). No pytest and no numpy here: the same source runs in
CPython (tests/test_store_contract.py) and in Pyodide in Chromium (tests/browser/test_store_contract.py).

A store under test is built from CONTENT (key -> bytes); every expectation is Python slicing of CONTENT.

    await run_checks(store, can_list=True, sizes=None)   # -> the names of the checks run

`can_list=False`: the store may answer list() with None (HTTP). `sizes`: key -> the stored size when it
is not the value's length (a deflated zip stores fewer bytes than it gives).
"""

from zarrlite.errors import KeyRejectedError

VALUE = bytes(range(256)) * 4  # 1024 bytes, each offset recognisable
CONTENT = {
    "zarr.json": b'{"zarr_format": 3, "node_type": "group", "attributes": {}}',
    "a/b/c": VALUE,
    "a/d": b"",
    "a/e": b"e" * 3000,
    "with space/x": b"spaced",
}
MISSING = ["nope", "a/nope", "a/b/c/deeper", "zarr.json/x"]
HOSTILE = ["../x", "a/../../x", "/abs", "a\\b", "a\x00b"]
# (start, length) -> VALUE's bytes, by the get_range rule: length None = to the end, start < 0 = a suffix
RANGES = [
    (0, 10), (100, 50), (0, None), (1000, None), (-10, None), (-5000, None), (2000, 10), (1020, 10),
    (5, 0), (1024, None), (1023, 1),
]


def expected_range(value, start, length):
    if start < 0:
        return value[start:]
    return value[start:] if length is None else value[start:start + length]


async def check_get(store, **_):
    for key, value in CONTENT.items():
        got = await store.get(key)
        assert got == value, f"get({key!r}): {None if got is None else len(got)} bytes, want {len(value)}"
        assert isinstance(got, bytes), f"get({key!r}) gave {type(got).__name__}, not bytes"


async def check_missing(store, **_):
    for key in MISSING:
        assert await store.get(key) is None, f"get({key!r}) of a missing key is not None"
        assert await store.get_range(key, 0, 4) is None, f"get_range({key!r}) of a missing key is not None"
        assert await store.get_range(key, -4, None) is None, f"suffix of a missing key {key!r} is not None"


async def check_get_range(store, **_):
    for start, length in RANGES:
        got = await store.get_range("a/b/c", start, length)
        want = expected_range(VALUE, start, length)
        assert got == want, f"get_range('a/b/c', {start}, {length}): {got[:8] if got else got!r}... " \
                            f"({None if got is None else len(got)} bytes), want {len(want)} bytes"
    assert await store.get_range("a/d", 0, 5) == b"", "a range of an empty value is not b''"
    assert await store.get_range("a/e", 2990, None) == b"e" * 10


async def check_list(store, can_list=True, **_):
    expected = {"": ["a", "with space", "zarr.json"], "a": ["b", "d", "e"], "a/b": ["c"], "nope": []}
    for prefix, names in expected.items():
        got = await store.list(prefix)
        if got is None:
            assert not can_list, f"list({prefix!r}) is None for a store that can list"
            continue
        assert got == names, f"list({prefix!r}) = {got}, want {names}"


async def check_size(store, sizes=None, **_):
    if not hasattr(store, "size"):
        return
    for key, value in CONTENT.items():
        want = (sizes or {}).get(key, len(value))
        got = await store.size(key)
        assert got == want, f"size({key!r}) = {got}, want {want}"
    for key in MISSING:
        assert await store.size(key) is None, f"size({key!r}) of a missing key is not None"


async def check_hostile_keys(store, can_list=True, **_):
    calls = [("get", lambda k: store.get(k)), ("get_range", lambda k: store.get_range(k, 0, 4)),
             ("suffix", lambda k: store.get_range(k, -4, None))]
    if hasattr(store, "size"):
        calls.append(("size", lambda k: store.size(k)))
    if can_list:
        calls.append(("list", lambda k: store.list(k)))
    for key in HOSTILE:
        for name, call in calls:
            try:
                got = await call(key)
            except KeyRejectedError:
                continue
            raise AssertionError(f"{name}({key!r}) was not refused (gave {got!r:.40})")


CHECKS = [check_get, check_missing, check_get_range, check_list, check_size, check_hostile_keys]


async def run_checks(store, can_list=True, sizes=None, only=None):
    """Run the checks (all, or those named in `only`) on `store`; an AssertionError names what broke."""
    done = []
    for check in CHECKS:
        if only is None or check.__name__ in only:
            await check(store, can_list=can_list, sizes=sizes)
            done.append(check.__name__)
    return done
