"""Local reads skip the chunks of folders never written (LocalStore.get_sync's per-read folder memo):
sparse N5 and "/"-separated Zarr written by tensorstore and zarr-python read equal to numpy's."""

import numpy as np
import pytest

import zarrlite

ts = pytest.importorskip("tensorstore")


def _sparse(shape, chunks, seed):
    rng = np.random.default_rng(seed)
    expect = np.zeros(shape, dtype="uint16")
    # a few blocks under some top-level folders, most folders left unwritten
    for corner in [(0, 0, 0), (2, 1, 3), (2, 3, 0), (5, 0, 2)]:
        sel = tuple(slice(c * n, (c + 1) * n) for c, n in zip(corner, chunks))
        expect[sel] = rng.integers(1, 60000, size=[s.stop - s.start for s in sel], dtype="uint16")
    return expect


def test_sparse_n5_by_tensorstore(tmp_path):
    shape, chunks = (6 * 4 + 3, 4 * 5, 4 * 6), (4, 5, 6)
    expect = _sparse(shape, chunks, 1)
    arr = ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(tmp_path / "a.n5")},
                   "metadata": {"dimensions": list(shape), "blockSize": list(chunks), "dataType": "uint16",
                                "compression": {"type": "gzip"}}}, create=True).result()
    for corner in [(0, 0, 0), (2, 1, 3), (2, 3, 0), (5, 0, 2)]:
        sel = tuple(slice(c * n, (c + 1) * n) for c, n in zip(corner, chunks))
        arr[sel].write(expect[sel]).result()
    got = zarrlite.open(str(tmp_path / "a.n5"))   # zarrlite shows N5's dimensions last-first (C order)
    np.testing.assert_array_equal(got[:], expect.T)
    np.testing.assert_array_equal(got[1:20, 3:19, 7:13], expect.T[1:20, 3:19, 7:13])


def test_slash_separated_zarr_v2_by_zarr_python(tmp_path):
    zarr = pytest.importorskip("zarr")
    shape, chunks = (27, 20, 24), (4, 5, 6)
    expect = _sparse(shape, chunks, 2)
    z = zarr.create_array(str(tmp_path / "b.zarr"), shape=shape, chunks=chunks, dtype="uint16", zarr_format=2,
                          fill_value=0, chunk_key_encoding={"name": "v2", "separator": "/"})
    z[:] = expect  # zarr-python writes no chunk that is all fill value
    np.testing.assert_array_equal(zarrlite.open(str(tmp_path / "b.zarr"))[:], expect)


def test_folder_written_after_a_read_is_seen_by_the_next(tmp_path):
    shape, chunks = (8, 10, 12), (4, 5, 6)
    spec = {"driver": "n5", "kvstore": {"driver": "file", "path": str(tmp_path / "c.n5")},
            "metadata": {"dimensions": list(shape), "blockSize": list(chunks), "dataType": "uint16",
                         "compression": {"type": "raw"}}}
    arr = ts.open(spec, create=True).result()
    got = zarrlite.open(str(tmp_path / "c.n5"))
    np.testing.assert_array_equal(got[:], np.zeros(shape[::-1], "uint16"))
    arr[4:8, 5:10, 6:12].write(np.full((4, 5, 6), 7, "uint16")).result()
    expect = np.zeros(shape, "uint16")
    expect[4:8, 5:10, 6:12] = 7
    np.testing.assert_array_equal(got[:], expect.T)
