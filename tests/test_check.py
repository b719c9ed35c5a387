"""`zarrlite check SOURCE [PATH]` (and `zarrlite.check`): per array, readable in this Python and in the
browser runtime or exactly why not, from metadata only, plus chunk-key mismatches found by listing.
Run as a user would: the CLI in a subprocess (text, --json, exit status).

Arrays are written by zarr-python 3, numcodecs and tensorstore; metadata is edited by hand only for what
no writer produces (an unknown codec, extension, data type or grid, a broken document, a .zarray that
lost its dimension_separator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
import zarrlite
from numcodecs.zarr3 import PCodec
from writers import make_data, ts_n5, ts_zarr3

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "py"), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "zarrlite.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)


def edit_json(path: Path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def mixed(fixture_dir):
    """A zarr v3 group: arrays readable everywhere, one only in CPython (pcodec), and ones no runtime reads."""
    root = fixture_dir("check-mixed") / "data.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=3)
    for name in ("ok", "ext_optional", "ext_required", "dtype", "grid", "codec", "brokenjson"):
        a = g.create_array(name, shape=(8, 8), dtype="<u2", chunks=(4, 4))
        a[...] = make_data((8, 8), "<u2", seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # numcodecs' zarr3 codecs warn that their spec may change
        pc = g.create_array("sub/pc", shape=(100,), dtype="<f8", chunks=(50,), serializer=PCodec(level=8),
                            compressors=None)
    pc[...] = np.linspace(0, 1, 100)
    edit_json(root / "ext_optional" / "zarr.json", lambda d: d.update(an_ext={"must_understand": False}))
    edit_json(root / "ext_required" / "zarr.json", lambda d: d.update(an_ext={"name": "an_ext"}))
    edit_json(root / "dtype" / "zarr.json", lambda d: d.update(data_type="uint12"))
    edit_json(root / "grid" / "zarr.json", lambda d: d.update(chunk_grid={"name": "hexagonal", "configuration": {}}))
    edit_json(root / "codec" / "zarr.json",
              lambda d: d["codecs"].append({"name": "frobnicate", "configuration": {}}))
    (root / "brokenjson" / "zarr.json").write_text('{"zarr_format": 3, "node_type": "arr')
    return root


def by_path(report) -> dict:
    return {n.path: n for n in report.nodes}


def problems(node, runtime) -> str:
    return " ".join(f"{p.kind}: {p.message}" for p in node.problems[runtime])


def test_each_array_says_where_it_is_readable_and_why_not(mixed):
    nodes = by_path(zarrlite.check(str(mixed)))
    assert set(nodes) == {"", "ok", "ext_optional", "ext_required", "dtype", "grid", "codec", "brokenjson", "sub",
                          "sub/pc"}
    for path in ("", "ok", "ext_optional", "sub"):
        assert nodes[path].readable("python") and nodes[path].readable("browser"), nodes[path]
    pc = nodes["sub/pc"]
    assert pc.readable("python") and not pc.readable("browser")
    assert "pcodec" in problems(pc, "browser") and "browser" in problems(pc, "browser")
    expected = {"ext_required": "an_ext", "dtype": "uint12", "grid": "hexagonal", "codec": "frobnicate",
                "brokenjson": "JSON"}
    for path, needle in expected.items():
        for runtime in ("python", "browser"):
            text = problems(nodes[path], runtime)
            assert needle in text and path in text, (path, runtime, text)   # the error names the array
    kinds = {path: nodes[path].problems["python"][0].kind for path in expected}
    assert kinds == {"ext_required": "extension", "dtype": "data type", "grid": "chunk grid", "codec": "codec",
                     "brokenjson": "metadata"}
    assert nodes["brokenjson"].kind == "node" and nodes["brokenjson"].problems["python"][0].kind == "metadata"


def test_cli_text_names_each_problem_and_exits_1(mixed):
    out = run("check", str(mixed))
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    start = {ln.split()[0]: i for i, ln in enumerate(lines) if ln.startswith("/")}
    block = lambda name: "\n".join(lines[start[f"/{name}"]:start[f"/{name}"] + 3])
    assert lines[start["/ok"]].endswith("  ok")
    pc = block("sub/pc")
    assert "python:  readable" in pc and "browser: NOT readable" in pc and "pcodec" in pc, out.stdout
    assert "frobnicate" in block("codec") and "uint12" in block("dtype") and "hexagonal" in block("grid")
    assert "1 unreadable" not in lines[-1] and "unreadable in the browser" in lines[-1]


def test_cli_json(mixed):
    out = run("check", str(mixed), "--json")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    nodes = {n["path"]: n for n in doc["nodes"]}
    assert doc["readable"] is False
    assert nodes["sub/pc"]["readable"] == {"python": True, "browser": False}
    assert nodes["sub/pc"]["problems"]["browser"][0]["kind"] == "codec"
    assert nodes["ok"]["readable"] == {"python": True, "browser": True} and nodes["ok"]["problems"]["python"] == []
    assert nodes["codec"]["readable"] == {"python": False, "browser": False}
    assert doc["unreadable"] == {"python": 5, "browser": 6}


def test_cli_path_and_a_clean_tree_exit_0(mixed):
    out = run("check", str(mixed), "ok")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[0].startswith("/ok ")
    out = run("check", str(mixed), "sub")
    assert out.returncode == 1 and "pcodec" in out.stdout
    assert run("check", str(mixed), "sub", "--runtime", "python").returncode == 0       # pcodec reads here
    assert run("check", str(mixed), "sub", "--runtime", "browser").returncode == 1
    out = run("check", str(mixed), "nothing/here")
    assert out.returncode == 1 and "no array or group" in out.stderr


def test_v2_zfpy_is_not_read_in_the_browser_and_an_unknown_dtype(fixture_dir):
    root = fixture_dir("check-v2-codecs") / "v2.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    a = g.create_array("zfp", shape=(10, 10), dtype="<f8", chunks=(5, 5), compressors=numcodecs.ZFPY(mode=4))
    a[...] = np.linspace(0, 1, 100).reshape(10, 10)
    b = g.create_array("xz", shape=(10, 10), dtype="<u2", chunks=(5, 5), compressors=numcodecs.LZMA())
    b[...] = 8
    c = g.create_array("odd_dtype", shape=(4,), dtype="<u2", chunks=(2,))
    c[...] = 1
    edit_json(root / "odd_dtype" / ".zarray", lambda d: d.update(dtype="<q9"))
    nodes = by_path(zarrlite.check(str(root)))
    assert [p.kind for p in nodes["odd_dtype"].problems["browser"]] == ["data type"]
    assert nodes["zfp"].readable("python") and not nodes["zfp"].readable("browser")
    assert "zfpy" in problems(nodes["zfp"], "browser")
    assert nodes["xz"].readable("python") and nodes["xz"].readable("browser")


def test_v2_nested_chunks_without_dimension_separator(fixture_dir):
    """zarr-python writes '/'-nested chunk files; a .zarray without dimension_separator names them '0.0',
    so they read as the fill value. check finds the files and says so."""
    root = fixture_dir("check-v2-nested") / "v2.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    a = g.create_array("nested", shape=(8, 8), dtype="<u2", chunks=(4, 4), fill_value=0,
                       chunk_key_encoding={"name": "v2", "separator": "/"})
    a[...] = make_data((8, 8), "<u2", seed=3) | 1
    assert (root / "nested" / "0" / "0").is_file()
    edit_json(root / "nested" / ".zarray", lambda d: d.pop("dimension_separator"))
    assert not zarrlite.open(str(root), "nested")[...].any()      # the silent failure check exists for
    node = by_path(zarrlite.check(str(root)))["nested"]
    for runtime in ("python", "browser"):
        assert node.problems[runtime][0].kind == "chunk keys"
        assert "dimension_separator" in node.problems[runtime][0].message and "0/0" in node.problems[runtime][0].message
    ok = fixture_dir("check-v2-flat") / "v2.zarr"
    zarr.create_array(str(ok), shape=(8, 8), dtype="<u2", chunks=(4, 4), zarr_format=2)[...] = 5
    assert zarrlite.check(str(ok)).readable


def test_v3_chunk_key_separator_mismatch(fixture_dir):
    root = fixture_dir("check-v3-keys") / "a.zarr"
    ts_zarr3(root, make_data((8, 8), "<u2", seed=4), chunks=(4, 4), data_type="uint16")
    assert (root / "c" / "0" / "0").is_file()
    assert zarrlite.check(str(root)).readable
    edit_json(root / "zarr.json", lambda d: d.update(
        chunk_key_encoding={"name": "default", "configuration": {"separator": "."}}))
    node = by_path(zarrlite.check(str(root)))[""]
    assert [p.kind for p in node.problems["python"]] == ["chunk keys"]
    assert "'c/0/0'" in node.problems["python"][0].message and "'c.0.0'" in node.problems["python"][0].message


def test_n5_and_implicit_groups(fixture_dir):
    root = fixture_dir("check-n5") / "d.n5"
    (root).mkdir(parents=True)
    (root / "attributes.json").write_text(json.dumps({"n5": "4.0.0"}))
    ts_n5(root / "setup0" / "s0", make_data((9, 9), "uint8", seed=5), block_size=(4, 4), data_type="uint8",
          compression={"type": "xz"})
    report = zarrlite.check(str(root))
    assert [n.path for n in report.nodes] == ["", "setup0", "setup0/s0"] and report.readable
    assert run("check", str(root)).returncode == 0


def test_the_pages_tree_carries_the_browser_problems(mixed):
    """The tree the worker gives the viewer (webworker.describe_node) carries check's browser reasons."""
    from zarrlite import webworker
    from zarrlite.runtime import run_sync

    tree = run_sync(webworker.describe_node(zarrlite.open(str(mixed)), "", {}), "")
    kids = {c["path"]: c for c in tree["children"]}
    sub = {c["path"]: c for c in kids["sub"]["children"]}
    assert "problems" not in kids["ok"] and kids["ok"]["kind"] == "array"
    assert [p["kind"] for p in sub["sub/pc"]["problems"]] == ["codec"]
    assert "pcodec" in sub["sub/pc"]["problems"][0]["message"]
    assert kids["codec"]["kind"] == "error" and "'codec'" in kids["codec"]["error"]["message"]
    json.loads(webworker.json_text(tree))


