"""zarrlite arrays as dask arrays, computed on a real dask.distributed LocalCluster whose workers are other
processes on 127.0.0.1: over a local directory and over HTTP, data written by zarr-python 3 and tensorstore,
results against numpy on the data written. A worker killed mid-computation is replaced and its tasks redone."""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402

import zarrlite  # noqa: E402
from writers import assert_same, smooth_data, ts_n5, zarr_python  # noqa: E402
from zarrlite.reopen import NotPicklableError  # noqa: E402
from zarrlite.stores import HttpStore, LocalStore  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # The functions of this module run on the workers, which cannot import it: send them by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=40, worker_dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def stores(fixture_dir, http_server):
    """A sharded Zarr v3 array (blosc), a Zarr v2 one (zstd) and an N5 one (gzip), with their truths;
    the same directories are served over HTTP."""
    import numcodecs
    import zarr
    import zarr.codecs

    root = fixture_dir("dask-stores")
    zarr.create_group(str(root), zarr_format=3)
    v3 = smooth_data((60, 50, 40), "uint16", seed=1)
    truth_v3 = zarr_python(root / "v3.zarr", v3, zarr_format=3, chunks=(5, 10, 8), shards=(20, 20, 16),
                           compressors=zarr.codecs.BloscCodec(cname="lz4"))
    v2 = smooth_data((45, 70), "float32", seed=2)
    truth_v2 = zarr_python(root / "v2.zarr", v2, zarr_format=2, chunks=(10, 16),
                           compressors=numcodecs.Zstd(level=3), missing=[(1, 2)])
    n5 = smooth_data((30, 20, 12), "int32", seed=3)
    truth_n5 = ts_n5(root / "a.n5", n5, block_size=(8, 7, 5), data_type="int32",
                     compression={"type": "gzip"})
    url = http_server.mount("dask", root)
    return {"root": root, "url": url, "v3": truth_v3, "v2": truth_v2, "n5": truth_n5}


def source_of(stores, where, name):
    return f"{stores['url']}/{name}" if where == "http" else str(stores["root"] / name)


