"""Lenient where real writers and hosts are: a static host that answers a missing file with a web page
(status 200), N5 directories without attributes.json and blocks smaller than blockSize inside the grid
(rust-n5 writes them), arrays listed only in consolidated metadata, and errors that name the array.

Data is written by zarr-python 3 and tensorstore; values are compared with what those libraries read."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tensorstore as ts
import zarr
import zarrlite
from httpserver import RangeHTTPServer
from writers import assert_same, make_data, n5_block, n5_group, ts_n5, write_json
from zarrlite.errors import ChunkError, CodecError, MetadataError, NotFoundError
from zarrlite.runtime import run_sync

NOT_FOUND_PAGE = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not here</body></html>"


@pytest.fixture(scope="module")
def html_host():
    """A real HTTP server that answers every missing file with an HTML page and status 200."""
    server = RangeHTTPServer()
    server.set_missing_page(NOT_FOUND_PAGE)
    server.start()
    yield server
    server.stop()


def zarr_tree(root, zarr_format, consolidated=False):
    """A group holding `a` and `g/b`, written by zarr-python 3; returns {path: what zarr-python reads}."""
    g = zarr.open_group(str(root), mode="w", zarr_format=zarr_format)
    a = g.create_array("a", shape=(20, 30), dtype="<u2", chunks=(8, 16))
    a[...] = make_data((20, 30), "<u2", seed=1)
    b = g.create_group("g").create_array("b", shape=(9,), dtype="<f4", chunks=(4,), fill_value=-1.0)
    b[...] = make_data((9,), "<f4", seed=2)   # every chunk: a "not found" page would answer a missing one too
    if consolidated:
        zarr.consolidate_metadata(str(root))
    back = zarr.open_group(str(root), mode="r", zarr_format=zarr_format)
    return {p: back[p][...] for p in ("a", "g/b")}


# ------------------------------------------------------------------------ a host's HTML "not found"


@pytest.mark.parametrize("zarr_format,consolidated", [(3, False), (2, False), (2, True), (3, True)])
def test_html_not_found_pages_do_not_break_detection(html_host, fixture_dir, zarr_format, consolidated):
    root = fixture_dir(f"html-host-v{zarr_format}-{consolidated}")
    truths = zarr_tree(root, zarr_format, consolidated)
    url = html_host.mount(f"v{zarr_format}{'c' if consolidated else ''}", root)
    group = zarrlite.open(url)
    assert group.format == f"zarr{zarr_format}"
    for path, truth in truths.items():
        assert_same(group[path][...], truth)
        assert_same(zarrlite.open(url, path)[...], truth)


def test_html_not_found_pages_n5(html_host, fixture_dir):
    root = fixture_dir("html-host-n5")
    n5_group(root, {"title": "n5 on a static host"}, version="4.0.0")
    truth = ts_n5(root / "s0", make_data((12, 13), "int16", seed=3), block_size=(5, 5), data_type="int16",
                  compression={"type": "gzip"})
    url = html_host.mount("n5", root)
    group = zarrlite.open(url)
    assert (group.format, group.attrs.get("title")) == ("n5", "n5 on a static host")
    assert_same(group["s0"][...], truth)


def test_html_page_where_nothing_is_says_so(html_host, fixture_dir):
    root = fixture_dir("html-host-empty")
    url = html_host.mount("empty", root)
    with pytest.raises(NotFoundError, match="web page") as info:
        zarrlite.open(url)
    assert "zarr.json" in str(info.value)


def test_bad_json_of_another_format_counts_as_absent(fixture_dir):
    """A left-over, broken zarr.json beside valid v2 metadata: the v2 array opens."""
    root = fixture_dir("lenient-other-format")
    truths = zarr_tree(root, 2)
    (root / "a" / "zarr.json").write_text("{\"zarr_format\": 3, \"node_ty")
    assert_same(zarrlite.open(str(root), "a")[...], truths["a"])


def test_no_valid_metadata_says_what_was_found(fixture_dir):
    root = fixture_dir("lenient-nothing-valid")
    (root / "zarr.json").write_text("{not json")
    (root / ".zarray").write_text(NOT_FOUND_PAGE.decode())
    (root / ".zgroup").write_text("[1, 2")
    with pytest.raises(MetadataError) as info:
        zarrlite.open(str(root))
    text = str(info.value)
    assert all(k in text for k in ("zarr.json", ".zgroup", ".zarray", "web page")), text


def test_a_broken_companion_of_the_same_format_is_still_an_error(fixture_dir):
    """Leniency is for other formats' documents and web pages: a .zattrs cut short is reported."""
    root = fixture_dir("lenient-same-format")
    zarr_tree(root, 2)
    (root / "a" / ".zattrs").write_text('{"units": "m')
    with pytest.raises(MetadataError, match=".zattrs"):
        zarrlite.open(str(root), "a")


