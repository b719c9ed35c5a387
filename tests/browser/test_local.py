"""Local data through the page's file inputs: a picked folder (<input webkitdirectory>) and a .zip."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from cases import SUMMARY_JS, expected
from writers import make_data

import zarr

READ_JS = f"""async ({{path, selection}}) => ({SUMMARY_JS})(await (await window.zarrlite).read(path, selection))"""


@pytest.fixture(scope="module")
def hierarchy(tmp_path_factory):
    """A Zarr v3 group (zarr-python 3): raw/ (sharded, zstd) and labels/mask (v3, gzip)."""
    root = tmp_path_factory.mktemp("local") / "sample.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=3, attributes={"title": "local sample"})
    raw = make_data((3, 70, 90), "<u2", seed=11)
    a = g.create_array("raw", shape=raw.shape, dtype=raw.dtype, chunks=(1, 16, 32), shards=(1, 32, 64))
    a[...] = raw
    mask = make_data((70, 90), "|u1", seed=12)
    from zarr.codecs import GzipCodec
    b = g.create_group("labels").create_array("mask", shape=mask.shape, dtype=mask.dtype, chunks=(32, 32),
                                              compressors=[GzipCodec()])
    b[...] = mask
    return root, {"raw": raw, "labels/mask": mask}


def _open_with_input(page, selector, files):
    before = int(page.evaluate("document.body.dataset.opened || 0"))
    page.set_input_files(selector, files)
    page.wait_for_function(f"Number(document.body.dataset.opened || 0) > {before}")
    error = page.evaluate("window.lastError ? window.lastError.message : null")
    assert error is None, error
    return page.evaluate("window.lastTree")


def _names(tree):
    return {tree["path"]} | {p for c in tree.get("children", []) for p in _names(c)}


def _check_reads(page, arrays):
    for path, truth in arrays.items():
        for sel, text in [((Ellipsis,), "..."), ((slice(None), slice(3, 60, 4)), "...,3:60:4")]:
            sel = (Ellipsis, slice(3, 60, 4)) if text != "..." else sel
            assert page.evaluate(READ_JS, {"path": path, "selection": text}) == expected(truth, sel), (path, text)


def test_open_picked_folder(shared_page, hierarchy):
    root, arrays = hierarchy
    tree = _open_with_input(shared_page, "#folder", str(root))
    assert tree["kind"] == "group" and tree["attrs"] == {"title": "local sample"}
    assert {"raw", "labels", "labels/mask"} <= _names(tree)
    _check_reads(shared_page, arrays)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_open_zip(shared_page, hierarchy, tmp_path, compression):
    root, arrays = hierarchy
    zip_path = tmp_path / "sample.zarr.zip"
    with zipfile.ZipFile(zip_path, "w", compression) as z:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(root).as_posix())
    tree = _open_with_input(shared_page, "#zip", str(zip_path))
    assert {"raw", "labels/mask"} <= _names(tree)
    _check_reads(shared_page, arrays)


def test_open_zip_of_folder(shared_page, hierarchy, tmp_path):
    """A zip holding the folder itself (sample.zarr/...) opens at that folder."""
    root, arrays = hierarchy
    zip_path = tmp_path / "folder.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(root.parent).as_posix())
    tree = _open_with_input(shared_page, "#zip", str(zip_path))
    assert {"raw", "labels/mask"} <= _names(tree)
    _check_reads(shared_page, {"raw": arrays["raw"]})


def test_open_directory_handle(shared_page, server, hierarchy):
    """A FileSystemDirectoryHandle (here from the origin-private file system, as showDirectoryPicker()
    would give one): the hierarchy is copied into it, then opened through the handle."""
    root, arrays = hierarchy
    files = {f.relative_to(root).as_posix(): f.read_bytes().hex() for f in root.rglob("*") if f.is_file()}
    tree = shared_page.evaluate("""async files => {
      const opfs = await navigator.storage.getDirectory();
      try { await opfs.removeEntry("sample.zarr", { recursive: true }); } catch {}
      const top = await opfs.getDirectoryHandle("sample.zarr", { create: true });
      for (const [path, hex] of Object.entries(files)) {
        const parts = path.split("/");
        let dir = top;
        for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create: true });
        const w = await (await dir.getFileHandle(parts.at(-1), { create: true })).createWritable();
        await w.write(new Uint8Array(hex.match(/../g).map(h => parseInt(h, 16))));
        await w.close();
      }
      const zl = await window.zarrlite;
      return zl.open(top);
    }""", files)
    assert {"raw", "labels/mask"} <= _names(tree)
    _check_reads(shared_page, arrays)


def test_folder_opens_without_reading_what_it_does_not_need(shared_page, hierarchy, tmp_path):
    """Files are read lazily (File.slice): a folder that also holds a 20 GiB file (sparse on disk) opens
    and reads as usual; a store that read files up front would fail on it."""
    import shutil

    root, arrays = hierarchy
    folder = tmp_path / "big.zarr"
    shutil.copytree(root, folder)
    with open(folder / "labels" / "scan.raw", "wb") as f:
        f.truncate(20 << 30)
    tree = _open_with_input(shared_page, "#folder", str(folder))
    assert {"raw", "labels/mask"} <= _names(tree)
    _check_reads(shared_page, {"labels/mask": arrays["labels/mask"]})