def test_over_http_members_come_from_consolidated_metadata(http_server, fixture_dir):
    """Plain HTTP cannot list: check walks what consolidated metadata lists, and a missing PATH says so."""
    root = fixture_dir("check-http") / "c.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=3)
    g.create_array("ok", shape=(4, 4), dtype="<u1", chunks=(2, 2))[...] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.create_array("pc", shape=(10,), dtype="<f8", chunks=(5,), serializer=PCodec(), compressors=None)[...] = 2
        zarr.consolidate_metadata(str(root))
    url = http_server.mount("check-http", root)
    nodes = by_path(zarrlite.check(url))
    assert sorted(nodes) == ["", "ok", "pc"]
    assert nodes["ok"].readable("browser") and not nodes["pc"].readable("browser") and nodes["pc"].readable("python")
    out = run("check", url, "nothing")
    assert out.returncode == 1 and "no array or group at 'nothing'" in out.stderr


def test_the_pages_tree_lists_chunk_files_only_for_sources_that_are_not_urls(fixture_dir):
    """A dropped folder lists for free; a bucket lists over the network, page by page of chunk keys, so
    the tree of a URL source carries metadata problems only (no listing of arrays); `zarrlite check` lists."""
    from s3server import S3Server
    from zarrlite import webworker
    from zarrlite.runtime import run_sync

    root = fixture_dir("check-tree-lists")
    g = zarr.open_group(str(root / "v2.zarr"), mode="w", zarr_format=2)
    g.create_array("nested", shape=(8, 8), dtype="<u2", chunks=(4, 4),
                   chunk_key_encoding={"name": "v2", "separator": "/"})[...] = 3
    edit_json(root / "v2.zarr" / "nested" / ".zarray", lambda d: d.pop("dimension_separator"))
    local = run_sync(webworker.describe_node(zarrlite.open(str(root / "v2.zarr")), "", {}), "")
    assert [p["kind"] for p in local["children"][0]["problems"]] == ["chunk keys"]
    with S3Server() as s3:
        s3.add_bucket("data", root)
        url = "s3://data/v2.zarr"
        remote = run_sync(webworker.describe_node(zarrlite.open(url, endpoint_url=s3.endpoint_url), "", {}), "")
        assert remote["children"][0]["path"] == "nested" and "problems" not in remote["children"][0]
        listings = [e.path for e in s3.log if "list-type=2" in e.path]
        assert listings and not any("nested" in p for p in listings), listings    # the group listed, not the array
        node = by_path(zarrlite.check(url, endpoint_url=s3.endpoint_url))["nested"]
        assert [p.kind for p in node.problems["browser"]] == ["chunk keys"]
