"""Rectilinear (variable-size) chunk grids, the zarr-extensions `rectilinear` chunk grid as zarr-python
>= 3.2 writes it (run-length encoded edge lengths), read through the same pure indexing as regular grids:
full reads and numpy selections against what that zarr-python reads back; sharded too (shards of
different sizes, regular inner chunks); the grid arithmetic against an explicit list of edges."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import zarrlite
from writers import assert_same, make_data, zarr32_python
from zarrlite.errors import MetadataError
from zarrlite.formats.grids import parse_rectilinear
from zarrlite.indexing import chunk_projections, normalize_selection

SHAPE = (30, 41)
CHUNKS = [[5, 5, 10, 3, 7], [1, 4, 4, 4, 12, 16]]
SELECTIONS = [
    (Ellipsis,), (slice(3, 29, 4), slice(None, None, -3)), (12, slice(None)), (slice(None), 40),
    (slice(9, 11), slice(8, 10)), (slice(None, None, -1), 5), (slice(27, 30), slice(0, 1)), (slice(20, 20),),
]


@pytest.fixture(scope="module")
def rect(tmp_path_factory):
    root = tmp_path_factory.mktemp("rect") / "a.zarr"
    data = make_data(SHAPE, "<i4", seed=1)
    return root, zarr32_python(root, data, chunks=CHUNKS, fill_value=-7,
                               regions=[[[0, 20], [0, 41]], [[23, 30], [0, 25]]])   # some chunks never written


def test_writer_wrote_a_rectilinear_grid(rect):
    root, _ = rect
    grid = json.loads((root / "zarr.json").read_text())["chunk_grid"]
    assert grid["name"] == "rectilinear"
    assert any(isinstance(e, list) for dim in grid["configuration"]["chunk_shapes"] for e in dim)  # run-length


@pytest.mark.parametrize("sel", SELECTIONS, ids=str)
def test_selection(rect, sel):
    root, truth = rect
    assert_same(zarrlite.open(str(root))[sel], truth[sel])


def test_description(rect):
    root, _ = rect
    arr = zarrlite.open(str(root))
    assert arr.meta.grid == (5, 6)
    assert arr.chunks == (10, 16)      # the largest chunk: what one chunk can hold
    grid = arr.meta.chunk_grid
    assert not grid.regular
    assert grid.boundaries(0) == [0, 5, 10, 20, 23, 30]
    assert grid.boundaries(1) == [0, 1, 5, 9, 13, 25, 41]


@pytest.mark.parametrize("sel", [*SELECTIONS[:3], (slice(None), 35)], ids=str)
def test_sharded_rectilinear(sel, tmp_path):
    root = tmp_path / "s.zarr"
    data = make_data((40, 36), "<f8", seed=2)
    truth = zarr32_python(root, data, chunks=[5, 6], shards=[[10, 20, 10], [12, 24]],
                          regions=[[[0, 30], [0, 36]]])
    doc = json.loads((root / "zarr.json").read_text())
    assert doc["chunk_grid"]["name"] == "rectilinear" and doc["codecs"][0]["name"] == "sharding_indexed"
    arr = zarrlite.open(str(root))
    assert arr.chunks == (5, 6) and arr.meta.grid == (3, 2)
    assert_same(arr[sel], truth[sel])


# ------------------------------------------------------------------------------- grid arithmetic
def explicit(edges, length):
    """Chunk index and offset in it of every position, from the expanded list of edges."""
    out = []
    for k, e in enumerate(edges):
        out += [(k, i) for i in range(e)]
    return out[:length]


@pytest.mark.parametrize("spec, length, edges", [
    ([[2, 3]], 6, [2, 2, 2]), ([[1, 6]], 6, [1] * 6), ([1, [2, 1], 3], 6, [1, 2, 3]),
    ([[1, 3], 3], 6, [1, 1, 1, 3]), ([6], 6, [6]), (4, 6, [4, 4]), ([4, 4, 4], 6, [4, 4]),   # overflow
    ([[3, 2], [3, 2], 5, [2, 1000000000]], 20, [3, 3, 3, 3, 5, 2, 2]), ([2, 2, 3, 3, 3], 13, [2, 2, 3, 3, 3]),
])
def test_dimension_arithmetic(spec, length, edges):
    grid = parse_rectilinear({"kind": "inline", "chunk_shapes": [spec]}, (length,), "t")
    dim = grid.dims[0]
    assert dim.count == len(edges)
    assert [dim.edge(k) for k in range(dim.count)] == edges
    assert [(dim.chunk_of(i), i - dim.start(dim.chunk_of(i))) for i in range(length)] == explicit(edges, length)


@pytest.mark.parametrize("step", [1, 2, 3, 7, -1, -4])
def test_projections_cover_the_selection(step):
    grid = parse_rectilinear({"kind": "inline", "chunk_shapes": [[[3, 2], 1, [4, 3], 9]]}, (28,), "t")
    edges = [3, 3, 1, 4, 4, 4, 9]
    starts = list(itertools.accumulate([0] + edges))
    dims = normalize_selection((slice(None, None, step),), (28,))
    want = sorted(range(28)[::step])   # the projections give the ascending order; a flip reverses it after
    got = np.full(len(want), -1)
    for p in chunk_projections(dims, grid):
        k, = p.coords
        got[p.out_selection] = np.arange(starts[k], starts[k] + edges[k])[p.chunk_selection]
    assert list(got) == want


@pytest.mark.parametrize("spec", [[[5, 2]], [[0, 3], 4], [[5, -1]], "5", [[5, 2, 1]], [True], []])
def test_bad_edges_are_refused(spec):
    with pytest.raises(MetadataError, match=r"chunk_shapes\[0\]"):
        parse_rectilinear({"kind": "inline", "chunk_shapes": [spec]}, (20,), "t")


def test_unknown_kind_is_refused():
    with pytest.raises(MetadataError, match="kind"):
        parse_rectilinear({"kind": "file", "chunk_shapes": [[5]]}, (5,), "t")
