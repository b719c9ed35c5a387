"""The fast paths of the read loop against truths written by zarr-python 3, tensorstore and by hand:
chunks not stored filled once for the whole read or after the stored ones (non-zero fill values, every
format), the per-chunk projections against numpy's own indexing, and a failing chunk stopping the read."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import zarrlite
from writers import assert_same, chunk_regions, make_data, manual_n5, ts_n5, zarr_python
from zarrlite.indexing import chunk_projections, normalize_selection

SHAPE = (7, 10, 9)
CHUNKS = (3, 4, 4)
SELECTIONS = [
    (Ellipsis,),
    (slice(1, 6), slice(None, None, 3), slice(2, 9)),
    (4, slice(None), slice(None, None, -2)),
    (slice(None, None, -1), 5, 3),
    (slice(2, 3), slice(0, 4), slice(0, 4)),    # inside one chunk
]
ALL = set(itertools.product(*(range(-(-s // c)) for s, c in zip(SHAPE, CHUNKS))))


def _missing_sets():
    some = {(0, 0, 0), (1, 2, 1), (2, 1, 2), (0, 2, 0)}
    return {"none": set(), "some": some, "all but one": ALL - {(1, 1, 1)}, "all": set(ALL)}


@pytest.mark.parametrize("missing", ["none", "some", "all but one", "all"])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_missing_chunks_read_as_a_nonzero_fill(zarr_format, missing, fixture_dir):
    root = fixture_dir(f"fast-fill-v{zarr_format}-{missing}")
    truth = zarr_python(root, make_data(SHAPE, "int16", seed=3), zarr_format=zarr_format, chunks=CHUNKS,
                        fill_value=-7, missing=_missing_sets()[missing])
    a = zarrlite.open(str(root))
    for sel in SELECTIONS:
        assert_same(a[sel], truth[sel])
    if missing == "all":
        assert (a[...] == -7).all()   # independently of the truth's own bookkeeping


@pytest.mark.parametrize("fill_value", [np.nan, -np.inf, 2.5])
def test_float_fill_of_an_array_with_no_chunk(fill_value, fixture_dir):
    root = fixture_dir("fast-fill-float")
    truth = zarr_python(root, make_data(SHAPE, "float32", seed=4), zarr_format=3, chunks=CHUNKS,
                        fill_value=fill_value, missing=ALL)
    assert_same(zarrlite.open(str(root))[1:, ::2, 3], truth[1:, ::2, 3])


@pytest.mark.parametrize("missing", ["some", "all"])
def test_n5_missing_blocks_are_zero(missing, fixture_dir):
    root = fixture_dir(f"fast-n5-{missing}")
    # tensorstore keeps N5's axis order: its block grid is the C-order grid reversed
    ts_missing = {idx[::-1] for idx in _missing_sets()[missing]}
    truth = ts_n5(root, make_data(SHAPE[::-1], "uint16", seed=5), block_size=CHUNKS[::-1], data_type="uint16",
                  compression={"type": "gzip", "level": 5}, missing=ts_missing)
    a = zarrlite.open(str(root))
    for sel in SELECTIONS:
        assert_same(a[sel], truth[sel])
    if missing == "all":
        assert not a[...].any()


def test_blockless_n5_reads_as_zeros_and_stays_blockless(fixture_dir):
    root = fixture_dir("fast-n5-blockless")
    manual_n5(root, np.zeros((33, 40, 17), "uint8"), chunks_c=(16, 16, 16), data_type="uint8",
              compression={"type": "raw"}, missing=set(itertools.product(range(3), range(3), range(2))))
    got = zarrlite.open(str(root))[...]
    assert_same(got, np.zeros((33, 40, 17), "uint8"))
    assert sorted(p.name for p in root.iterdir()) == ["attributes.json"]


def test_a_corrupt_chunk_among_many_fails_the_read_naming_it(fixture_dir):
    root = fixture_dir("fast-corrupt")
    zarr_python(root, make_data((40, 40), "uint16"), zarr_format=3, chunks=(4, 4))
    (root / "c" / "5" / "7").write_bytes(b"not a chunk at all")
    a = zarrlite.open(str(root))
    with pytest.raises(zarrlite.ZarrliteError, match=r"\(5, 7\)"):
        a[...]
    assert_same(a[:20], make_data((40, 40), "uint16")[:20])   # the array is still readable elsewhere


@pytest.mark.parametrize("sel", SELECTIONS + [(0, 0, 0), (slice(6, 0, -3), Ellipsis)])
def test_projections_assemble_what_numpy_selects(sel):
    """Each projection copied from a numpy chunk into an output must give numpy's own selection."""
    data = make_data(SHAPE, "int32", seed=6)
    dims = normalize_selection(sel, SHAPE)
    expected = data[sel]
    positive = expected[tuple(slice(None, None, -1) if d.flip else slice(None) for d in dims if not d.drop)]
    out = np.full(positive.shape, -1, "int32")
    seen = []
    for proj in chunk_projections(dims, CHUNKS):
        region = dict(chunk_regions(SHAPE, CHUNKS))[proj.coords]
        out[proj.out_selection] = data[region][proj.chunk_selection]
        seen.append(proj.coords)
    assert_same(out, positive)
    assert len(seen) == len(set(seen))   # no chunk visited twice


def test_projections_of_a_0d_array():
    assert [(p.coords, p.chunk_selection, p.out_selection) for p in chunk_projections([], ())] == [((), (), ())]
