"""Requests are the cost: how many a read makes, counted in the log of a loopback S3-compatible server
(tests/s3server.py). Data written by zarr-python 3; no timings are asserted."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import zarrlite
from s3server import S3Server


@pytest.fixture
def server():
    with S3Server() as s3:
        yield s3


def _sharded(root, *, shape, shards, chunks):
    import zarr

    data = np.arange(np.prod(shape), dtype="<u2").reshape(shape)
    arr = zarr.create_array(str(root), shape=shape, dtype=data.dtype, chunks=chunks, shards=shards,
                            compressors=None)
    arr[...] = data
    return data


def test_a_v3_node_costs_one_metadata_request(tmp_path, server):
    import zarr

    data = np.arange(40, dtype="i2").reshape(5, 8)
    zarr.create_array(str(tmp_path / "a.zarr"), shape=data.shape, dtype=data.dtype, chunks=(5, 8))[...] = data
    server.add_bucket("b", tmp_path)
    arr = zarrlite.open("s3://b/a.zarr", endpoint_url=server.endpoint_url)
    np.testing.assert_array_equal(arr[...], data)
    assert [e.path.rsplit("/", 1)[-1] for e in server.log] == ["zarr.json", "0"]  # no 404s for other formats
    assert all(e.status == 200 for e in server.log)


def test_v2_and_n5_are_still_found(tmp_path, server):
    import zarr

    data = np.arange(12, dtype="<f4").reshape(3, 4)
    zarr.create_array(str(tmp_path / "v2.zarr"), shape=data.shape, dtype=data.dtype, chunks=(2, 2),
                      zarr_format=2)[...] = data
    server.add_bucket("b", tmp_path)
    np.testing.assert_array_equal(zarrlite.open(f"{server.endpoint_url}/b/v2.zarr")[...], data)
    first = [e.path.rsplit("/", 1)[-1] for e in server.log][:1]
    assert first == ["zarr.json"]  # v3 is asked first, alone; v2 only after its 404


def test_nearby_inner_chunks_of_a_shard_are_one_request(tmp_path, server):
    # A box over 2 x 2 inner chunks of a shard of 4 x 4: row-major, the two rows of the box are two byte
    # ranges, two chunks (256 bytes) apart; one request reads both (the index is the other request).
    data = _sharded(tmp_path / "s.zarr", shape=(32, 32), shards=(32, 32), chunks=(8, 8))
    server.add_bucket("b", tmp_path)
    arr = zarrlite.open(f"{server.endpoint_url}/b/s.zarr")
    server.clear_log()
    np.testing.assert_array_equal(arr[10:20, 3:12], data[10:20, 3:12])
    shard_reads = [e for e in server.log if e.path.endswith("/c/0/0")]
    assert len(shard_reads) == 2, shard_reads  # the index (a suffix), then 4 inner chunks in one range
    assert shard_reads[0].range.startswith("bytes=-")


def test_a_shard_wanted_whole_is_one_request(tmp_path, server):
    data = _sharded(tmp_path / "s.zarr", shape=(4, 16, 16), shards=(1, 16, 16), chunks=(1, 4, 4))
    server.add_bucket("b", tmp_path)
    arr = zarrlite.open(f"{server.endpoint_url}/b/s.zarr")
    server.clear_log()
    np.testing.assert_array_equal(arr[...], data)
    shards = sorted(e.path.split("/s.zarr/", 1)[1] for e in server.log)
    assert shards == ["c/0/0/0", "c/1/0/0", "c/2/0/0", "c/3/0/0"]  # one GET each, no index request first
    assert all(e.range is None for e in server.log)


def test_requests_overlap_up_to_the_store_limit(tmp_path, server):
    import zarr

    data = np.arange(64 * 64, dtype="u1").reshape(64, 64)
    zarr.create_array(str(tmp_path / "c.zarr"), shape=data.shape, dtype=data.dtype, chunks=(8, 8))[...] = data
    server.add_bucket("b", tmp_path)
    server.latency = 0.05  # long enough that the 64 chunk requests are all waiting at once
    arr = zarrlite.open(f"{server.endpoint_url}/b/c.zarr")
    server.clear_log()
    np.testing.assert_array_equal(arr[...], data)
    assert server.most_in_flight >= 12  # 32 allowed; not capped by a small default thread pool


def test_no_head_requests(tmp_path, server):
    data = _sharded(tmp_path / "s.zarr", shape=(8, 8), shards=(8, 8), chunks=(4, 4))
    server.add_bucket("b", tmp_path)
    arr = zarrlite.open("s3://b/s.zarr", endpoint_url=server.endpoint_url)
    np.testing.assert_array_equal(arr[1:3, 5:7], data[1:3, 5:7])
    assert asyncio.run(arr.store.size("c/0/0")) == (tmp_path / "s.zarr" / "c" / "0" / "0").stat().st_size
    assert {e.method for e in server.log} == {"GET"}


def test_concurrent_reads_of_one_shard_share_requests(tmp_path, server):
    # Four boxes read at once, each inside another of four neighbouring inner chunks: their ranges are
    # gathered into one request (and the shard index, wanted by all four, is read once).
    data = _sharded(tmp_path / "s.zarr", shape=(32, 32), shards=(32, 32), chunks=(8, 8))
    server.add_bucket("b", tmp_path)

    async def read():
        arr = await zarrlite.open_async(f"{server.endpoint_url}/b/s.zarr")
        server.clear_log()
        boxes = [(slice(1, 6), slice(8 * i + 1, 8 * i + 7)) for i in range(4)]
        return boxes, await asyncio.gather(*(arr.get(b) for b in boxes))

    boxes, values = asyncio.run(read())
    for box, value in zip(boxes, values):
        np.testing.assert_array_equal(value, data[box])
    assert len(server.log) == 2, server.log  # the index, then one range for the four inner chunks


def _names(log):
    return [e.path.rsplit("/", 1)[-1] for e in log]


@pytest.fixture
def v2_tree(tmp_path):
    """A Zarr v2 group (zarr-python 3) holding an array `a` and a group `g` with attributes; the array's
    values."""
    import zarr

    data = np.arange(24, dtype="<i4").reshape(4, 6)
    root = zarr.open_group(str(tmp_path / "t.zarr"), mode="w", zarr_format=2)
    root.create_array("a", shape=data.shape, dtype=data.dtype, chunks=(4, 6), attributes={"unit": "m"})[...] = data
    root.create_group("g", attributes={"kind": "well"})
    return tmp_path, data


def test_an_array_below_a_v2_group_costs_two_metadata_requests(v2_tree, server):
    # .zarray and .zattrs, both needed for an array, asked together; no .zgroup (.zarray wins over it),
    # no other format's document (the parent's format is known)
    tmp_path, data = v2_tree
    server.add_bucket("b", tmp_path)
    server.latency = 0.3  # long enough that the two asked together are answered at once
    root = zarrlite.open(f"{server.endpoint_url}/b/t.zarr")
    server.clear_log()
    arr = root["a"]
    assert sorted(_names(server.log)) == [".zarray", ".zattrs"] and server.most_in_flight == 2
    assert arr.attrs == {"unit": "m"}
    np.testing.assert_array_equal(arr[...], data)


def test_a_group_below_a_v2_group_asks_zgroup_only_when_zarray_is_missing(v2_tree, server):
    tmp_path, _ = v2_tree
    server.add_bucket("b", tmp_path)
    server.latency = 0.3  # long enough that the requests asked together are answered at once
    root = zarrlite.open(f"{server.endpoint_url}/b/t.zarr")
    server.clear_log()
    group = root["g"]
    assert isinstance(group, zarrlite.Group) and group.attrs == {"kind": "well"}
    names = _names(server.log)
    assert sorted(names[:2]) == [".zarray", ".zattrs"] and names[2:] == [".zgroup"], names
    assert server.most_in_flight == 2  # .zgroup asked after the answer for .zarray, not with it
    assert [e.status for e in server.log if e.path.endswith(".zarray")] == [404]


def test_a_missing_node_below_a_v2_group_asks_v2_documents_only(v2_tree, server):
    tmp_path, _ = v2_tree
    server.add_bucket("b", tmp_path)
    root = zarrlite.open(f"{server.endpoint_url}/b/t.zarr")
    server.clear_log()
    with pytest.raises(zarrlite.ZarrliteError):
        root["nothing"]
    assert sorted(_names(server.log)) == [".zarray", ".zattrs", ".zgroup"]


def test_below_a_v3_group_or_an_n5_root_a_node_costs_one_metadata_request(tmp_path, server):
    import zarr

    from writers import n5_group, ts_n5

    g = zarr.open_group(str(tmp_path / "t3.zarr"), mode="w", zarr_format=3)
    g.create_group("g").create_array("a", shape=(3,), dtype="u1", chunks=(3,))[...] = [1, 2, 3]
    n5_group(tmp_path / "t.n5", version="2.5.1")
    n5_group(tmp_path / "t.n5" / "g", {"kind": "group"})
    ts_n5(tmp_path / "t.n5" / "g" / "a", np.arange(3, dtype="u1"), block_size=[3], data_type="uint8",
          compression={"type": "raw"})
    server.add_bucket("b", tmp_path)
    for name, key in (("t3.zarr", "zarr.json"), ("t.n5", "attributes.json")):
        root = zarrlite.open(f"{server.endpoint_url}/b/{name}")
        for path in ("g", "g/a"):
            server.clear_log()
            root[path]
            assert _names(server.log) == [key], (name, path, server.log)


def test_an_n5_directory_group_asks_again_for_no_parent_already_read(tmp_path, server):
    # In an N5 root a directory without attributes.json is a group unless a parent is a dataset: the
    # parents opened before (the root, `g`) are not asked again
    from writers import n5_group, ts_n5

    n5_group(tmp_path / "t.n5", version="2.5.1")
    want = ts_n5(tmp_path / "t.n5" / "g" / "h" / "a", np.arange(6, dtype="u1").reshape(2, 3), block_size=[2, 3],
                 data_type="uint8", compression={"type": "raw"})
    server.add_bucket("b", tmp_path)
    root = zarrlite.open(f"{server.endpoint_url}/b/t.n5")
    assert isinstance(root["g"], zarrlite.Group)
    server.clear_log()
    assert isinstance(root["g/h"], zarrlite.Group)
    assert [e.path.split("/t.n5/", 1)[1] for e in server.log] == ["g/h/attributes.json"]
    np.testing.assert_array_equal(root["g/h/a"][...], want)
