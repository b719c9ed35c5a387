"""kerchunk references among local files handed over as a set (stores/refs_dropped.py: what the browser
does with a dropped or picked folder, several dropped files or a .zip; here the set is a LocalStore
over a folder the test fills): the reference file at the top of the set is found by content, its targets
are the set's files (relative paths, absolute paths and file:// URLs matched by name), never anything
outside it. HDF5 / NetCDF4 files written by h5py / netCDF4, references by kerchunk, reads compared with
what h5py / netCDF4 read."""

from __future__ import annotations

import json
import shutil

import h5py
import pytest
import zarrlite
from refs_fixtures import H5_DATASETS, kerchunk_refs, write_h5, write_netcdf
from writers import assert_same, make_data
from zarrlite.stores.local import LocalStore
from zarrlite.stores.refs_dropped import LocalFilesStore, dropped_file


def open_set(folder):
    return zarrlite.open(LocalFilesStore(LocalStore(str(folder))))


@pytest.fixture(scope="module")
def h5(fixture_dir):
    root = fixture_dir("dropped-h5")
    refs, truth = write_h5(root)
    return root, refs, truth


@pytest.mark.parametrize("name", H5_DATASETS)
def test_a_folder_with_references_and_relative_targets(h5, name):
    root, _, truth = h5
    assert_same(open_set(root)[name][...], truth[name])


@pytest.mark.parametrize("style", ["absolute path", "file URL"])
def test_absolute_targets_are_matched_by_name_among_the_files(fixture_dir, style):
    """References made where the file was (an absolute path, or a file:// URL), then the reference file
    and the HDF5 file dropped elsewhere: the original is gone, the target is the dropped file of that name."""
    made = fixture_dir("made-here")
    path = made / "scan.h5"
    truth = make_data((40, 30), "<i4", seed=21)
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=truth, chunks=(16, 16), compression="gzip", shuffle=True)
    refs = kerchunk_refs(path, str(path) if style == "absolute path" else path.as_uri())
    dropped = fixture_dir("dropped")
    (dropped / "refs.json").write_text(json.dumps(refs))
    (dropped / "data").mkdir()
    shutil.move(path, dropped / "data" / "scan.h5")
    assert_same(open_set(dropped)["x"][...], truth)


def test_netcdf_several_targets(fixture_dir):
    root = fixture_dir("dropped-nc")
    _, truth = write_netcdf(root, parquet=False)
    g = open_set(root)
    assert_same(g["t2m"][...], truth["t2m"])
    assert_same(g["time"][...], truth["time"])


def test_a_target_not_among_the_files_names_it(fixture_dir, h5):
    _, refs, _ = h5
    dropped = fixture_dir("dropped-alone")
    (dropped / "refs.json").write_text(json.dumps(refs))  # data.h5 not dropped with it
    with pytest.raises(zarrlite.ZarrliteError) as e:
        open_set(dropped)["gz"][0:10, 0:14]
    assert "'gz/0.0'" in str(e.value) and "data.h5 is not among the files opened" in str(e.value), e.value


def test_a_hostile_target_reads_nothing_outside_the_set(fixture_dir):
    """`../../../etc/passwd` and `/etc/passwd` name a file of this machine: only a file of the set named
    passwd could be read, and there is none."""
    dropped = fixture_dir("dropped-hostile")
    zarray = {"zarr_format": 2, "shape": [8], "chunks": [8], "dtype": "|u1", "compressor": None,
              "filters": None, "fill_value": 0, "order": "C"}
    for target in ("../../../etc/passwd", "/etc/passwd", "file:///etc/passwd"):
        refs = {"version": 1, "refs": {".zgroup": '{"zarr_format": 2}', "a/.zarray": json.dumps(zarray),
                                       "a/0": [target, 0, 8]}}
        (dropped / "refs.json").write_text(json.dumps(refs))
        with pytest.raises(zarrlite.ZarrliteError, match="is not among the files opened"):
            open_set(dropped)["a"][...]


