"""Buckets end to end against loopback servers: S3 virtual-host addressing (tests/s3server.py, reached
through `http_proxy`, or `https_proxy` and a CONNECT tunnel (tests/tunnelproxy.py), since
`bucket.localhost` does not resolve in CPython here), the proxy that the environment names, and Azure
Blob Storage (tests/azureserver.py): List Blobs with markers, blob ranges.
Data written by zarr-python 3; no consolidated metadata, so groups are listed."""

from __future__ import annotations

import socket
import subprocess

import numpy as np
import pytest

import zarrlite
from azureserver import AzureServer
from bucket_data import bucket_hierarchy
from s3server import S3Server
from tunnelproxy import TunnelProxy
from zarrlite.errors import StoreError

NAMES = ["a b", "empty", "labels", "raw", "sharded"]


@pytest.fixture(scope="module")
def hierarchy(tmp_path_factory):
    root = tmp_path_factory.mktemp("bucket")
    return root, bucket_hierarchy(root, shape=(12, 20), chunks=(5, 8), seed=11)


@pytest.fixture(scope="module")
def spaced(tmp_path_factory):
    """A zarr-python 3 hierarchy whose group names hold a space and a plus sign, in a directory that has one."""
    import zarr

    root = tmp_path_factory.mktemp("bucket")
    g = zarr.open_group(str(root / "my data" / "h.zarr"), mode="w", zarr_format=3)
    truth = {}
    for i, name in enumerate(("two words/x", "two words/y", "a+b/z", "two+words/w")):
        data = np.arange(i * 100, i * 100 + 30, dtype="int16").reshape(5, 6)
        g.create_array(name, shape=data.shape, dtype=data.dtype, chunks=(2, 4))[...] = data
        truth[name] = data
    return root, truth


def check_hierarchy(g, truth):
    assert isinstance(g, zarrlite.Group)
    assert sorted(g) == NAMES
    assert sorted(g["labels"]) == ["cells", "nuclei"]
    assert list(g["empty"]) == []
    for name, data in truth.items():
        np.testing.assert_array_equal(g[name][...], data)
    np.testing.assert_array_equal(g["sharded"][3:13, 5:19], truth["sharded"][3:13, 5:19])


@pytest.mark.parametrize("scheme", ["s3", "gs", "az"])
def test_listing_names_with_spaces_and_plus_signs(spaced, scheme):
    """A space in a listing's prefix goes as %20: S3 reads '+' in a query as a plus sign, so a prefix
    sent as `my+data%2F` listed nothing (or the wrong group: "two+words" for "two words")."""
    root, truth = spaced
    with (AzureServer if scheme == "az" else S3Server)(page_size=2) as server:
        server.add_bucket("data", root)
        g = zarrlite.open(f"{scheme}://data/my data/h.zarr", endpoint_url=server.endpoint_url)
        assert sorted(g) == ["a+b", "two words", "two+words"]
        assert sorted(g["two words"]) == ["x", "y"]
        assert sorted(g["two+words"]) == ["w"]
        assert sorted(g["a+b"]) == ["z"]
        for name, data in truth.items():
            np.testing.assert_array_equal(g[name][...], data)


# -- S3 virtual-host addressing -----------------------------------------------------------------------


def test_bucket_localhost_does_not_resolve_here():
    """Why the CPython virtual-host tests go through http_proxy: the resolver here knows `localhost`,
    not its subdomains (no nss-myhostname). If this starts to fail, the proxy is no longer needed."""
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("data.localhost", 80, type=socket.SOCK_STREAM)


def test_s3_virtual_host_lists_and_reads(hierarchy, monkeypatch):
    root, truth = hierarchy
    with S3Server(page_size=2) as s3:  # two names a page: continuation tokens on the bucket's host
        s3.add_bucket("data", root)
        monkeypatch.setenv("http_proxy", s3.endpoint_url)  # carries requests for data.localhost to it
        monkeypatch.delenv("no_proxy", raising=False)
        g = zarrlite.open("s3://data/exp/h.zarr", endpoint_url=s3.virtual_endpoint_url,
                          addressing_style="virtual")
        check_hierarchy(g, truth)
        host = f"data.localhost:{s3.port}"
        assert {e.host for e in s3.log} == {host}  # every request named the bucket in the host
        assert not any(e.path.startswith("/data") for e in s3.log)  # and none in the path
        lists = [e.path for e in s3.log if "list-type=2" in e.path]
        assert lists and all(p.startswith("/?list-type=2&prefix=exp%2Fh.zarr%2F") for p in lists)
        assert any("continuation-token=" in p for p in lists)
        assert {e.status for e in s3.log} <= {200, 206, 404} and all(e.method == "GET" for e in s3.log)


def test_s3_virtual_host_bucket_without_list_permission(hierarchy, monkeypatch):
    root, truth = hierarchy
    with S3Server() as s3:
        s3.add_bucket("data", root, listable=False)
        monkeypatch.setenv("http_proxy", s3.endpoint_url)
        monkeypatch.delenv("no_proxy", raising=False)
        g = zarrlite.open("s3://data/exp/h.zarr", endpoint_url=s3.virtual_endpoint_url,
                          addressing_style="virtual")
        assert list(g) == []
        np.testing.assert_array_equal(g["labels/nuclei"][...], truth["labels/nuclei"])
        assert [e.status for e in s3.log if "list-type=2" in e.path] == [403]


