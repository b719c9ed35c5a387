"""s3:// in the browser: the JS API and the viewer open a bucket of a loopback S3-compatible server
(tests/s3server.py, another origin than the page) through `endpoint_url`, and list a group that has no
consolidated metadata through ListObjectsV2. Data written by zarr-python 3."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from s3server import S3Server  # noqa: E402

NAMES = ["a b", "empty", "labels", "raw"]


@pytest.fixture(scope="module")
def bucket(tmp_path_factory):
    import zarr

    root = tmp_path_factory.mktemp("bucket")
    g = zarr.open_group(str(root / "exp" / "h.zarr"), mode="w", zarr_format=3)
    rng = np.random.default_rng(5)
    truth = {}
    for name in ("raw", "labels/cells", "labels/nuclei", "a b"):
        data = rng.integers(0, 60000, (24, 40), dtype="uint16")
        g.create_array(name, shape=data.shape, dtype=data.dtype, chunks=(8, 16))[...] = data
        truth[name] = data
    g.create_group("empty")
    with S3Server(page_size=2) as s3:  # two names a page: continuation tokens are followed
        s3.add_bucket("data", root)
        yield s3, truth


OPEN_JS = """async ({url, endpoint, path, sel}) => {
  const zl = await window.zarrlite;
  const tree = await zl.open(url, { endpoint_url: endpoint });
  const names = node => (node.children || []).flatMap(c => [c.path, ...names(c)]);
  const r = await zl.read(path, sel);
  return { kinds: tree.kind, paths: names(tree), shape: r.shape, data: Array.from(r.data) };
}"""


def test_s3_url_with_endpoint_lists_and_reads(shared_page, bucket):
    s3, truth = bucket
    s3.clear_log()
    got = shared_page.evaluate(OPEN_JS, {"url": "s3://data/exp/h.zarr", "endpoint": s3.endpoint_url,
                                         "path": "labels/cells", "sel": "3:21,5:38"})
    assert got["kinds"] == "group"
    assert sorted(got["paths"]) == sorted(NAMES + ["labels/cells", "labels/nuclei"])
    want = truth["labels/cells"][3:21, 5:38]
    assert got["shape"] == list(want.shape)
    np.testing.assert_array_equal(np.array(got["data"], dtype=want.dtype).reshape(want.shape), want)
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
    assert set(NAMES + ["labels/cells", "labels/nuclei"]) <= set(paths)
    assert page.locator("#error").is_hidden()