# ------------------------------------------------------------------------------------------- N5


@pytest.fixture(scope="module")
def n5_implicit(fixture_dir):
    """An N5 root whose groups `a` and `a/b` have no attributes.json (tensorstore writes datasets only)."""
    root = fixture_dir("n5-implicit-groups")
    n5_group(root, version="4.0.0")
    truth = ts_n5(root / "a" / "b" / "s0", make_data((10, 7), "uint8", seed=4), block_size=(4, 4),
                  data_type="uint8", compression={"type": "raw"})
    (root / "notes.txt").write_text("not a node")
    return root, truth


def test_n5_directories_are_groups(n5_implicit):
    root, truth = n5_implicit
    top = zarrlite.open(str(root))
    assert list(top) == ["a"]
    a = top["a"]
    assert (type(a).__name__, a.format, dict(a.attrs), list(a)) == ("Group", "n5", {}, ["b"])
    assert list(zarrlite.open(str(root), "a/b")) == ["s0"]
    assert_same(top["a"]["b/s0"][...], truth)
    assert "s0" in top.tree()


def test_n5_directory_inside_a_dataset_is_not_a_group(n5_implicit):
    root, _ = n5_implicit
    assert (root / "a" / "b" / "s0" / "0").is_dir()
    for path in ("a/b/s0/0", "nothing", "notes.txt"):
        with pytest.raises(NotFoundError):
            zarrlite.open(str(root), path)


def test_n5_directory_below_a_broken_group_is_a_group(fixture_dir):
    root = fixture_dir("n5-broken-parent")
    n5_group(root, version="4.0.0")
    truth = ts_n5(root / "a" / "b" / "s0", make_data((6, 5), "uint8", seed=9), block_size=(4, 4),
                  data_type="uint8", compression={"type": "raw"})
    (root / "a" / "attributes.json").write_text('{"title": "cut sh')
    with pytest.raises(MetadataError, match="'a/attributes.json'"):
        zarrlite.open(str(root), "a")
    assert list(zarrlite.open(str(root), "a/b")) == ["s0"]
    assert_same(zarrlite.open(str(root), "a/b")["s0"][...], truth)


def test_n5_small_blocks_inside_the_grid_are_padded(fixture_dir):
    """rust-n5 writes blocks smaller than blockSize anywhere; tensorstore reads them padded with the fill
    value (0). The expectation is tensorstore's own read of the same files."""
    root = fixture_dir("n5-small-inner-blocks")
    ts_n5(root, make_data((12, 10), "uint16", seed=5), block_size=(4, 4), data_type="uint16",
          compression={"type": "gzip"})
    small = np.arange(6, dtype="uint16").reshape(2, 3) + 1000        # C order: 2 rows, 3 columns
    (root / "1" / "1").write_bytes(n5_block(small, "uint16", {"type": "gzip"}))
    (root / "0" / "2").write_bytes(n5_block(small[:1, :1], "uint16", {"type": "gzip"}))
    expected = ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(root)}}).result().read().result().T
    assert np.array_equal(expected[4:6, 4:7], small) and not expected[6:8, 4:8].any()   # what tensorstore does
    assert_same(zarrlite.open(str(root))[...], expected)
    assert_same(zarrlite.open(str(root))[5, 3:9], expected[5, 3:9])


