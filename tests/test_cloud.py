"""Object stores: s3:// gs:// az:// mapped to HTTPS, bucket listings (a loopback S3-compatible server,
tests/s3server.py, tests/azureserver.py), and the fsspec and obstore bridges — data written by zarr-python 3."""

from __future__ import annotations

import numpy as np
import pytest

import zarrlite
from azureserver import AzureServer
from s3server import S3Server
from zarrlite.errors import StoreError
from zarrlite.stores.obstore_store import ObstoreStore
from zarrlite.stores.cloud import bucket_for, child_names_of, listing_url, parse_listing, xml_texts

# -- URL mapping (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize("url, options, data_url, list_url", [
    ("s3://bkt/a/b.zarr", {}, "https://bkt.s3.amazonaws.com/a/b.zarr",
     "https://bkt.s3.amazonaws.com/?list-type=2&prefix=a%2Fb.zarr%2F&delimiter=%2F"),
    ("s3://bkt/a", {"region": "eu-west-1"}, "https://bkt.s3.eu-west-1.amazonaws.com/a",
     "https://bkt.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=a%2F&delimiter=%2F"),
    ("s3://my.dotted.bkt/x", {"region": "us-west-2"}, "https://s3.us-west-2.amazonaws.com/my.dotted.bkt/x",
     "https://s3.us-west-2.amazonaws.com/my.dotted.bkt/?list-type=2&prefix=x%2F&delimiter=%2F"),
    ("s3://Old_Bucket/x", {}, "https://s3.amazonaws.com/Old_Bucket/x",
     "https://s3.amazonaws.com/Old_Bucket/?list-type=2&prefix=x%2F&delimiter=%2F"),
    ("s3://bkt/x", {"addressing_style": "path"}, "https://s3.amazonaws.com/bkt/x",
     "https://s3.amazonaws.com/bkt/?list-type=2&prefix=x%2F&delimiter=%2F"),
    ("s3://bkt/my data/a+b", {}, "https://bkt.s3.amazonaws.com/my%20data/a%2Bb",
     "https://bkt.s3.amazonaws.com/?list-type=2&prefix=my%20data%2Fa%2Bb%2F&delimiter=%2F"),
    ("s3://bkt/d/", {"endpoint_url": "http://127.0.0.1:9000"}, "http://127.0.0.1:9000/bkt/d",
     "http://127.0.0.1:9000/bkt/?list-type=2&prefix=d%2F&delimiter=%2F"),
    ("s3://bkt", {"endpoint_url": "http://minio.localhost:9000/", "addressing_style": "virtual"},
     "http://bkt.minio.localhost:9000", "http://bkt.minio.localhost:9000/?list-type=2&prefix=&delimiter=%2F"),
    ("gs://gbkt/p/q", {}, "https://storage.googleapis.com/gbkt/p/q",
     "https://storage.googleapis.com/storage/v1/b/gbkt/o?prefix=p%2Fq%2F&delimiter=%2F"),
    ("az://cont/p", {"account_name": "acct"}, "https://acct.blob.core.windows.net/cont/p",
     "https://acct.blob.core.windows.net/cont?restype=container&comp=list&prefix=p%2F&delimiter=%2F"),
    ("az://cont@acct.blob.core.windows.net/p", {}, "https://acct.blob.core.windows.net/cont/p",
     "https://acct.blob.core.windows.net/cont?restype=container&comp=list&prefix=p%2F&delimiter=%2F"),
    ("https://bkt.s3.us-east-2.amazonaws.com/z.zarr", {}, "https://bkt.s3.us-east-2.amazonaws.com/z.zarr",
     "https://bkt.s3.us-east-2.amazonaws.com/?list-type=2&prefix=z.zarr%2F&delimiter=%2F"),
    ("https://s3.us-east-2.amazonaws.com/bkt/z.zarr", {}, "https://s3.us-east-2.amazonaws.com/bkt/z.zarr",
     "https://s3.us-east-2.amazonaws.com/bkt/?list-type=2&prefix=z.zarr%2F&delimiter=%2F"),
    ("https://storage.googleapis.com/gbkt/z.zarr", {}, "https://storage.googleapis.com/gbkt/z.zarr",
     "https://storage.googleapis.com/storage/v1/b/gbkt/o?prefix=z.zarr%2F&delimiter=%2F"),
    ("https://acct.blob.core.windows.net/cont/z.zarr", {}, "https://acct.blob.core.windows.net/cont/z.zarr",
     "https://acct.blob.core.windows.net/cont?restype=container&comp=list&prefix=z.zarr%2F&delimiter=%2F"),
])
def test_bucket_urls(url, options, data_url, list_url):
    bucket = bucket_for(url, **options)
    assert bucket.data_url == data_url
    assert listing_url(bucket, bucket.prefix, None) == list_url


