"""The same datasets read through every store: a local directory, .zip files made with Python's
zipfile (stored, deflated, zipped with the root folder), in-memory stores (zarrlite's and a plain
object that only has get/get_range/list), and HTTP against a real threaded server on 127.0.0.1
that honours Range requests (404 = missing chunk = fill value; partial reads of a shard fetch a
small part of it)."""

from __future__ import annotations

import asyncio
import os
import zipfile
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
import zarrlite
from writers import assert_same, files_under, make_data, manual_n5, n5_group

# ------------------------------------------------------------------------------------- datasets


@pytest.fixture(scope="module")
def datasets(fixture_dir):
    """name -> (directory, {array path: truth}). Each directory is one hierarchy with its root
    metadata at the top (what users zip or serve)."""
    out = {}

    root = fixture_dir("stores-v3") / "data.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=3, attributes={"kind": "v3"})
    truths = {}
    a = g.create_array("sharded", shape=(60, 50), dtype="uint16", chunks=(8, 10), shards=(32, 30),
                       compressors=[zarr.codecs.ZstdCodec(level=1)], fill_value=3)
    truths["sharded"] = make_data((60, 50), "uint16", seed=1)
    truths["sharded"][32:, 30:] = 3  # shard (1, 1) stays unwritten
    a[...] = truths["sharded"]
    b = g.create_array("sub/plain", shape=(33, 17), dtype="float32", chunks=(10, 10), fill_value=float("nan"),
                       compressors=[zarr.codecs.GzipCodec(level=1)])
    truths["sub/plain"] = make_data((33, 17), "float32", seed=2)
    b[:20] = truths["sub/plain"][:20]
    truths["sub/plain"][20:] = np.nan  # chunk rows 2, 3 never written
    zarr.consolidate_metadata(str(root))
    out["zarr3"] = (root, truths)

    root = fixture_dir("stores-v2") / "data.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=2, attributes={"kind": "v2"})
    truths = {}
    c = g.create_array("grp/ints", shape=(40, 30), dtype=">i4", chunks=(16, 16), compressors=numcodecs.Zlib(1),
                       fill_value=-1, chunk_key_encoding={"name": "v2", "separator": "/"})
    truths["grp/ints"] = make_data((40, 30), ">i4", seed=3)
    truths["grp/ints"][32:, 16:] = -1  # chunk (2, 1) never written
    c[:32] = truths["grp/ints"][:32]
    c[32:, :16] = truths["grp/ints"][32:, :16]
    zarr.consolidate_metadata(str(root))
    out["zarr2"] = (root, truths)

    root = fixture_dir("stores-n5") / "data.n5"
    n5_group(root, {"kind": "n5"}, version="4.0.0")
    truths = {"vol": manual_n5(root / "vol", make_data((9, 20, 31), "int16", seed=4), chunks_c=(4, 8, 16),
                               data_type="int16", compression={"type": "gzip"}, missing={(1, 1, 1)})}
    out["n5"] = (root, truths)
    return out


def _zip(src: Path, dest: Path, compression, with_root: bool) -> Path:
    with zipfile.ZipFile(dest, "w", compression=compression) as zf:
        for rel in files_under(src):
            zf.write(src / rel, f"{src.name}/{rel}" if with_root else rel)
    return dest


class DictStore:
    """The smallest possible store: only the three methods of the Store protocol."""

    def __init__(self, mapping):
        self.mapping = mapping

    async def get(self, key):
        return self.mapping.get(key)

    async def get_range(self, key, start, length):
        data = self.mapping.get(key)
        if data is None:
            return None
        if start < 0:
            return data[start:]
        return data[start:] if length is None else data[start:start + length]

    async def list(self, prefix=""):
        pre = prefix.strip("/") + "/" if prefix.strip("/") else ""
        return sorted({k[len(pre):].split("/", 1)[0] for k in self.mapping if k.startswith(pre)})


def _mapping(root: Path):
    return {rel: (root / rel).read_bytes() for rel in files_under(root)}


STORE_KINDS = ["dir", "zip-stored", "zip-deflated", "zip-with-root-folder", "memory-dictstore", "memory-zarrlite",
               "http"]


@pytest.fixture(scope="module")
def sources(datasets, fixture_dir, http_server):
    """(store kind, dataset) -> a source for zarrlite.open."""
    from zarrlite.stores import MemoryStore

    out = {}
    zips = fixture_dir("stores-zips")
    for name, (root, _) in datasets.items():
        out["dir", name] = str(root)
        out["zip-stored", name] = str(_zip(root, zips / f"{name}-stored.zip", zipfile.ZIP_STORED, False))
        out["zip-deflated", name] = str(_zip(root, zips / f"{name}-deflated.zip", zipfile.ZIP_DEFLATED, False))
        out["zip-with-root-folder", name] = str(_zip(root, zips / f"{name}-root.zip", zipfile.ZIP_DEFLATED, True))
        out["memory-dictstore", name] = DictStore(_mapping(root))
        out["memory-zarrlite", name] = MemoryStore(_mapping(root))
        out["http", name] = http_server.mount(f"ds-{name}", root)
    return out


