"""zarrlite.viewer_api in CPython: the chunk map (stored chunks, shards, sizes), expressions, descriptions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
from zarr.codecs import ZstdCodec

import zarrlite
from zarrlite import ZarrliteError, viewer_api
from zarrlite.runtime import run_sync


def run(coro):
    return run_sync(coro, "")   # zarrlite's own loop: works with or without a running loop here


@pytest.fixture
def sparse_v3(tmp_path):
    """(2, 64, 96) uint16, chunks (1, 16, 32): plane 1 has only chunk (1, 1) written."""
    root = tmp_path / "a.zarr"
    a = zarr.create_array(str(root), shape=(2, 64, 96), dtype="<u2", chunks=(1, 16, 32), fill_value=0,
                          compressors=ZstdCodec(), dimension_names=["z", "y", "x"])
    a[0] = np.arange(64 * 96, dtype="<u2").reshape(64, 96)
    a[1, 16:32, 32:64] = 7
    return root


def test_chunk_map_lists_stored_chunks_and_their_sizes(sparse_v3):
    arr = run(zarrlite.open_async(str(sparse_v3)))
    m = run(viewer_api.chunk_map_of(arr, [1, None, None]))
    assert m["chunk"] == [16, 32] and m["shard"] is None and m["rawChunkBytes"] == 16 * 32 * 2
    cells = {(r, c): n for r, c, n in m["cells"]}
    assert len(cells) == 4 * 3
    stored = {k for k, n in cells.items() if n is not None}
    assert stored == {(1, 1)}
    assert cells[(1, 1)] == (sparse_v3 / "c" / "1" / "1" / "1").stat().st_size
    full = run(viewer_api.chunk_map_of(arr, [0, None, None], [10, 20, 40, 50]))   # a region: 2 x 1 chunks
    assert sorted((r, c) for r, c, _ in full["cells"]) == [(0, 1), (1, 1)]


def test_chunk_map_of_a_sharded_array_reads_the_shard_index(tmp_path):
    root = tmp_path / "s.zarr"
    a = zarr.create_array(str(root), shape=(64, 64), dtype="<u2", chunks=(16, 16), shards=(32, 32), fill_value=0)
    a[0:16, 0:16] = 1
    a[40:48, 40:48] = 2
    arr = run(zarrlite.open_async(str(root)))
    m = run(viewer_api.chunk_map_of(arr, [None, None]))
    assert m["chunk"] == [16, 16] and m["shard"] == [32, 32]
    shards = {(r, c): n for r, c, n in m["shards"]}
    assert {k for k, n in shards.items() if n is not None} == {(0, 0), (1, 1)}
    cells = {(r, c): n for r, c, n in m["cells"]}
    assert {k for k, n in cells.items() if n is not None} == {(0, 0), (2, 2)}
    assert all(n > 0 for n in cells.values() if n is not None)


def test_chunk_map_rejects_a_plane_without_two_free_dimensions(sparse_v3):
    arr = run(zarrlite.open_async(str(sparse_v3)))
    with pytest.raises(ZarrliteError, match="all but two"):
        run(viewer_api.chunk_map_of(arr, [0, 1, None]))


def test_describe_gives_dimension_names_and_multiscales(sparse_v3, tmp_path):
    arr = run(zarrlite.open_async(str(sparse_v3)))
    info = viewer_api.describe_of(arr)
    assert info["dimension_names"] == ["z", "y", "x"] and info["grid"] == [2, 4, 3]
    g = zarr.open_group(str(tmp_path / "ms.zarr"), mode="w", zarr_format=3)
    g.create_array("0", shape=(8, 8), dtype="u1", chunks=(4, 4))
    g.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                                                          "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}]}]}
    info = viewer_api.describe_of(run(zarrlite.open_async(str(tmp_path / "ms.zarr"))))
    assert [lv["path"] for lv in info["multiscale"]["levels"]] == ["0"]


@pytest.mark.parametrize("expr, want", [
    ("np.log1p(x)", lambda x: np.log1p(x)),
    ("x > 10", lambda x: x > 10),
    ("x[::-1]", lambda x: x[::-1]),
    ("abs(x - x.mean())", lambda x: abs(x - x.mean())),
])
def test_expressions_over_the_plane(expr, want):
    x = np.arange(30, dtype="<u2").reshape(5, 6)
    np.testing.assert_array_equal(viewer_api.evaluate_expression(expr, x), want(x))


@pytest.mark.parametrize("expr, message", [
    ("x[0]", "2-D plane is needed"),
    ("np.log1p(x", "never closed"),
    ("y + 1", "NameError"),
    ("x.astype(str)", "numbers or booleans"),
])
def test_bad_expressions_say_what_is_wrong(expr, message):
    with pytest.raises(ZarrliteError, match=message):
        viewer_api.evaluate_expression(expr, np.ones((3, 3)))


def test_colormaps_are_the_render_tables():
    from zarrlite.render import lut

    maps = json.loads(run(viewer_api.colormaps()))
    for name in ("viridis", "magma", "inferno"):
        assert maps[name] == lut(name).ravel().tolist()


def test_image_model_crosses_as_exact_json(tmp_path):
    """The viewer's image model comes from Python, with the values JSON cannot carry tagged (NaN fill)
    and the dtype each level's reads arrive in."""
    from zarrlite.webworker import json_text

    a = zarr.create_array(str(tmp_path / "f.zarr"), shape=(4, 30, 20), chunks=(1, 10, 10), dtype=">f2",
                          fill_value=float("nan"), zarr_format=2)
    a.attrs["_ARRAY_DIMENSIONS"] = ["time", "lat", "lon"]
    arr = run(zarrlite.open_async(str(tmp_path / "f.zarr")))
    model = json.loads(json_text(run(viewer_api.image_of(arr))))
    assert model["levels"][0]["fillValue"] == {"$zarrlite": "number", "value": "NaN"}
    assert model["levels"][0]["dtype"] == "<f2" and model["levels"][0]["outDtype"] == "<f4"
    assert [a["name"] for a in model["axes"]] == ["time", "lat", "lon"] and model["defaultIndex"] == [0, 14, 9]
    assert viewer_api.describe_of(arr)["dimension_names"] == ["time", "lat", "lon"]


def test_viewer_api_uses_public_names_of_arrays_and_render():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(viewer_api))
    private = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr.startswith("_")
               and not n.attr.startswith("__")}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module in ("render", "model", "ome")
                for a in n.names}
    assert not private & {"_ctx", "_sharding", "_shard_index"} and not {i for i in imported if i.startswith("_")}


def test_the_viewer_page_knows_no_attribute_names():
    """Image conventions live in Python (zarrlite.model): the viewer's scripts name none of them (the
    metadata panel still prints the attributes as they are)."""
    import re
    from pathlib import Path

    conventions = re.compile(r"omero|multiscales|multiScale|_ARRAY_DIMENSIONS|image-label|defaultZ|"
                             r"downsamplingFactors|pixelResolution|\.scales\b|dimension_names\s*\?\?")
    viewer = Path(__file__).resolve().parents[1] / "web" / "viewer"
    found = {p.name: conventions.findall(p.read_text()) for p in sorted(viewer.glob("*.js"))}
    assert {k: v for k, v in found.items() if v} == {}
