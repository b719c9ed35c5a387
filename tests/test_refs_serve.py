"""`zarrlite view refs.json` (serve.py, serve_refs.py): the server gives the page a reference set whose
local targets are URLs it serves with Range, and serves nothing else of this machine. Read back through
real HTTP on 127.0.0.1 by zarrlite's own HTTP store (what the page's fetch store does in the browser)
and by plain urllib; values compared with what h5py / netCDF4 read."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import h5py
import pytest
import zarrlite
from refs_fixtures import H5_DATASETS, kerchunk_refs, write_h5, write_netcdf
from writers import assert_same, make_data
from zarrlite.serve import source_server
from zarrlite.serve_refs import RefusedTargetsError


@pytest.fixture
def serve(tmp_path):
    """serve(source, allow=()) -> the base URL and the page's source URL; every server is shut down."""
    servers = []
    site = tmp_path / "site"
    site.mkdir()

    def start(source, allow=()):
        server, query = source_server(str(site), str(source), 0, allow)
        servers.append(server)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        return base, base + urllib.parse.unquote(query.removeprefix("?source="))

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url, range_header=None):
    request = urllib.request.Request(url, headers={"Range": range_header} if range_header else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), b""


@pytest.fixture(scope="module")
def h5(fixture_dir):
    root = fixture_dir("serve-h5")
    refs, truth = write_h5(root)
    return root, refs, truth


@pytest.mark.parametrize("name", H5_DATASETS)
def test_relative_targets_are_served_and_read_as_h5py(serve, h5, name):
    root, _, truth = h5
    _, source = serve(root / "refs.json")
    assert source.endswith("/refs/refs.json")
    assert_same(zarrlite.open(source)[name][...], truth[name])


def test_targets_answer_ranges_and_the_users_file_is_untouched(serve, h5):
    root, refs, _ = h5
    before = (root / "refs.json").read_bytes()
    base, source = serve(root / "refs.json")
    status, _, body = get(source)
    served = json.loads(body)
    key, (url, offset, length) = next((k, v) for k, v in served["refs"].items() if k.startswith("gz/") and
                                      isinstance(v, list))
    assert url == "/refs/0/data.h5" and [url, offset, length] != refs["refs"][key]
    assert [offset, length] == refs["refs"][key][1:]
    status, headers, body = get(base + url, f"bytes={offset}-{offset + length - 1}")
    whole = (root / "data.h5").read_bytes()
    assert status == 206 and body == whole[offset:offset + length]
    assert headers["Content-Range"] == f"bytes {offset}-{offset + length - 1}/{len(whole)}"
    assert get(base + url, "bytes=-10")[2] == whole[-10:]
    assert get(base + url, f"bytes={len(whole)}-")[0] == 416
    assert (root / "refs.json").read_bytes() == before


def test_only_the_named_files_are_served(serve, h5):
    """No listing, no other file of the folder, no way out of it."""
    root, _, _ = h5
    (root / "secret.txt").write_text("not named by the references")
    base, _ = serve(root / "refs.json")
    for path in ("/refs/0/secret.txt", "/refs/0/refs.json", "/refs/0/", "/refs/0/../0/secret.txt",
                 "/refs/0/%2e%2e/%2e%2e/etc/passwd", "/refs/1/data.h5", "/refs/"):
        status, _, body = get(base + path)
        assert status == 404 and b"not named" not in body, path


@pytest.mark.parametrize("style", ["absolute path", "file URL"])
def test_absolute_targets_inside_the_folder_are_served(serve, fixture_dir, style):
    root = fixture_dir("serve-abs")
    path = root / "sub dir" / "scan.h5"
    path.parent.mkdir()
    truth = make_data((40, 30), "<i4", seed=21)
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=truth, chunks=(16, 16), compression="gzip", shuffle=True)
    (root / "refs.json").write_text(json.dumps(kerchunk_refs(path, str(path) if style == "absolute path"
                                                             else path.as_uri())))
    _, source = serve(root / "refs.json")
    assert_same(zarrlite.open(source)["x"][...], truth)


