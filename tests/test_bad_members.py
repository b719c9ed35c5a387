"""Open what can be opened: a group with one malformed member (bad JSON, an unknown codec) in Zarr v2,
Zarr v3 (listed and consolidated) and N5 opens; its other members read right; the bad one is marked
with its error, in `Group.children()`, in `tree()` and in the tree the worker gives the page."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
import zarrlite
from writers import manual_n5
from zarrlite import webworker
from zarrlite.errors import CodecError, MetadataError, ZarrliteError
from zarrlite.runtime import run_sync

GOOD = np.arange(64, dtype="<u2").reshape(8, 8)


def break_json(path):
    path.write_text(path.read_text()[:-20])       # an interrupted write


def unknown_codec_v3(path):
    meta = json.loads(path.read_text())
    meta["codecs"][-1] = {"name": "frobnicate", "configuration": {"level": 3}}
    path.write_text(json.dumps(meta))


def unknown_codec_v2(path):
    meta = json.loads(path.read_text())
    meta["compressor"] = {"id": "frobnicate", "level": 3}
    path.write_text(json.dumps(meta))


def zarr_group(root, fmt, consolidated=False):
    """A group with members good, badjson, badcodec (written by zarr-python), then two of them broken."""
    g = zarr.open_group(str(root), mode="w", zarr_format=fmt)
    for name in ("good", "badjson", "badcodec"):
        a = g.create_array(name, shape=GOOD.shape, dtype=GOOD.dtype, chunks=(4, 4))
        a[...] = GOOD
    if consolidated:
        zarr.consolidate_metadata(str(root))
    if fmt == 3:
        files = {"badjson": root / "badjson" / "zarr.json", "badcodec": root / "badcodec" / "zarr.json"}
        if consolidated:   # what is read is the copy in the root's consolidated metadata
            meta = json.loads((root / "zarr.json").read_text())
            members = meta["consolidated_metadata"]["metadata"]
            members["badcodec"]["codecs"][-1] = {"name": "frobnicate", "configuration": {}}
            members["badjson"]["shape"] = "eight by eight"         # JSON, but not metadata
            (root / "zarr.json").write_text(json.dumps(meta))
            return
        break_json(files["badjson"])
        unknown_codec_v3(files["badcodec"])
    else:
        break_json(root / "badjson" / ".zarray")
        unknown_codec_v2(root / "badcodec" / ".zarray")
        if consolidated:
            meta = json.loads((root / ".zmetadata").read_text())
            meta["metadata"]["badcodec/.zarray"]["compressor"] = {"id": "frobnicate"}
            meta["metadata"]["badjson/.zarray"]["shape"] = "eight by eight"
            (root / ".zmetadata").write_text(json.dumps(meta))


def n5_group(root):
    manual_n5(root / "good", GOOD, chunks_c=(4, 4), data_type="uint16", compression={"type": "raw"})
    manual_n5(root / "badjson", GOOD, chunks_c=(4, 4), data_type="uint16", compression={"type": "raw"})
    manual_n5(root / "badcodec", GOOD, chunks_c=(4, 4), data_type="uint16", compression={"type": "raw"})
    (root / "attributes.json").write_text(json.dumps({"n5": "2.5.1"}))
    break_json(root / "badjson" / "attributes.json")
    meta = json.loads((root / "badcodec" / "attributes.json").read_text())
    meta["compression"] = {"type": "frobnicate"}
    (root / "badcodec" / "attributes.json").write_text(json.dumps(meta))


SOURCES = {
    "zarr3": lambda root: zarr_group(root, 3),
    "zarr3-consolidated": lambda root: zarr_group(root, 3, consolidated=True),
    "zarr2": lambda root: zarr_group(root, 2),
    "zarr2-consolidated": lambda root: zarr_group(root, 2, consolidated=True),
    "n5": n5_group,
}


@pytest.fixture(params=sorted(SOURCES))
def source(request, tmp_path):
    root = tmp_path / ("g.n5" if request.param == "n5" else "g.zarr")
    root.mkdir()
    SOURCES[request.param](root)
    return root


def test_the_group_opens_and_the_good_member_reads(source):
    g = zarrlite.open(str(source))
    members = dict(run_sync(g.children(), ""))
    assert sorted(members) == ["badcodec", "badjson", "good"]
    np.testing.assert_array_equal(members["good"][...], GOOD)   # manual_n5 takes C order
    assert isinstance(members["badjson"], MetadataError)
    assert isinstance(members["badcodec"], (CodecError, MetadataError)) and "frobnicate" in str(members["badcodec"])
    text = g.tree()
    assert "badjson  (error: " in text and "badcodec  (error: " in text and "frobnicate" in text, text
    with pytest.raises(ZarrliteError):
        g["badjson"]


def test_the_pages_tree_marks_the_bad_members_with_their_errors(source):
    g = zarrlite.open(str(source))
    nodes = {}
    tree = run_sync(webworker.describe_node(g, "", nodes), "")
    kids = {c["name"]: c for c in tree["children"]}
    assert kids["good"]["kind"] == "array" and kids["good"]["shape"] == [8, 8]
    for name in ("badjson", "badcodec"):
        bad = kids[name]
        assert bad["kind"] == "error" and bad["path"] == name, bad
        assert bad["error"]["name"] in ("MetadataError", "CodecError") and bad["error"]["message"]
    assert "frobnicate" in kids["badcodec"]["error"]["message"]
    assert sorted(nodes) == ["good"]            # only what opened is kept for later reads
    json.loads(webworker.json_text(tree))       # and it crosses to the page as JSON