def grid(shape, block):
    """The dask chunks tuple of `shape` cut into `block`-sized pieces (the last one short)."""
    return tuple(tuple([b] * (n // b) + ([n % b] if n % b else [])) for n, b in zip(shape, block))


@pytest.mark.parametrize("where", ["local", "http"])
def test_sharded_v3_blocks_are_shards_and_reduce_on_workers(client, stores, where):
    x = zarrlite.open(source_of(stores, where, "v3.zarr")).to_dask()
    truth = stores["v3"]
    assert x.chunks == grid(truth.shape, (20, 20, 16))
    assert x.dtype == truth.dtype
    mean = client.compute(x.mean(axis=0)).result()
    np.testing.assert_allclose(mean, truth.mean(axis=0, dtype="f8"), rtol=1e-12)
    assert_same(client.compute(x[7:53:3, 2, ::-5]).result(), truth[7:53:3, 2, ::-5])


@pytest.mark.parametrize("where", ["local", "http"])
def test_v2_blocks_of_several_chunks_with_a_missing_chunk(client, stores, where):
    x = zarrlite.to_dask(source_of(stores, where, "v2.zarr"), chunks=(20, -1))
    truth = stores["v2"]
    assert x.chunks == grid(truth.shape, (20, 70))
    assert_same(client.compute(x).result(), truth)
    np.testing.assert_allclose(client.compute(x.sum(axis=1)).result(), truth.sum(axis=1, dtype="f8"), rtol=1e-5)


@pytest.mark.parametrize("where", ["local", "http"])
def test_n5_in_c_order(client, stores, where):
    x = zarrlite.to_dask(source_of(stores, where, "a.n5"))
    truth = stores["n5"]
    assert x.shape == truth.shape and x.chunks == grid(truth.shape, (5, 7, 8))
    assert_same(client.compute(x.max(axis=(0, 2))).result(), truth.max(axis=(0, 2)))


def test_strings_and_datetimes_on_workers(client, fixture_dir):
    import zarr

    root = fixture_dir("dask-strings")
    words = np.array([f"w{i}" * (i % 4) for i in range(23)], dtype=object)
    z = zarr.create_array(str(root / "words.zarr"), shape=words.shape, chunks=(5,), dtype=str, zarr_format=3)
    z[:] = words
    when = np.arange("2020-01-01", "2020-01-24", dtype="M8[D]").astype("M8[s]")
    when[3] = np.datetime64("NaT", "s")
    zarr_python(root / "when.zarr", when, zarr_format=2, chunks=(4,))
    got = client.compute(zarrlite.to_dask(str(root / "words.zarr"), chunks=(10,))).result()
    assert got.tolist() == words.tolist()
    x = zarrlite.to_dask(str(root / "when.zarr"))
    assert x.dtype == when.dtype
    assert_same(client.compute(x[::2]).result(), when[::2])


def test_an_xarray_dataset_computes_on_the_workers(client, stores):
    xr = pytest.importorskip("xarray")
    ds = xr.open_dataset(str(stores["root"]), engine="zarrlite", chunks={})  # the Zarr v3 group: v3.zarr
    assert ds["v3.zarr"].chunks == grid(stores["v3"].shape, (20, 20, 16))
    got = client.compute(ds["v3.zarr"].mean("dim_0")).result()  # the backend arrays travel pickled
    np.testing.assert_allclose(got.values, stores["v3"].mean(axis=0, dtype="f8"), rtol=1e-12)


def read_all(node, path=""):
    """What a worker does with a node it received: read it whole (in a worker process)."""
    arr = node[path] if path else node
    return os.getpid(), arr[...]


def test_arrays_and_groups_pickle_as_what_reopens_them(client, stores):
    url = stores["url"]
    arr = zarrlite.open(f"{url}/v2.zarr", retries=1, headers={"X-Test": "1"})
    back = pickle.loads(pickle.dumps(arr))
    assert (back.path, back.shape, back.dtype) == (arr.path, arr.shape, arr.dtype)
    assert back.store.headers == {"X-Test": "1"} and back.store.retries == 1  # the options travel too
    pid, data = client.submit(read_all, arr).result()
    assert pid != os.getpid()
    assert_same(data, stores["v2"])
    group = zarrlite.open(str(stores["root"]))  # a Zarr v3 group, its members listed
    pid, data = client.submit(read_all, group, "v3.zarr").result()
    assert pid != os.getpid()
    assert_same(data, stores["v3"])


def test_a_relative_path_reopens_in_a_worker_elsewhere(client, stores, monkeypatch):
    monkeypatch.chdir(stores["root"])
    x = zarrlite.to_dask("v3.zarr")  # the workers' working directory is not this one
    assert_same(client.compute(x[:, 0, 0]).result(), stores["v3"][:, 0, 0])


def test_store_objects_pickle_only_when_they_can(client, stores):
    local = zarrlite.open(LocalStore(str(stores["root"] / "v3.zarr")))
    assert_same(client.compute(local.to_dask()[3]).result(), stores["v3"][3])
    remote = zarrlite.open(HttpStore(f"{stores['url']}/v3.zarr"))
    assert_same(remote.to_dask()[3].compute(scheduler="threads"), stores["v3"][3])  # no pickling needed
    with pytest.raises(NotPicklableError, match="cannot be pickled.*Open it by path or URL"):
        pickle.dumps(remote)
    assert issubclass(NotPicklableError, zarrlite.ZarrliteError) and issubclass(NotPicklableError, TypeError)


def test_blocks_must_be_whole_chunks(stores):
    arr = zarrlite.open(str(stores["root"] / "v3.zarr"))
    assert arr.to_dask(chunks=(10, 10, 8)).chunks == grid(arr.shape, (10, 10, 8))  # inner chunks of shards
    for bad in [(7, 10, 8), (5, 10), (0, 10, 8), 3]:
        with pytest.raises(zarrlite.SelectionError, match="whole|entries"):
            arr.to_dask(chunks=bad)
    with pytest.raises(zarrlite.ZarrliteError, match="is a group"):
        zarrlite.to_dask(str(stores["root"]))


def test_same_array_same_keys_other_array_other_keys(stores):
    a = zarrlite.to_dask(str(stores["root"] / "v3.zarr"))
    assert a.name == zarrlite.to_dask(str(stores["root"] / "v3.zarr")).name
    assert a.name != zarrlite.to_dask(str(stores["root"] / "v3.zarr"), chunks=(20, 20, 32)).name
    assert a.name != zarrlite.to_dask(str(stores["root"] / "v2.zarr")).name


def kill_once(block, marker, spare_pid):
    """Kill this worker process the first time any worker runs it (an exclusive-create marker file);
    never the test's own process (`spare_pid`)."""
    if os.getpid() == spare_pid or block.size == 0:
        return block
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return block
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os._exit(1)


@pytest.mark.parametrize("where", ["http"])
def test_a_worker_killed_mid_computation_is_retried(client, stores, where, tmp_path):
    truth = stores["v3"]
    before = set(client.run(os.getpid).values())
    marker = tmp_path / "killed"
    x = zarrlite.to_dask(source_of(stores, where, "v3.zarr"), chunks=(20, 20, 16))
    # the blocks already read and held by the dying worker are lost too: dask reads them again elsewhere
    y = x.map_blocks(kill_once, str(marker), os.getpid(), meta=np.empty((0,) * x.ndim, x.dtype))
    total = client.compute(y.astype("f8").sum(axis=(1, 2))).result(timeout=120)
    np.testing.assert_allclose(total, truth.astype("f8").sum(axis=(1, 2)), rtol=1e-12)
    killed = int(marker.read_text())
    assert killed in before
    client.wait_for_workers(2, timeout=60)
    after = set(client.run(os.getpid).values())
    assert killed not in after and len(after) == 2  # the nanny started a new worker process in its place