def test_continuation_tokens_in_listing_urls():
    s3 = bucket_for("s3://b/p")
    assert listing_url(s3, "p/", "tok/+=").endswith("&continuation-token=tok%2F%2B%3D")
    assert listing_url(bucket_for("gs://b/p"), "p/", "T1").endswith("&pageToken=T1")
    assert listing_url(bucket_for("az://c/p", account_name="a"), "p/", "M1").endswith("&marker=M1")


@pytest.mark.parametrize("url", ["https://example.org/data.zarr", "http://bkt.s3.amazonaws.com/x",
                                 "https://bkt.s3.amazonaws.com/x?X-Amz-Signature=abc"])
def test_other_urls_are_plain_http(url):
    assert bucket_for(url) is None  # signed URLs and plain hosts keep their URL exactly


def test_az_needs_an_account():
    with pytest.raises(StoreError, match="account"):
        bucket_for("az://cont/p")


# -- listings (pure) ----------------------------------------------------------------------------

S3_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>r/</Prefix>
<KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
<Contents><Key>r/zarr.json</Key><Size>120</Size></Contents>
<CommonPrefixes><Prefix>r/a &amp; b/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>r/c/</Prefix></CommonPrefixes>
</ListBucketResult>"""


def test_s3_listing_page():
    page = parse_listing("s3", S3_PAGE)
    assert page.keys == ("r/zarr.json",)
    assert page.prefixes == ("r/a & b/", "r/c/")
    assert page.token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    assert child_names_of(page, "r/") == {"zarr.json", "a & b", "c"}
    last = S3_PAGE.replace(b"<IsTruncated>true", b"<IsTruncated>false")
    assert parse_listing("s3", last).token is None


def test_gcs_and_azure_listing_pages():
    gcs = parse_listing("gcs", b'{"items": [{"name": "r/zarr.json"}], "prefixes": ["r/x/"], "nextPageToken": "N"}')
    assert (gcs.keys, gcs.prefixes, gcs.token) == (("r/zarr.json",), ("r/x/",), "N")
    azure = parse_listing("azure", b"""<?xml version="1.0" encoding="utf-8"?><EnumerationResults
        ServiceEndpoint="https://a.blob.core.windows.net/" ContainerName="c"><Prefix>r/</Prefix><Blobs>
        <Blob><Name>r/.zgroup</Name></Blob><BlobPrefix><Name>r/y/</Name></BlobPrefix></Blobs><NextMarker/>
        </EnumerationResults>""")
    assert (azure.keys, azure.prefixes, azure.token) == (("r/.zgroup",), ("r/y/",), None)


@pytest.mark.parametrize("doc", [
    # entity expansion ("billion laughs"): refused at the DTD, nothing expanded
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b"<ListBucketResult><Contents><Key>&b;</Key></Contents></ListBucketResult>",
    # an external entity (a local file)
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<ListBucketResult><Contents><Key>&x;</Key></Contents></ListBucketResult>",
    b'<?xml version="1.0"?><!DOCTYPE l SYSTEM "http://127.0.0.1:9/dtd"><ListBucketResult/>',
    b"<ListBucketResult><Contents><Key>&undeclared;</Key></Contents></ListBucketResult>",
    b"<ListBucketResult><Contents>",  # cut short
])
def test_hostile_listings_are_refused(doc):
    with pytest.raises(StoreError):
        parse_listing("s3", doc)


def test_listing_size_is_bounded():
    huge = b"<ListBucketResult>" + b" " * (17 << 20) + b"</ListBucketResult>"
    with pytest.raises(StoreError, match="bytes"):
        parse_listing("s3", huge)


def test_xml_texts_drops_namespaces():
    assert xml_texts(b"<a xmlns='urn:x'><b>1</b><b>2</b></a>") == {("a", "b"): ["1", "2"], ("a",): [""]}


# -- s3:// against a loopback S3-compatible server -----------------------------------------------


@pytest.fixture
def hierarchy(tmp_path):
    """A zarr-python 3 hierarchy with no consolidated metadata: bucket 'data', prefix 'exp/h.zarr'."""
    import zarr

    root = tmp_path / "bucket"
    where = root / "exp" / "h.zarr"
    g = zarr.open_group(str(where), mode="w", zarr_format=3)
    rng = np.random.default_rng(3)
    truth = {}
    for name in ("raw", "labels/cells", "labels/nuclei", "a b"):
        data = rng.integers(0, 60000, (12, 20), dtype="uint16")
        arr = g.create_array(name, shape=data.shape, dtype=data.dtype, chunks=(5, 8))
        arr[...] = data
        truth[name] = data
    g.create_group("empty")
    return root, truth


def test_s3_endpoint_lists_a_group_without_consolidated_metadata(hierarchy):
    root, truth = hierarchy
    with S3Server(page_size=2) as s3:  # two names a page: the listing has to follow continuation tokens
        s3.add_bucket("data", root)
        g = zarrlite.open("s3://data/exp/h.zarr", endpoint_url=s3.endpoint_url)
        assert isinstance(g, zarrlite.Group)
        assert sorted(g) == ["a b", "empty", "labels", "raw"]
        assert sorted(g["labels"]) == ["cells", "nuclei"]
        for name, data in truth.items():
            np.testing.assert_array_equal(g[name][...], data)
        lists = [e for e in s3.log if "list-type=2" in e.path]
        assert any("continuation-token=" in e.path for e in lists)
        assert all(e.method == "GET" for e in s3.log)  # no HEAD requests


def test_s3_bucket_without_list_permission_still_opens(hierarchy):
    root, truth = hierarchy
    with S3Server() as s3:
        s3.add_bucket("data", root, listable=False)
        g = zarrlite.open("s3://data/exp/h.zarr", endpoint_url=s3.endpoint_url)
        assert list(g) == []  # nothing says what is inside; members still open by name
        np.testing.assert_array_equal(g["labels/cells"][...], truth["labels/cells"])
        assert sum("list-type=2" in e.path for e in s3.log) == 1  # refused once, not asked again


def test_gs_with_endpoint_lists_through_the_json_api(hierarchy):
    root, truth = hierarchy
    with S3Server(page_size=1) as server:
        server.add_bucket("data", root)
        g = zarrlite.open("gs://data/exp/h.zarr", endpoint_url=server.endpoint_url)
        assert sorted(g) == ["a b", "empty", "labels", "raw"]
        np.testing.assert_array_equal(g["raw"][2:9, 3:17], truth["raw"][2:9, 3:17])
        assert any("/storage/v1/b/data/o?" in e.path and "pageToken=" in e.path for e in server.log)


def test_https_url_of_the_endpoint_stays_plain_http(hierarchy):
    root, truth = hierarchy
    with S3Server() as s3:
        s3.add_bucket("data", root)
        arr = zarrlite.open(f"{s3.endpoint_url}/data/exp/h.zarr/raw")
        np.testing.assert_array_equal(arr[...], truth["raw"])


# -- fsspec and obstore ---------------------------------------------------------------------------


def test_fsspec_memory_url_with_storage_options():
    import zarr

    data = np.arange(600, dtype="<i4").reshape(20, 30)
    g = zarr.open_group("memory://zl-test/h.zarr", mode="w", zarr_format=3)
    g.create_array("x", shape=data.shape, dtype=data.dtype, chunks=(7, 11))[...] = data
    g.create_array("y/z", shape=(5,), dtype="f8", chunks=(2,))[...] = np.linspace(0, 1, 5)
    root = zarrlite.open("memory://zl-test/h.zarr", storage_options={})
    assert sorted(root) == ["x", "y"]
    np.testing.assert_array_equal(root["x"][3:19:2, 5:], data[3:19:2, 5:])
    np.testing.assert_array_equal(root["y/z"][...], np.linspace(0, 1, 5))


def test_fsspec_file_url_zarr2(tmp_path):
    import zarr

    data = np.arange(100, dtype=">u2").reshape(10, 10)
    zarr.create_array(str(tmp_path / "a.zarr"), shape=data.shape, dtype=data.dtype, chunks=(3, 4),
                      zarr_format=2)[...] = data
    arr = zarrlite.open(f"file://{tmp_path / 'a.zarr'}", storage_options={"auto_mkdir": False})
    assert arr.format == "zarr2"
    np.testing.assert_array_equal(arr[...], data)


def test_fsspec_unknown_protocol_is_a_store_error():
    with pytest.raises(StoreError, match="nosuchproto"):
        zarrlite.open("nosuchproto://x/y", storage_options={})


def test_obstore_memory_store():
    import zarr
    from obstore.store import MemoryStore

    store = MemoryStore()
    data = np.arange(24 * 24, dtype="u2").reshape(24, 24)
    g = zarr.open_group(zarr.storage.ObjectStore(store), mode="w", zarr_format=3)
    g.create_array("s", shape=data.shape, dtype=data.dtype, chunks=(4, 4), shards=(8, 12))[...] = data
    g.create_array("t/u", shape=(3,), dtype="i8", chunks=(2,))[...] = [1, -2, 3]
    root = zarrlite.open(store)
    assert sorted(root) == ["s", "t"]
    np.testing.assert_array_equal(root["s"][5:21, 1:23], data[5:21, 1:23])
    np.testing.assert_array_equal(root["t/u"][...], [1, -2, 3])


def test_obstore_local_store(tmp_path):
    import zarr
    from obstore.store import LocalStore

    data = np.arange(50, dtype="f4")
    zarr.create_array(str(tmp_path / "v.zarr"), shape=data.shape, dtype=data.dtype, chunks=(8,),
                      zarr_format=2)[...] = data
    arr = zarrlite.open(LocalStore(str(tmp_path)), "v.zarr")
    np.testing.assert_array_equal(arr[...], data)


# -- the store contract (tests/store_contract.py) for the bucket, fsspec and obstore stores -------------

CONTRACT_KINDS = ["s3-bucket", "s3-bucket-one-name-a-page", "azure-container-one-name-a-page", "fsspec-memory",
                  "obstore-memory", "obstore-local"]


@pytest.fixture(scope="module")
def contract_stores(tmp_path_factory):
    import asyncio

    import store_contract as contract
    from obstore.store import LocalStore, MemoryStore

    from zarrlite.stores import store_for

    tree = tmp_path_factory.mktemp("contract-bucket")
    for key, value in contract.CONTENT.items():
        (tree / "root" / key).parent.mkdir(parents=True, exist_ok=True)
        (tree / "root" / key).write_bytes(value)
    memory = MemoryStore()
    for key, value in contract.CONTENT.items():
        memory.put(f"root/{key}", value)
    import fsspec
    fs = fsspec.filesystem("memory")
    for key, value in contract.CONTENT.items():
        fs.pipe_file(f"/zl-contract/{key}", value)
    with S3Server() as s3, S3Server(page_size=1) as s3_paged, AzureServer(page_size=1) as az:
        s3.add_bucket("b", tree)
        s3_paged.add_bucket("b", tree)
        az.add_bucket("c", tree)
        yield asyncio, contract, {
            "s3-bucket": lambda: store_for("s3://b/root", endpoint_url=s3.endpoint_url, cache_bytes=0, retries=0),
            "s3-bucket-one-name-a-page": lambda: store_for("s3://b/root", endpoint_url=s3_paged.endpoint_url,
                                                           cache_bytes=0, retries=0),
            "azure-container-one-name-a-page": lambda: store_for("az://c/root", endpoint_url=az.endpoint_url,
                                                                 cache_bytes=0, retries=0),
            "fsspec-memory": lambda: store_for("memory://zl-contract", storage_options={}, cache_bytes=0),
            "obstore-memory": lambda: ObstoreStore(memory, "root"),
            "obstore-local": lambda: ObstoreStore(LocalStore(str(tree)), "root"),
        }


@pytest.mark.parametrize("kind", CONTRACT_KINDS)
def test_store_contract(contract_stores, kind):
    asyncio, contract, makers = contract_stores
    checks = asyncio.run(contract.run_checks(makers[kind]()))
    assert checks == [c.__name__ for c in contract.CHECKS]
