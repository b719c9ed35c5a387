"""Buckets in the browser: the JS API and the viewer open a bucket of a loopback S3-compatible server
(tests/s3server.py, another origin than the page) through `endpoint_url`, path style and virtual-host
style (bucket.localhost, which Chromium resolves to loopback by itself), an Azure container
(tests/azureserver.py) and a GCS bucket (the JSON API, on the S3 server), and list a group that has no
consolidated metadata through each service's listing, page by page. Data written by zarr-python 3."""

from __future__ import annotations

import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from azureserver import AzureServer  # noqa: E402
from bucket_data import bucket_hierarchy  # noqa: E402
from s3server import S3Server  # noqa: E402

NAMES = ["a b", "empty", "labels", "raw", "sharded"]
PATHS = sorted(NAMES + ["labels/cells", "labels/nuclei"])


@pytest.fixture(scope="module")
def hierarchy(tmp_path_factory):
    root = tmp_path_factory.mktemp("bucket")
    return root, bucket_hierarchy(root, shape=(24, 40), chunks=(8, 16), seed=5)


@pytest.fixture(scope="module")
def bucket(hierarchy):
    root, truth = hierarchy
    with S3Server(page_size=2) as s3:  # two names a page: continuation tokens are followed
        s3.add_bucket("data", root)
        yield s3, truth


@pytest.fixture(scope="module")
def container(hierarchy):
    """The same hierarchy in an Azure container 'cont', two names a listing page."""
    root, truth = hierarchy
    with AzureServer(page_size=2) as az:
        az.add_bucket("cont", root)
        yield az, truth


OPEN_JS = """async ({url, options, path, sel}) => {
  const zl = await window.zarrlite;
  const tree = await zl.open(url, options);
  const names = node => (node.children || []).flatMap(c => [c.path, ...names(c)]);
  const r = await zl.read(path, sel);
  return { kinds: tree.kind, paths: names(tree), shape: r.shape, data: Array.from(r.data) };
}"""


def check_read(got, want):
    assert got["shape"] == list(want.shape)
    np.testing.assert_array_equal(np.array(got["data"], dtype=want.dtype).reshape(want.shape), want)


def test_s3_url_with_endpoint_lists_and_reads(shared_page, bucket):
    s3, truth = bucket
    s3.clear_log()
    got = shared_page.evaluate(OPEN_JS, {"url": "s3://data/exp/h.zarr", "options": {"endpoint_url": s3.endpoint_url},
                                         "path": "labels/cells", "sel": "3:21,5:38"})
    assert got["kinds"] == "group"
    assert sorted(got["paths"]) == PATHS
    check_read(got, truth["labels/cells"][3:21, 5:38])
    listings = [e for e in s3.log if "list-type=2" in e.path]
    assert any("continuation-token=" in e.path for e in listings)
    assert not any(e.method == "HEAD" for e in s3.log)


def test_viewer_tree_lists_a_bucket(page, server, bucket):
    s3, _ = bucket
    page.set_default_timeout(90_000)
    page.goto(f"{server.url}/viewer/?source=s3://data/exp/h.zarr&endpoint_url={s3.endpoint_url}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector('#tree button.node[data-path="labels/nuclei"]')
    paths = page.eval_on_selector_all("#tree button.node", "els => els.map(e => e.dataset.path)")
    assert set(PATHS) <= set(paths)
    assert page.locator("#error").is_hidden()


def test_s3_virtual_host_lists_and_reads(shared_page, bucket):
    s3, truth = bucket
    s3.clear_log()
    options = {"endpoint_url": s3.virtual_endpoint_url, "addressing_style": "virtual"}
    got = shared_page.evaluate(OPEN_JS, {"url": "s3://data/exp/h.zarr", "options": options,
                                         "path": "sharded", "sel": "2:15,3:20"})
    assert sorted(got["paths"]) == PATHS
    check_read(got, truth["sharded"][2:15, 3:20])
    log = [e for e in s3.log if e.method == "GET"]
    assert log and {e.host for e in log} == {f"data.localhost:{s3.port}"}  # the bucket in the host name
    assert not any(e.path.startswith("/data") for e in log)  # and never in the path
    assert any(e.path.startswith("/?list-type=2&") and "continuation-token=" in e.path for e in log)


def test_gs_lists_through_the_json_api(shared_page, bucket):
    s3, truth = bucket
    s3.clear_log()
    got = shared_page.evaluate(OPEN_JS, {"url": "gs://data/exp/h.zarr", "options": {"endpoint_url": s3.endpoint_url},
                                         "path": "a b", "sel": "5:17,:"})
    assert sorted(got["paths"]) == PATHS
    check_read(got, truth["a b"][5:17, :])
    pages = [e.path for e in s3.log if e.path.startswith("/storage/v1/b/data/o?")]
    assert any("pageToken=" in p for p in pages)  # nextPageToken followed
    assert all(e.path.startswith(("/data/", "/storage/v1/b/data/o?")) for e in s3.log if e.method == "GET")


def test_az_lists_and_reads_by_definite_ranges(shared_page, container):
    az, truth = container
    az.clear_log()
    got = shared_page.evaluate(OPEN_JS, {"url": "az://cont/exp/h.zarr", "options": {"endpoint_url": az.endpoint_url},
                                         "path": "sharded", "sel": "1:3,2:5"})
    assert sorted(got["paths"]) == PATHS
    check_read(got, truth["sharded"][1:3, 2:5])
    lists = [e.path for e in az.log if "comp=list" in e.path]
    assert lists and any("&marker=2%21" in p for p in lists)  # NextMarker followed, URL-quoted
    ranged = [e for e in az.log if e.range]
    assert ranged and all(e.status == 206 for e in ranged), [(e.range, e.status) for e in ranged]


def test_viewer_tree_lists_an_azure_container(page, server, container):
    az, _ = container
    page.set_default_timeout(90_000)
    query = urllib.parse.urlencode({"source": "az://cont/exp/h.zarr", "endpoint_url": az.endpoint_url})
    page.goto(f"{server.url}/viewer/?{query}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector('#tree button.node[data-path="labels/cells"]')
    paths = page.eval_on_selector_all("#tree button.node", "els => els.map(e => e.dataset.path)")
    assert set(PATHS) <= set(paths)
    assert page.locator("#error").is_hidden()
    assert any("comp=list" in e.path for e in az.log)
