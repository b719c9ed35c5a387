"""The fast paths of the read loop against truths written by zarr-python 3, tensorstore and by hand:
chunks not stored filled once for the whole read or after the stored ones (non-zero fill values, every
format), the per-chunk projections against numpy's own indexing, and a failing chunk stopping the read."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import zarrlite
from writers import assert_same, chunk_regions, make_data, manual_n5, manual_zarr2, ts_n5, zarr_python
from zarrlite.indexing import byte_span, chunk_projections, normalize_selection

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


@pytest.mark.parametrize("sel", SELECTIONS + [(0, 0, 0), (6, slice(3, 4), slice(8, None, 3))])
@pytest.mark.parametrize("itemsize", [1, 2, 8])
def test_byte_span_is_the_range_of_the_bytes_read(sel, itemsize):
    index = np.arange(np.prod(CHUNKS)).reshape(CHUNKS)   # each element's position in a C-order chunk
    for proj in chunk_projections(normalize_selection(sel, SHAPE), CHUNKS):
        read = index[proj.chunk_selection]
        assert byte_span(proj.chunk_selection, CHUNKS, itemsize) == (read.min() * itemsize,
                                                                      (read.max() + 1) * itemsize)


def test_projections_of_a_0d_array():
    assert [(p.coords, p.chunk_selection, p.out_selection) for p in chunk_projections([], ())] == [((), (), ())]


# ------------------------------------------------------------------ blosc: only the blocks a read touches

class BloscAs:
    """numcodecs' blosc with a chosen typesize and block size (zarr writes typesize = itemsize)."""

    def __init__(self, shuffle, blocksize, typesize=None, clevel=5, cname="lz4"):
        self.args = (cname.encode(), clevel, shuffle, blocksize)
        self.typesize = typesize
        self.config = {"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": blocksize}

    def get_config(self):
        return self.config

    def encode(self, buf):
        import numcodecs.blosc

        return numcodecs.blosc.compress(np.ascontiguousarray(buf).view("u1").tobytes(), *self.args,
                                        typesize=self.typesize or buf.dtype.itemsize)


BLOSC_SHAPE, BLOSC_CHUNKS = (20, 33, 40), (8, 16, 40)
BLOSC_SELECTIONS = [(5, slice(None), slice(None)), (slice(9, 11), 3, slice(None)), (17, 20, 39), (0, 0, 0),
                    (slice(2, 14), slice(10, 20), slice(5, 9)), (slice(None, None, 7), slice(1, None, 5), -1),
                    (slice(None, None, -3), 12, slice(None)), (Ellipsis,)]


@pytest.mark.parametrize("dtype,typesize", [("u1", None), ("u2", None), ("f4", None), ("f8", None),
                                            ("u2", 1), ("f4", 8), ("u1", 16), ("i4", 3)])
@pytest.mark.parametrize("shuffle", [0, 1, 2])
@pytest.mark.parametrize("blocksize", [256, 4096, 0])
def test_blosc_reads_of_parts_of_chunks_equal_numpy(dtype, typesize, shuffle, blocksize, fixture_dir):
    root = fixture_dir(f"fast-blosc-{dtype}-{typesize}-{shuffle}-{blocksize}")
    truth = manual_zarr2(root, make_data(BLOSC_SHAPE, dtype, seed=8), BLOSC_CHUNKS,
                         compressor=BloscAs(shuffle, blocksize, typesize), fill_value=3)
    a = zarrlite.open(str(root))
    for sel in BLOSC_SELECTIONS:
        assert_same(a[sel], truth[sel])


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_blosc_written_by_zarr_python_reads_by_parts(zarr_format, fixture_dir):
    import numcodecs
    from zarr.codecs import BloscCodec

    root = fixture_dir(f"fast-blosc-zarr{zarr_format}")
    comp = (numcodecs.Blosc("zstd", 3, numcodecs.Blosc.BITSHUFFLE, blocksize=1024) if zarr_format == 2
            else BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle", blocksize=1024))
    truth = zarr_python(root, make_data(BLOSC_SHAPE, "int16", seed=9), zarr_format=zarr_format,
                        chunks=BLOSC_CHUNKS, compressors=comp, fill_value=-1, missing={(1, 0, 0)})
    a = zarrlite.open(str(root))
    for sel in BLOSC_SELECTIONS:
        assert_same(a[sel], truth[sel])


@pytest.mark.parametrize("clevel", [0, 5])   # 0: stored uncompressed ("memcpyed")
def test_blosc_decode_part_decodes_the_range_from_few_blocks(clevel):
    import numcodecs.blosc
    from zarrlite.codecs.native import Blosc

    raw = make_data((64 * 1024,), "u2", seed=10).tobytes()
    data = numcodecs.blosc.compress(raw, b"lz4", clevel, 1, 4096, typesize=2)
    full = numcodecs.blosc.decompress(data)
    assert full == raw
    codec = Blosc({})
    for start, stop in [(0, 1), (0, 4096), (4095, 4097), (10_000, 20_000), (131_070, 131_072), (7, 8)]:
        got = codec.decode_part(data, len(raw), start, stop)
        assert isinstance(got, np.ndarray), "the partial path was not taken"
        assert len(got) == len(raw) and bytes(got[start:stop]) == raw[start:stop]
    assert bytes(codec.decode_part(data, len(raw), 0, len(raw))) == raw   # all blocks: decoded whole


def test_corrupt_blosc_chunks_read_by_parts_fail_cleanly(fixture_dir):
    """Bytes of a multi-block chunk overwritten (headers, block offsets, payload): a plane read returns the
    right values or raises a ZarrliteError; nothing crashes or reads outside the chunk."""
    root = fixture_dir("fast-blosc-corrupt")
    truth = manual_zarr2(root, make_data(BLOSC_SHAPE, "u2", seed=11), BLOSC_CHUNKS,
                         compressor=BloscAs(1, 512, None))
    path = root / "1.1.0"
    good = path.read_bytes()
    rng = np.random.default_rng(12)
    nblocks = -(-int(np.frombuffer(good[4:8], "<u4")[0]) // 512)
    outcomes = set()
    for i in range(400):
        bad = bytearray(good)
        where = (int(rng.integers(0, 16)) if i % 4 == 0 else int(rng.integers(16, 16 + 4 * nblocks)) if i % 4 == 1
                 else int(rng.integers(0, len(bad))))
        bad[where:where + 4] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()[:len(bad) - where]
        if i % 7 == 0:
            bad = bad[:int(rng.integers(0, len(bad)))]
        path.write_bytes(bytes(bad))
        try:
            got = zarrlite.open(str(root))[12, :, :]
        except zarrlite.ZarrliteError:
            outcomes.add("error")
            continue
        outcomes.add("read")
        assert got.shape == truth[12].shape
    path.write_bytes(good)
    assert_same(zarrlite.open(str(root))[12, :, :], truth[12])
    assert "error" in outcomes