def test_two_files_of_the_targets_name_are_a_tie(fixture_dir, h5):
    root, refs, _ = h5
    dropped = fixture_dir("dropped-tie")
    moved = json.loads(json.dumps(refs))
    for v in moved["refs"].values():
        if isinstance(v, list):
            v[0] = "/somewhere/else/data.h5"
    (dropped / "refs.json").write_text(json.dumps(moved))
    for sub in ("a", "b"):
        (dropped / sub).mkdir()
        shutil.copy(root / "data.h5", dropped / sub / "data.h5")
    with pytest.raises(zarrlite.ZarrliteError, match=r"could be any of the files opened a/data\.h5, b/data\.h5"):
        open_set(dropped)["gz"][0:10, 0:14]


def test_two_reference_files_are_an_error_naming_them(fixture_dir, h5):
    root, refs, _ = h5
    dropped = fixture_dir("dropped-two")
    shutil.copy(root / "data.h5", dropped / "data.h5")
    (dropped / "one.json").write_text(json.dumps(refs))
    (dropped / "two.json").write_text(json.dumps(refs))
    (dropped / "notes.json").write_text(json.dumps({"hello": 1}))  # other JSON is not judged
    with pytest.raises(zarrlite.ZarrliteError, match="one.json and two.json are reference files"):
        open_set(dropped)


def test_a_zarr_folder_stays_a_zarr_folder(fixture_dir, h5):
    """A folder with Zarr metadata at its top opens as Zarr, even beside a reference file."""
    import zarr

    _, refs, _ = h5
    root = fixture_dir("dropped-zarr")
    data = make_data((6, 7), "<u2", seed=3)
    zarr.open_group(str(root), mode="w", zarr_format=3).create_array("v", data=data, chunks=(3, 7))
    (root / "refs.json").write_text(json.dumps(refs))
    g = open_set(root)
    assert list(g) == ["v"]
    assert_same(g["v"][...], data)


@pytest.mark.parametrize("target, folder, names, want", [
    ("data.h5", "", ["data.h5", "x/data.h5"], "data.h5"),                    # relative, by path
    ("sub/data.h5", "refs", ["refs/sub/data.h5", "data.h5"], "refs/sub/data.h5"),  # against the folder
    ("../nc/f0.nc", "", ["f0.nc"], "f0.nc"),                                 # leads out of the set: by name
    ("/home/u/run/nc/f0.nc", "", ["a/f0.nc", "nc/f0.nc"], "nc/f0.nc"),         # the most trailing folders
    ("file:///home/u/my%20data/f.h5", "", ["my data/f.h5", "f.h5x"], "my data/f.h5"),
    ("C:\\runs\\day1\\f.h5", "", ["day1/f.h5", "day2/f.h5"], "day1/f.h5"),    # Windows paths
])
def test_the_matching_rule(target, folder, names, want):
    assert dropped_file(target, folder, names) == want


@pytest.mark.parametrize("target, names, message", [
    ("/x/f.h5", ["a/f.h5", "b/f.h5"], "could be any of"),
    ("/x/f.h5", ["g.h5"], "not among the files opened"),
    ("file:///", ["g.h5"], "names no file"),
])
def test_the_matching_rule_refuses(target, names, message):
    with pytest.raises(zarrlite.StoreError, match=message):
        dropped_file(target, "", names)


@pytest.mark.parametrize("compression", ["stored", "deflated"])
def test_a_zip_of_references_and_targets(h5, tmp_path, compression):
    import zipfile

    from zarrlite.stores.zip import ZipStore

    root, _, truth = h5
    path = tmp_path / "refs.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if compression == "stored" else zipfile.ZIP_DEFLATED) as z:
        z.write(root / "refs.json", "bundle/refs.json")
        z.write(root / "data.h5", "bundle/data.h5")
    g = zarrlite.open(LocalFilesStore(ZipStore(str(path))))
    for name in ("gz", "grp/deep", "partial"):
        assert_same(g[name][...], truth[name])