def test_targets_outside_the_folder_are_refused_then_allowed(serve, fixture_dir):
    """NetCDF4 files in one folder, the reference file elsewhere naming them by absolute path: refused,
    naming them; with --allow of their folder, served."""
    data = fixture_dir("serve-nc-data")
    refs, truth = write_netcdf(data, parquet=False)
    for v in refs["refs"].values():
        if isinstance(v, list):
            v[0] = str(data / v[0])
    elsewhere = fixture_dir("serve-nc-refs")
    (elsewhere / "combined.json").write_text(json.dumps(refs))
    with pytest.raises(RefusedTargetsError) as e:
        serve(elsewhere / "combined.json")
    assert all(str(data / f"f{i}.nc") in str(e.value) for i in range(3)) and "--allow" in str(e.value)
    _, source = serve(elsewhere / "combined.json", allow=[str(data)])
    assert_same(zarrlite.open(source)["t2m"][...], truth["t2m"])


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "link/passwd"])
def test_hostile_targets_are_refused(serve, fixture_dir, target):
    root = fixture_dir("serve-hostile")
    (root / "link").symlink_to("/etc")  # a link out of the folder is outside it
    zarray = {"zarr_format": 2, "shape": [8], "chunks": [8], "dtype": "|u1", "compressor": None,
              "filters": None, "fill_value": 0, "order": "C"}
    refs = {"version": 1, "refs": {".zgroup": '{"zarr_format": 2}', "a/.zarray": json.dumps(zarray),
                                   "a/0": [target, 0, 8]}}
    (root / "refs.json").write_text(json.dumps(refs))
    with pytest.raises(RefusedTargetsError, match=re.escape(target.removeprefix("file://")) if
                       target.startswith(("/", "file")) else "passwd"):
        serve(root / "refs.json")


def test_remote_targets_stay_as_written(serve, h5, http_server, fixture_dir):
    root, refs, truth = h5
    url = http_server.mount("serve-remote", root)
    moved = json.loads(json.dumps(refs))
    for v in moved["refs"].values():
        if isinstance(v, list):
            v[0] = f"{url}/data.h5"
    here = fixture_dir("serve-remote-refs")
    (here / "refs.json").write_text(json.dumps(moved))
    _, source = serve(here / "refs.json")
    served = json.loads(get(source)[2])
    assert {v[0] for v in served["refs"].values() if isinstance(v, list)} == {f"{url}/data.h5"}
    assert_same(zarrlite.open(source)["gz"][...], truth["gz"])


def test_the_cli_serves_references_and_refuses_outside_targets(h5, fixture_dir, tmp_path):
    root, refs, truth = h5
    env = {**os.environ, "ZARRLITE_DIST": str(tmp_path)}
    cmd = [sys.executable, "-m", "zarrlite.cli", "view", "--no-browser"]
    proc = subprocess.Popen([*cmd, str(root / "refs.json")], stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        page = re.search(r"(http://127\.0\.0\.1:\d+)/\S*\?source=(\S+)", line)
        assert page, line
        source = page.group(1) + urllib.parse.unquote(page.group(2))
        assert_same(zarrlite.open(source)["gz"][...], truth["gz"])
    finally:
        proc.terminate()
        proc.wait(10)
    elsewhere = fixture_dir("serve-cli-refused")
    moved = json.loads(json.dumps(refs))
    for v in moved["refs"].values():
        if isinstance(v, list):
            v[0] = str(root / "data.h5")
    (elsewhere / "refs.json").write_text(json.dumps(moved))
    done = subprocess.run([*cmd, str(elsewhere / "refs.json")], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1 and str(root / "data.h5") in done.stderr and "--allow" in done.stderr, done.stderr