# -- the environment's HTTP proxy ---------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed: a connection there is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_proxy_carries_requests_and_no_proxy_bypasses_it(hierarchy, monkeypatch):
    root, truth = hierarchy
    url = f"http://data.localhost:{free_port()}/exp/h.zarr/raw"  # resolves nowhere here: only a proxy answers
    with S3Server() as proxy:
        proxy.add_bucket("data", root)
        monkeypatch.setenv("http_proxy", proxy.endpoint_url)
        monkeypatch.setenv("no_proxy", "example.org")
        np.testing.assert_array_equal(zarrlite.open(url)[...], truth["raw"])
        assert proxy.log and all(e.host == url.split("/")[2] for e in proxy.log)
        monkeypatch.setenv("no_proxy", "example.org,data.localhost")
        before = len(proxy.log)
        with pytest.raises(StoreError, match="not known|resolution|gaierror|getaddrinfo"):
            zarrlite.open(url, retries=0)
        assert len(proxy.log) == before  # bypassed: the proxy was not asked


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_servers_are_never_proxied(hierarchy, monkeypatch, host):
    """A proxy named for everything (no `no_proxy`) still leaves loopback servers alone, as browsers do."""
    root, truth = hierarchy
    with S3Server() as proxy, S3Server() as s3:
        proxy.add_bucket("data", root)
        s3.add_bucket("data", root)
        monkeypatch.setenv("http_proxy", proxy.endpoint_url)
        monkeypatch.delenv("no_proxy", raising=False)
        url = f"http://{host}:{s3.port}/data/exp/h.zarr/raw"
        np.testing.assert_array_equal(zarrlite.open(url)[...], truth["raw"])
        assert s3.log and not proxy.log


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost and data.localhost, with its key, in one PEM file."""
    where = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=data.localhost", "-addext", "subjectAltName=DNS:data.localhost,DNS:localhost",
                    "-keyout", str(where / "key.pem"), "-out", str(where / "cert.pem")],
                   check=True, capture_output=True)
    pem = where / "both.pem"
    pem.write_bytes((where / "cert.pem").read_bytes() + (where / "key.pem").read_bytes())
    return where / "cert.pem", pem


def test_https_virtual_host_through_a_connect_tunnel(hierarchy, certificate, monkeypatch):
    """AWS's own shape (HTTPS, the bucket in the host name) through `https_proxy`: a CONNECT tunnel, and
    TLS with the bucket's host itself inside it (its certificate checked against that name)."""
    root, truth = hierarchy
    cert, pem = certificate
    with S3Server(page_size=3, certificate=pem) as s3, TunnelProxy() as proxy:
        s3.add_bucket("data", root)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test's certificate (OpenSSL reads it)
        monkeypatch.setenv("https_proxy", proxy.url)
        monkeypatch.delenv("no_proxy", raising=False)
        g = zarrlite.open("s3://data/exp/h.zarr", endpoint_url=s3.virtual_endpoint_url,
                          addressing_style="virtual")
        check_hierarchy(g, truth)
        assert set(proxy.targets) == {f"data.localhost:{s3.port}"}
        assert {e.host for e in s3.log} == {f"data.localhost:{s3.port}"}
        assert any(e.path.startswith("/?list-type=2&") and "continuation-token=" in e.path for e in s3.log)


@pytest.mark.parametrize("proxy", ["http://user:secret@127.0.0.1:3128", "socks5://127.0.0.1:1080"])
def test_unsupported_proxies_are_refused(monkeypatch, proxy):
    monkeypatch.setenv("https_proxy", proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(StoreError, match="only an http:// proxy"):  # refused before any request
        zarrlite.open(f"https://data.localhost:{free_port()}/x.zarr", retries=0)


# -- Azure Blob Storage -------------------------------------------------------------------------------


def test_az_lists_a_container_without_consolidated_metadata(hierarchy):
    root, truth = hierarchy
    with AzureServer(page_size=2) as az:  # two names a page: NextMarker is followed
        az.add_bucket("cont", root)
        g = zarrlite.open("az://cont/exp/h.zarr", endpoint_url=az.endpoint_url)
        check_hierarchy(g, truth)
        lists = [e.path for e in az.log if "comp=list" in e.path]
        assert all(p.startswith("/devstoreaccount1/cont?restype=container&comp=list&prefix=exp%2Fh.zarr%2F")
                   for p in lists)
        assert any("&marker=2%21" in p for p in lists)  # the marker went back URL-quoted
        assert all(e.method == "GET" for e in az.log)


def test_az_ranges_are_definite(hierarchy):
    """Azure answers neither `bytes=-n` nor (anonymously) `bytes=a-`, sending the whole blob instead:
    a shard's index is read from its size (a one-byte range), not as a suffix."""
    root, truth = hierarchy
    with AzureServer() as az:
        az.add_bucket("cont", root)
        arr = zarrlite.open("az://cont/exp/h.zarr/sharded", endpoint_url=az.endpoint_url)
        for box in np.s_[1:3, 2:5], np.s_[9:15, 13:17]:  # some inner chunks of a shard: its index, then them
            np.testing.assert_array_equal(arr[box], truth["sharded"][box])
        ranged = [e for e in az.log if e.range]
        assert ranged and all(e.status == 206 for e in ranged), [(e.range, e.status) for e in ranged]


def test_az_container_that_does_not_list_still_opens(hierarchy):
    root, truth = hierarchy
    with AzureServer() as az:
        az.add_bucket("cont", root, listable=False)  # public access level "blob": 404 to a listing
        g = zarrlite.open("az://cont/exp/h.zarr", endpoint_url=az.endpoint_url)
        assert list(g) == []
        np.testing.assert_array_equal(g["a b"][...], truth["a b"])
        assert [e.status for e in az.log if "comp=list" in e.path] == [404]  # asked once


def test_az_missing_container_is_missing(hierarchy):
    root, _ = hierarchy
    with AzureServer() as az:
        az.add_bucket("cont", root)
        with pytest.raises(zarrlite.ZarrliteError):
            zarrlite.open("az://other/exp/h.zarr", endpoint_url=az.endpoint_url)
