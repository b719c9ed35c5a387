"""`zarrlite info SOURCE [PATH]` and `zarrlite get SOURCE PATH --select ... -o out.npy`, run as a
user would: in a subprocess, through `python -m zarrlite.cli` and the installed console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
from writers import assert_same, make_data, manual_n5

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "zarrlite"


def run(*args, script=False, timeout=60):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "py"), env.get("PYTHONPATH")]))
    cmd = [str(SCRIPT), *args] if script else [sys.executable, "-m", "zarrlite.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def dataset(fixture_dir):
    root = fixture_dir("cli") / "data.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=3, attributes={"description": "cli test"})
    vol = make_data((6, 20, 30), "uint16", seed=1)
    a = g.create_array("raw/vol", shape=vol.shape, dtype="uint16", chunks=(2, 8, 8), shards=(2, 16, 16),
                       compressors=[zarr.codecs.ZstdCodec(level=1)], dimension_names=["z", "y", "x"])
    a[...] = vol
    g["raw"].attrs["note"] = "raw data"
    flt = make_data((50,), "float64", seed=2)
    b = g.create_array("labels", shape=flt.shape, dtype="float64", chunks=(7,), compressors=None)
    b[...] = flt
    v2 = fixture_dir("cli-v2") / "v2.zarr"
    ints = make_data((12, 9), ">i4", seed=3)
    c = zarr.create_array(str(v2), shape=ints.shape, dtype=">i4", chunks=(5, 5), zarr_format=2,
                          compressors=numcodecs.Zlib(1))
    c[...] = ints
    n5 = fixture_dir("cli-n5") / "v.n5"
    n5_truth = manual_n5(n5, make_data((5, 6, 7), "int16", seed=4), chunks_c=(2, 3, 4), data_type="int16",
                         compression={"type": "gzip"})
    return {"root": root, "vol": vol, "labels": flt, "v2": v2, "ints": ints, "n5": n5, "n5_truth": n5_truth}


def test_info_group_lists_tree(dataset):
    r = run("info", str(dataset["root"]))
    assert r.returncode == 0, r.stderr
    assert all(s in r.stdout for s in ("raw", "vol", "labels")), r.stdout


def test_info_array_shows_shape_dtype_chunks(dataset):
    r = run("info", str(dataset["root"]), "raw/vol")
    assert r.returncode == 0, r.stderr
    flat = r.stdout.replace(" ", "")
    assert all(s in flat for s in ("6,20,30", "uint16", "2,8,8", "zstd")), r.stdout


def test_info_n5(dataset):
    r = run("info", str(dataset["n5"]))
    assert r.returncode == 0 and "5,6,7" in r.stdout.replace(" ", "") and "int16" in r.stdout, r.stdout + r.stderr


def test_info_over_http(dataset, http_server):
    url = http_server.mount("cli-data", dataset["root"])
    r = run("info", url, "raw/vol")
    assert r.returncode == 0 and "6,20,30" in r.stdout.replace(" ", ""), r.stdout + r.stderr


@pytest.mark.parametrize("select,sel", [
    ("0,:,1:9:2", (0, slice(None), slice(1, 9, 2))),
    ("-1,::-3,5", (-1, slice(None, None, -3), 5)),
    ("...,7", (Ellipsis, 7)),
    ("1:4", (slice(1, 4),)),
    (None, (Ellipsis,)),
], ids=str)
def test_get_selection_to_npy(dataset, tmp_path, select, sel):
    out = tmp_path / "out.npy"
    args = ["get", str(dataset["root"]), "raw/vol", "-o", str(out)] + ([f"--select={select}"] if select else [])
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert_same(np.load(out), dataset["vol"][sel])


def test_select_starting_with_negative_index(dataset, tmp_path):
    """`--select "-1,:"` (space-separated, as documented) must not be taken for an option."""
    out = tmp_path / "out.npy"
    r = run("get", str(dataset["root"]), "raw/vol", "--select", "-1,::-3,5", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert_same(np.load(out), dataset["vol"][-1, ::-3, 5])


@pytest.mark.parametrize("which", ["v2", "n5"])
def test_get_other_formats(dataset, tmp_path, which):
    out = tmp_path / "out.npy"
    source, truth = (dataset["v2"], dataset["ints"]) if which == "v2" else (dataset["n5"], dataset["n5_truth"])
    r = run("get", str(source), "", "--select", "1:,::2", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert_same(np.load(out), truth[1:, ::2])


def test_get_from_zip(dataset, tmp_path):
    archive = shutil.make_archive(str(tmp_path / "data"), "zip", root_dir=dataset["root"].parent,
                                  base_dir=dataset["root"].name)
    out = tmp_path / "out.npy"
    r = run("get", archive, "labels", "--select", "::-1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert_same(np.load(out), dataset["labels"][::-1])


def test_get_group_is_an_error(dataset, tmp_path):
    r = run("get", str(dataset["root"]), "raw", "-o", str(tmp_path / "x.npy"))
    assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.strip(), r.stderr


def test_bad_selection_is_a_clean_error(dataset, tmp_path):
    r = run("get", str(dataset["root"]), "labels", "--select", "0:5:0", "-o", str(tmp_path / "x.npy"))
    assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.strip(), r.stderr


def test_out_of_bounds_selection_is_a_clean_error(dataset, tmp_path):
    r = run("get", str(dataset["root"]), "labels", "--select", "50", "-o", str(tmp_path / "x.npy"))
    assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.strip(), r.stderr


def test_missing_source_is_a_clean_error(tmp_path):
    r = run("info", str(tmp_path / "nope.zarr"))
    assert r.returncode != 0 and "Traceback" not in r.stderr and "nope.zarr" in r.stderr, r.stderr


def test_missing_path_is_a_clean_error(dataset):
    r = run("info", str(dataset["root"]), "no/such/array")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "no/such/array" in r.stderr, r.stderr


def test_no_command_prints_usage():
    r = run()
    assert r.returncode != 0 and "usage" in (r.stderr + r.stdout).lower()


@pytest.mark.skipif(not SCRIPT.exists(), reason=f"console script not installed at {SCRIPT} (pip install -e .)")
def test_console_script(dataset, tmp_path):
    out = tmp_path / "out.npy"
    r = run("get", str(dataset["root"]), "raw/vol", "--select", "0,:,1:9:2", "-o", str(out), script=True)
    assert r.returncode == 0, r.stderr
    assert_same(np.load(out), dataset["vol"][0, :, 1:9:2])


def test_info_says_what_the_image_is(tmp_path):
    """`info` prints the image model: levels, axes with pixel sizes and units, channels (written here)."""
    g = zarr.open_group(str(tmp_path / "img.zarr"), mode="w", zarr_format=3)
    g.attrs["ome"] = {"version": "0.5", "name": "cells", "multiscales": [{
        "name": "cells", "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", "unit": "micrometer"},
                                  {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": str(i), "coordinateTransformations": [{"type": "scale", "scale": [1, 0.5 * 2**i, 0.5 * 2**i]}]}
                     for i in range(2)]}],
        "omero": {"channels": [{"label": "dna", "color": "0000FF", "window": {"start": 5, "end": 50}},
                               {"label": "actin", "color": "FF0000", "active": False}]}}
    g.create_array("0", shape=(2, 40, 60), chunks=(1, 20, 20), dtype="u2")
    g.create_array("1", shape=(2, 20, 30), chunks=(1, 20, 20), dtype="u2")
    r = run("info", str(tmp_path / "img.zarr"))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "OME-NGFF 0.5 multiscale — cells" in out
    assert "(2, 40, 60)" in out and "(2, 20, 30)" in out
    assert "y:space 0.5 micrometer" in out and "x:space 0.5 micrometer" in out
    assert "dna #0000ff 5..50" in out and "actin #ff0000 (off)" in out
