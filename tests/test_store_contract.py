"""Every CPython store passes the store contract (tests/store_contract.py): memory, a directory, zips
(stored, deflated, zip of a folder) and HTTP against a real server on 127.0.0.1, bare and cached.
The browser stores pass the same checks in Chromium (tests/browser/test_store_contract.py)."""

from __future__ import annotations

import asyncio
import zipfile

import pytest
import store_contract as contract

from zarrlite.stores import CachedStore, HttpStore, LocalStore, MemoryStore, ZipStore


def write_tree(root, content):
    for key, value in content.items():
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(value)
    return root


def write_zip(path, content, compression, folder=""):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for key, value in content.items():
            zf.writestr(f"{folder}/{key}" if folder else key, value)
    with zipfile.ZipFile(path) as zf:  # the stored sizes, as Python's zipfile reads them
        sizes = {info.filename[len(folder) + 1 if folder else 0:]: info.compress_size for info in zf.infolist()}
    return str(path), sizes


@pytest.fixture(scope="module")
def stores(tmp_path_factory, http_server):
    """kind -> (a function making the store, contract options)."""
    base = tmp_path_factory.mktemp("contract")
    tree = write_tree(base / "tree", contract.CONTENT)
    url = http_server.mount("contract", tree)
    stored, _ = write_zip(base / "stored.zip", contract.CONTENT, zipfile.ZIP_STORED)
    deflated, deflated_sizes = write_zip(base / "deflated.zip", contract.CONTENT, zipfile.ZIP_DEFLATED)
    folder, folder_sizes = write_zip(base / "folder.zip", contract.CONTENT, zipfile.ZIP_DEFLATED, folder="data.zarr")
    return {
        "memory": (lambda: MemoryStore(contract.CONTENT), {}),
        "local": (lambda: LocalStore(str(tree)), {}),
        "zip-stored": (lambda: ZipStore(stored), {}),
        "zip-deflated": (lambda: ZipStore(deflated), {"sizes": deflated_sizes}),
        "zip-of-folder": (lambda: ZipStore(folder), {"sizes": folder_sizes}),
        "http": (lambda: HttpStore(url, retries=0), {"can_list": False}),
        "http-cached": (lambda: CachedStore(HttpStore(url, retries=0), 1 << 20), {"can_list": False}),
    }


@pytest.mark.parametrize("check", [c.__name__ for c in contract.CHECKS])
@pytest.mark.parametrize("kind", ["memory", "local", "zip-stored", "zip-deflated", "zip-of-folder", "http",
                                  "http-cached"])
def test_store_contract(stores, kind, check):
    make, options = stores[kind]
    assert asyncio.run(contract.run_checks(make(), only={check}, **options)) == [check]


def test_the_contract_can_fail():
    """A store that gets one rule wrong (here: a suffix read as a prefix) fails the contract."""

    class Wrong(MemoryStore):
        async def get_range(self, key, start, length):
            return await super().get_range(key, abs(start), length)

    with pytest.raises(AssertionError, match="get_range"):
        asyncio.run(contract.run_checks(Wrong(contract.CONTENT), only={"check_get_range"}))