CASES = [("zarr3", "sharded"), ("zarr3", "sub/plain"), ("zarr2", "grp/ints"), ("n5", "vol")]


@pytest.mark.parametrize("dataset,path", CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("kind", STORE_KINDS)
def test_open_path_full_read(sources, datasets, kind, dataset, path):
    truth = datasets[dataset][1][path]
    assert_same(zarrlite.open(sources[kind, dataset], path=path)[...], truth)


@pytest.mark.parametrize("dataset,path", CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("kind", STORE_KINDS)
def test_group_lookup_and_selection(sources, datasets, kind, dataset, path):
    truth = datasets[dataset][1][path]
    sel = (slice(None, None, -3),) + (slice(1, None, 2),) * (truth.ndim - 1)
    assert_same(zarrlite.open(sources[kind, dataset])[path][sel], truth[sel])


@pytest.mark.parametrize("dataset,expected", [("zarr3", (["sharded", "sub"], "v3")), ("zarr2", (["grp"], "v2"))])
@pytest.mark.parametrize("kind", STORE_KINDS)
def test_group_members_consolidated(sources, kind, dataset, expected):
    """Listing works everywhere: from the store, or from consolidated metadata where the store
    cannot list (HTTP)."""
    g = zarrlite.open(sources[kind, dataset])
    assert (sorted(g), g.attrs.get("kind")) == expected


@pytest.mark.parametrize("kind", [k for k in STORE_KINDS if k != "http"])
def test_n5_group_members(sources, kind):
    assert sorted(zarrlite.open(sources[kind, "n5"])) == ["vol"]


def test_open_async_over_http(sources, datasets):
    truth = datasets["zarr3"][1]["sharded"]

    async def main():
        arr = await zarrlite.open_async(sources["http", "zarr3"], "sharded")
        parts = await asyncio.gather(arr.get((slice(0, 30),)), arr.get((slice(30, 60),)))
        return np.concatenate(parts)

    assert_same(asyncio.run(main()), truth)


def test_pathlike_source(datasets):
    root, truths = datasets["zarr2"]
    assert_same(zarrlite.open(Path(root), "grp/ints")[...], truths["grp/ints"])


# ------------------------------------------------------------------------------------------ HTTP


@pytest.fixture(scope="module")
def big_shard(fixture_dir, http_server):
    """One 256x256 uint16 shard of 16x16 raw inner chunks (~128 KiB) served over HTTP."""
    root = fixture_dir("stores-bigshard") / "big.zarr"
    truth = make_data((256, 256), "uint16", seed=5)
    zarr_arr = zarr.create_array(str(root), shape=truth.shape, dtype="uint16", chunks=(16, 16), shards=(256, 256),
                                 compressors=None)
    zarr_arr[...] = truth
    (shard,) = [root / p for p in files_under(root) if p.startswith("c/")]
    return http_server.mount("bigshard", root), truth, shard.stat().st_size


def test_http_partial_shard_read_fetches_little(big_shard, http_server):
    url, truth, shard_size = big_shard
    arr = zarrlite.open(url, cache_bytes=0)
    http_server.stats.reset()
    got = arr[40:50, 100:110]  # two adjacent inner chunks of 512 bytes
    sent, log = http_server.stats.bytes_sent, list(http_server.stats.log)
    assert_same(got, truth[40:50, 100:110])
    assert sent < shard_size / 20, f"read {sent} bytes of a {shard_size}-byte shard for 100 elements: {log}"


def test_http_partial_shard_read_uses_range_requests(big_shard, http_server):
    url, truth, _ = big_shard
    arr = zarrlite.open(url, cache_bytes=0)
    http_server.stats.reset()
    arr[0:16, 0:16]
    log = list(http_server.stats.log)
    assert log and all(rng is not None and status == 206 for _, rng, status, _ in log), log


def test_http_partial_reads_request_count(big_shard, http_server):
    """4 inner chunks from one shard: an index read plus at most one request per chunk."""
    url, truth, _ = big_shard
    arr = zarrlite.open(url, cache_bytes=0)
    http_server.stats.reset()
    got = arr[10:20, 10:20]  # spans 4 inner chunks
    n = http_server.stats.requests
    assert_same(got, truth[10:20, 10:20])
    assert n <= 5, http_server.stats.log


def test_http_server_ignoring_range_still_correct(big_shard, http_server):
    url, truth, _ = big_shard
    arr = zarrlite.open(url, cache_bytes=0)
    http_server.set_ignore_range(True)
    try:
        got = arr[100:130, 7:200:7]
    finally:
        http_server.set_ignore_range(False)
    assert_same(got, truth[100:130, 7:200:7])


def test_http_404_chunks_are_fill(datasets, sources, http_server):
    root, truths = datasets["zarr3"]
    http_server.stats.reset()
    got = zarrlite.open(sources["http", "zarr3"], "sub/plain")[...]
    assert any(status == 404 for _, _, status, _ in http_server.stats.log)  # the fixture exercised 404s
    assert_same(got, truths["sub/plain"])


def test_http_missing_array_is_not_found(sources):
    with pytest.raises(zarrlite.errors.NotFoundError):
        zarrlite.open(sources["http", "zarr3"], "does/not/exist")


def test_http_server_gone_is_store_error(datasets):
    """A refused connection is a StoreError, after a bounded time (no hang)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(zarrlite.errors.StoreError):
        zarrlite.open(f"http://127.0.0.1:{port}/data.zarr", "sharded", retries=1, timeout=2)


# ---------------------------------------------------------------------------------- key safety

BAD_KEYS = ["../secret", "a/../../secret", "/etc/passwd", "a\\..\\b", "a\x00b", "..", "C:/windows"]


def _stores(datasets, sources):
    from zarrlite.stores import HttpStore, LocalStore, MemoryStore, ZipStore

    root, _ = datasets["zarr2"]
    return {
        "local": LocalStore(str(root)),
        "zip": ZipStore(sources["zip-deflated", "zarr2"]),
        "memory": MemoryStore(_mapping(root)),
        "http": HttpStore(sources["http", "zarr2"], retries=0),
    }


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
@pytest.mark.parametrize("store", ["local", "zip", "memory", "http"])
@pytest.mark.parametrize("method", ["get", "get_range"])
def test_store_rejects_escaping_keys(datasets, sources, store, key, method):
    s = _stores(datasets, sources)[store]
    call = s.get(key) if method == "get" else s.get_range(key, 0, 10)
    with pytest.raises(zarrlite.errors.KeyRejectedError):
        asyncio.run(call)


def test_local_store_does_not_read_outside_root(datasets, fixture_dir):
    """A sibling file next to the root is not reachable through any key spelling."""
    root, _ = datasets["zarr2"]
    secret = root.parent / "secret.txt"
    secret.write_text("top secret")
    from zarrlite.stores import LocalStore

    s = LocalStore(str(root))
    for key in ["../secret.txt", "grp/../../secret.txt", str(secret)]:
        with pytest.raises(zarrlite.errors.KeyRejectedError):
            asyncio.run(s.get(key))


def test_zip_entry_escaping_root_is_not_followed(datasets, fixture_dir):
    root, truths = datasets["zarr2"]
    dest = fixture_dir("stores-evil-zip") / "evil.zip"
    with zipfile.ZipFile(dest, "w") as zf:
        for rel in files_under(root):
            zf.write(root / rel, rel)
        zf.writestr("../evil/.zgroup", b'{"zarr_format": 2}')
        zf.writestr("/abs/.zgroup", b'{"zarr_format": 2}')
    g = zarrlite.open(str(dest))
    members = sorted(g)
    assert_same(g["grp/ints"][...], truths["grp/ints"])
    assert members == ["grp"]
    with pytest.raises(zarrlite.errors.ZarrliteError):
        zarrlite.open(str(dest), "../evil")


def test_not_a_source(fixture_dir):
    p = fixture_dir("stores-notzip") / "file.txt"
    p.write_text("hello")
    with pytest.raises(zarrlite.errors.StoreError):
        zarrlite.open(str(p))


def test_nonexistent_directory(fixture_dir):
    with pytest.raises(zarrlite.errors.ZarrliteError):
        zarrlite.open(str(fixture_dir("stores-none") / "nope"))


def test_corrupt_zip_is_store_error(fixture_dir):
    p = fixture_dir("stores-badzip") / "bad.zip"
    p.write_bytes(b"PK\x03\x04" + os.urandom(100))
    with pytest.raises(zarrlite.errors.StoreError):
        zarrlite.open(str(p))


def test_http_url_with_query_string(sources, datasets, http_server):
    """Signed URLs: the query is kept on every request (the test server ignores it)."""
    http_server.stats.reset()
    got = zarrlite.open(sources["http", "zarr3"] + "?sig=abc%2Fdef&x=1", "sub/plain")[...]
    assert_same(got, datasets["zarr3"][1]["sub/plain"])
    assert all("?sig=abc%2Fdef&x=1" in path for path in http_server.stats.paths())


@pytest.mark.parametrize("store", ["local", "zip-stored", "memory"])
def test_store_size_is_the_stored_size(datasets, sources, store):
    """`size(key)` (the viewer's chunk map) equals the stored bytes, None when missing, without reading."""
    from zarrlite.stores import LocalStore, MemoryStore, ZipStore

    root, _ = datasets["zarr2"]
    s = {"local": lambda: LocalStore(str(root)), "memory": lambda: MemoryStore(_mapping(root)),
         "zip-stored": lambda: ZipStore(sources["zip-stored", "zarr2"])}[store]()
    keys = sorted(_mapping(root))[:6]

    async def sizes():
        return [(await s.size(k), len(await s.get(k))) for k in keys], await s.size("no/such/chunk")

    pairs, missing = asyncio.run(sizes())
    assert all(size == length for size, length in pairs) and missing is None


# ------------------------------------------------------------------------- zip: one root-folder rule

def _zip_files(dest: Path, files: dict, compression=zipfile.ZIP_DEFLATED) -> str:
    with zipfile.ZipFile(dest, "w", compression=compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return str(dest)


@pytest.fixture(scope="module")
def nested_v3(fixture_dir):
    """A Zarr v3 array `a` (zarr-python) and its files, to be zipped under various folders."""
    root = fixture_dir("stores-nested") / "a"
    truth = make_data((12, 9), "<u2", seed=21)
    zarr_arr = zarr.create_array(str(root), shape=truth.shape, dtype=truth.dtype, chunks=(5, 4))
    zarr_arr[...] = truth
    return _mapping(root), truth


def test_zip_of_one_folder_without_root_metadata_is_that_folder(nested_v3, fixture_dir):
    """A zip whose every file sits inside one folder `data/` is the zip of that folder, whatever the folder
    holds (here an array `a` below it, no metadata at data/): the root lists ['a'] (as in the browser)."""
    files, truth = nested_v3
    from zarrlite.stores import ZipStore

    path = _zip_files(fixture_dir("stores-zip-rule") / "nested.zip", {f"data/a/{k}": v for k, v in files.items()})
    assert asyncio.run(ZipStore(path).list("")) == ["a"]
    assert_same(zarrlite.open(path, "a")[...], truth)


def test_zip_key_naming_the_folder_resolves(nested_v3, fixture_dir):
    """`open(zip, "data.zarr/a")` on a zip of the folder `data.zarr/` finds `a`, as `open(zip, "a")` does."""
    files, truth = nested_v3
    entries = {"data.zarr/zarr.json": b'{"zarr_format": 3, "node_type": "group", "attributes": {}}'}
    entries.update({f"data.zarr/a/{k}": v for k, v in files.items()})
    path = _zip_files(fixture_dir("stores-zip-named") / "named.zip", entries)
    assert_same(zarrlite.open(path, "data.zarr/a")[...], truth)
    assert_same(zarrlite.open(path, "a")[...], truth)
    assert sorted(zarrlite.open(path)) == ["a"]


def test_zip_with_a_file_at_the_root_keeps_its_folders(nested_v3, fixture_dir):
    files, truth = nested_v3
    entries = {"zarr.json": b'{"zarr_format": 3, "node_type": "group", "attributes": {}}'}
    entries.update({f"data/a/{k}": v for k, v in files.items()})
    from zarrlite.stores import ZipStore

    path = _zip_files(fixture_dir("stores-zip-rootfile") / "rootfile.zip", entries)
    assert asyncio.run(ZipStore(path).list("")) == ["data", "zarr.json"]
    assert_same(zarrlite.open(path, "data/a")[...], truth)


def test_zip_inflation_is_bounded_by_the_declared_size(fixture_dir):
    """A deflated member that inflates to far more than its declared size (a decompression bomb) is an
    error, and reading it never holds much more than the declared size in memory."""
    import struct
    import tracemalloc

    dest = fixture_dir("stores-zip-bomb") / "bomb.zip"
    _zip_files(dest, {"zarr.json": b'{"zarr_format": 3, "node_type": "group", "attributes": {}}',
                      "bomb": bytes(64 << 20)})
    raw = bytearray(dest.read_bytes())
    with zipfile.ZipFile(dest) as zf:
        info = zf.getinfo("bomb")
    declared = 1000
    struct.pack_into("<I", raw, info.header_offset + 22, declared)  # the local header's size
    cd = raw.rfind(b"PK\x01\x02" + bytes(raw[raw.rfind(b"PK\x01\x02"):][4:6]))  # the last central entry
    assert raw[cd + 46:cd + 46 + 4] == b"bomb"
    struct.pack_into("<I", raw, cd + 24, declared)
    dest.write_bytes(bytes(raw))

    from zarrlite.stores import ZipStore

    store = ZipStore(str(dest))
    tracemalloc.start()
    try:
        with pytest.raises(zarrlite.errors.StoreError, match="bomb"):
            asyncio.run(store.get("bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak} bytes while reading a member declared as {declared} bytes"
