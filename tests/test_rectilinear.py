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


# ------------------------------------------------------------------------------ what the viewer gets
def test_image_model_and_chunk_map_give_the_boundaries(rect):
    """The viewer draws chunks where they are: the image model's level carries the boundaries of the
    varying dimensions, and the chunk map names the chunks (stored or not) a region touches."""
    from zarrlite import viewer_api
    from zarrlite.model import image_model
    from zarrlite.runtime import run_sync

    root, _ = rect
    arr = zarrlite.open(str(root))
    level = image_model(arr).as_dict()["levels"][0]
    assert level["bounds"] == [[0, 5, 10, 20, 23, 30], [0, 1, 5, 9, 13, 25, 41]]
    m = run_sync(viewer_api.chunk_map_of(arr, [None, None], [6, 21, 3, 10]), "await chunk_map_of(...)")
    written = [[0, 20], [0, 41]], [[23, 30], [0, 25]]   # the fixture's regions
    want = []
    for r, (r0, r1) in enumerate(zip([0, 5, 10, 20, 23], [5, 10, 20, 23, 30])):
        for c, (c0, c1) in enumerate(zip([0, 1, 5, 9, 13, 25], [1, 5, 9, 13, 25, 41])):
            if r0 < 21 and r1 > 6 and c0 < 10 and c1 > 3:
                stored = any(a < r1 and b > r0 and p < c1 and q > c0 for (a, b), (p, q) in written)
                want.append((r, c, stored))
    assert [(r, c, n is not None) for r, c, n in m["cells"]] == want
    assert all(n is None or n > 0 for _, _, n in m["cells"])


def test_regular_grids_carry_no_bounds(tmp_path):
    from zarrlite.model import image_model

    root = tmp_path / "regular.zarr"
    zarr32_python(root, make_data((10, 12), "<u1"), chunks=[4, 5])
    assert image_model(zarrlite.open(str(root))).as_dict()["levels"][0]["bounds"] is None


def test_sharded_rectilinear_reads_inner_chunks_by_range(tmp_path):
    """Shards of different sizes keep the byte-range path: a small selection reads each touched shard's
    index and the inner chunks it needs, never a whole shard."""
    from zarrlite.stores.local import LocalStore

    class Ranges(LocalStore):
        def __init__(self, root):
            super().__init__(root)
            self.whole, self.ranges = [], []

        async def get(self, key):
            self.whole.append(key)
            return await super().get(key)

        def get_sync(self, key, folders=None):
            self.whole.append(key)
            return super().get_sync(key, folders)

        async def get_range(self, key, start, length):
            self.ranges.append((key, start, length))
            return await super().get_range(key, start, length)

    root = tmp_path / "ranges.zarr"
    data = make_data((40, 36), "<i4", seed=9)
    truth = zarr32_python(root, data, chunks=[5, 6], shards=[[10, 20, 10], [12, 24]])
    store = Ranges(str(root))
    arr = zarrlite.open(store)
    store.whole.clear()
    sel = (slice(12, 17), slice(14, 20))            # in shard (1, 1): rows 10-30, columns 12-36
    assert_same(arr[sel], truth[sel])
    assert not [k for k in store.whole if k.startswith("c/")], store.whole
    assert {k for k, _, _ in store.ranges} == {"c/1/1"}
    index = 4 * 4 * 16 + 4                          # 4 x 4 inner chunks of 5 x 6, and its crc32c
    assert ("c/1/1", -index, index) in store.ranges, store.ranges
    chunks = [length for _, start, length in store.ranges if start >= 0]
    assert chunks and sum(chunks) < (root / "c" / "1" / "1").stat().st_size - index, store.ranges