def test_n5_block_larger_than_block_size_is_still_an_error(fixture_dir):
    root = fixture_dir("n5-big-block")
    ts_n5(root, make_data((8, 8), "uint16", seed=6), block_size=(4, 4), data_type="uint16",
          compression={"type": "raw"})
    (root / "0" / "0").write_bytes(n5_block(make_data((5, 4), "uint16"), "uint16", {"type": "raw"}))
    with pytest.raises(ChunkError, match="exceeds"):
        zarrlite.open(str(root))[...]


# -------------------------------------------------------------------------- consolidated by path


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_arrays_only_in_consolidated_metadata_open_by_path(fixture_dir, zarr_format):
    root = fixture_dir(f"consolidated-only-v{zarr_format}")
    truths = zarr_tree(root, zarr_format, consolidated=True)
    for member in ("g/b", "g"):   # the member's own metadata files are gone: only the root lists them
        for name in (".zarray", ".zgroup", ".zattrs", "zarr.json"):
            (root / member / name).unlink(missing_ok=True)
    assert_same(zarrlite.open(str(root), "g/b")[...], truths["g/b"])
    assert_same(zarrlite.open(str(root), "g")["b"][...], truths["g/b"])
    assert_same(zarrlite.open(str(root))["g/b"][...], truths["g/b"])


# ------------------------------------------------------------------------ errors name the array


def _break_codec(root, path, codec):
    meta_file = root / path / "zarr.json"
    meta = json.loads(meta_file.read_text())
    meta["codecs"] = codec(meta["codecs"])
    meta_file.write_text(json.dumps(meta))


def test_unknown_codec_error_names_the_array(fixture_dir):
    root = fixture_dir("names-unknown-codec")
    zarr_tree(root, 3)
    _break_codec(root, "g/b", lambda codecs: [*codecs, {"name": "frobnicate", "configuration": {}}])
    with pytest.raises(CodecError, match="frobnicate") as info:
        zarrlite.open(str(root), "g/b")
    assert "'g/b'" in str(info.value)
    members = dict(run_sync(zarrlite.open(str(root))["g"].children(), "await group.children()"))
    assert isinstance(members["b"], CodecError) and "'g/b'" in str(members["b"])


def test_sharding_index_codec_error_names_the_array(fixture_dir):
    """An index_codecs chain that is not of fixed size (a compressor) is refused, naming the array."""
    root = fixture_dir("names-sharding-index")
    zarr.open_group(str(root), mode="w", zarr_format=3)
    arr = zarr.create_array(str(root), name="img/s0", shape=(8, 8), dtype="<u2", shards=(8, 8), chunks=(4, 4))
    arr[...] = make_data((8, 8), "<u2", seed=7)

    def gzip_index(codecs):
        codecs[0]["configuration"]["index_codecs"] = [{"name": "bytes", "configuration": {"endian": "little"}},
                                                      {"name": "gzip", "configuration": {"level": 1}}]
        return codecs

    _break_codec(root, "img/s0", gzip_index)
    with pytest.raises((MetadataError, CodecError), match="index") as info:
        zarrlite.open(str(root), "img/s0")
    assert "'img/s0'" in str(info.value)


def test_truncated_shard_index_error_names_the_array(fixture_dir):
    root = fixture_dir("names-shard-truncated")
    arr = zarr.create_array(str(root), name="img/s0", shape=(8, 8), dtype="<u2", shards=(8, 8), chunks=(4, 4))
    arr[...] = make_data((8, 8), "<u2", seed=8)
    shard = root / "img" / "s0" / "c" / "0" / "0"
    shard.write_bytes(shard.read_bytes()[:10])
    with pytest.raises(ChunkError) as info:
        zarrlite.open(str(root), "img/s0")[...]
    assert "array 'img/s0'" in str(info.value)


def test_bad_member_in_a_tree_is_named(fixture_dir):
    root = fixture_dir("names-tree")
    zarr_tree(root, 3)
    _break_codec(root, "a", lambda codecs: [*codecs, {"name": "frobnicate", "configuration": {}}])
    shutil.rmtree(root / "g")
    write_json(root / "g" / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {}})
    text = zarrlite.open(str(root)).tree()
    line = next(ln for ln in text.splitlines() if "frobnicate" in ln)
    assert "'a'" in line, text
