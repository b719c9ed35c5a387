"""kerchunk references (stores/refs.py): HDF5 and NetCDF4 files written by h5py and netCDF4, their
references made by kerchunk (SingleHdf5ToZarr, MultiZarrToZarr, refs_to_dataframe), read from a local
path, a dict and over HTTP (a real Range server on 127.0.0.1), and compared with what h5py and netCDF4
read. Requests are counted in the server's log. Hostile reference files get clear errors."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import numpy as np
import pytest
import store_contract as contract
import zarrlite
from kerchunk.df import refs_to_dataframe
from refs_fixtures import H5_DATASETS, chunk_refs, kerchunk_refs, write_fletcher32, write_h5, write_netcdf
from writers import assert_same, make_data
from zarrlite.stores.ranges import Run, merge_ranges

@pytest.fixture(scope="module")
def h5(fixture_dir):
    """A folder with data.h5, its references refs.json, and the truth (refs_fixtures.write_h5)."""
    root = fixture_dir("refs-h5")
    refs, truth = write_h5(root)
    return root, refs, truth


@pytest.fixture(scope="module")
def netcdf(fixture_dir):
    """Three NetCDF4 files, their combined references (JSON and Parquet), the truth (write_netcdf)."""
    root = fixture_dir("refs-nc")
    refs, truth = write_netcdf(root)
    return root, refs, truth


def data_requests(server, name):
    return [entry for entry in server.stats.log if entry[0].endswith("/" + name)]


# ------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize("name", H5_DATASETS)
def test_hdf5_references_read_as_h5py(h5, name):
    root, _, truth = h5
    assert_same(zarrlite.open(str(root / "refs.json"))[name][...], truth[name])


def test_hdf5_partial_selection_and_attrs(h5):
    root, _, truth = h5
    arr = zarrlite.open(str(root / "refs.json"))["gz"]
    assert arr.attrs["units"] == "K"
    assert_same(arr[7:43:3, 5:66:4], truth["gz"][7:43:3, 5:66:4])


def test_dict_source_resolves_against_the_current_directory(h5, monkeypatch):
    root, refs, truth = h5
    monkeypatch.chdir(root)
    assert_same(zarrlite.open(refs)["grp/deep"][...], truth["grp/deep"])


def test_inline_values_plain_and_base64(fixture_dir, h5):
    """kerchunk inlines small chunks (as text when ASCII, else base64:)."""
    root, _, truth = h5
    refs = kerchunk_refs(root / "data.h5", "data.h5", inline_threshold=10_000)
    inline = [v for k, v in refs["refs"].items() if k.startswith("raw/") and isinstance(v, str)]
    assert any(v.startswith("base64:") for v in inline), "no base64 value in the fixture"
    (root / "inline.json").write_text(json.dumps(refs))
    g = zarrlite.open(str(root / "inline.json"))
    for name in ("raw", "contig", "grp/deep"):
        assert_same(g[name][...], truth[name])


def test_version_0_templates_and_gen(fixture_dir, http_server):
    """Hand-written sets over a raw file of 10 chunks of 5 int32: version 0, and version 1 with a
    template for the server and `gen` for the chunk keys with offsets by arithmetic."""
    root = fixture_dir("refs-gen")
    truth = make_data((50,), "<i4", seed=7)
    (root / "blob.bin").write_bytes(truth.tobytes())
    zarray = json.dumps({"zarr_format": 2, "shape": [50], "chunks": [5], "dtype": "<i4", "compressor": None,
                         "filters": None, "fill_value": 0, "order": "C"})
    v0 = {".zgroup": '{"zarr_format": 2}', "a/.zarray": zarray,
          **{f"a/{i}": ["blob.bin", 20 * i, 20] for i in range(10)}}
    (root / "v0.json").write_text(json.dumps(v0))
    assert_same(zarrlite.open(str(root / "v0.json"))["a"][...], truth)

    url = http_server.mount("refs-gen", root)
    zarray_b = zarray.replace('"chunks": [5]', '"chunks": [10]')
    v1 = {"version": 1, "templates": {"u": url, "name": "blob"},
          "refs": {".zgroup": '{"zarr_format": 2}', "a/.zarray": zarray, "b/.zarray": zarray_b},
          "gen": [{"key": "a/{{ i }}", "url": "{{u}}/{{name}}.bin", "offset": "{{ (i + 1) * 20 - 20 }}",
                   "length": "20", "dimensions": {"i": {"start": 0, "stop": 10}}},
                  {"key": "b/{{ i // 2 }}", "url": "{{u}}/blob.bin", "offset": "{{i*20}}", "length": 40,
                   "dimensions": {"i": [0, 2, 4, 6, 8]}}]}
    (root / "v1.json").write_text(json.dumps(v1))
    http_server.stats.reset()
    g = zarrlite.open(f"{url}/v1.json")
    assert_same(g["a"][...], truth)
    assert_same(g["b"][...], truth)
    assert len(data_requests(http_server, "blob.bin")) < 10  # ten adjacent chunks, merged


def test_netcdf_several_targets(netcdf):
    root, combined, truth = netcdf
    targets = {v[0] for v in chunk_refs(combined, "t2m").values()}
    assert targets == {"f0.nc", "f1.nc", "f2.nc"}
    g = zarrlite.open(str(root / "combined.json"))
    assert_same(g["t2m"][...], truth["t2m"])
    assert_same(g["time"][...], truth["time"])
    assert_same(g["t2m"][2:5, 3:30, 40], truth["t2m"][2:5, 3:30, 40])


def test_parquet_reference_set(netcdf):
    root, _, truth = netcdf
    g = zarrlite.open(str(root / "combined.parq"))
    assert_same(g["t2m"][...], truth["t2m"])
    assert_same(g["time"][...], truth["time"])


@pytest.mark.parametrize("name", H5_DATASETS)
def test_parquet_reference_set_of_hdf5(h5, name):
    root, refs, truth = h5
    if not (root / "refs.parq").exists():
        refs_to_dataframe(refs, str(root / "refs.parq"), record_size=7)
    assert_same(zarrlite.open(str(root / "refs.parq"))[name][...], truth[name])


def test_hostile_parquet_sets(fixture_dir, netcdf):
    root, refs, _ = netcdf
    bad = fixture_dir("refs-parq-bad")
    refs_to_dataframe(refs, str(bad / "set.parq"), record_size=5)
    meta = json.loads((bad / "set.parq" / ".zmetadata").read_text())
    (bad / "set.parq" / ".zmetadata").write_text(json.dumps({**meta, "record_size": 10**12}))
    with pytest.raises(zarrlite.MetadataError, match="record_size"):
        zarrlite.open(str(bad / "set.parq"))
    (bad / "set.parq" / ".zmetadata").write_text(json.dumps(meta))
    (bad / "set.parq" / "t2m" / "refs.0.parq").write_bytes(b"PAR1" + bytes(200) + b"PAR1")
    with pytest.raises(zarrlite.StoreError, match="refs.0.parq: not a readable Parquet file"):
        zarrlite.open(str(bad / "set.parq"))["t2m"][0]


def test_parquet_reference_set_over_http(netcdf, http_server):
    root, _, truth = netcdf
    url = http_server.mount("refs-nc-parq", root)
    g = zarrlite.open(f"{url}/combined.parq")
    assert_same(g["t2m"][1:4], truth["t2m"][1:4])


def test_fletcher32_shuffle_gzip_from_hdf5(fixture_dir):
    """Shuffle, deflate and the HDF5 checksum, as h5py wrote them (refs_fixtures.write_fletcher32)."""
    root = fixture_dir("refs-fletcher")
    truth, chunks = write_fletcher32(root)
    assert_same(zarrlite.open(str(root / "f.json"))["x"][...], truth)
    # a flipped byte inside the first chunk fails its checksum
    first = min(chunks, key=lambda c: c.byte_offset)
    data = bytearray((root / "f.h5").read_bytes())
    data[first.byte_offset + 3] ^= 0xFF
    (root / "f.h5").write_bytes(bytes(data))
    with pytest.raises(zarrlite.ZarrliteError, match="(?i)checksum|fletcher"):
        zarrlite.open(str(root / "f.json"))["x"][...]


# ------------------------------------------------------------------------------------- over HTTP


def test_http_reads_equal_and_adjacent_chunks_merge(h5, http_server):
    root, refs, truth = h5
    url = http_server.mount("refs-h5", root)
    http_server.stats.reset()
    g = zarrlite.open(f"{url}/refs.json")
    assert_same(g["gz"][...], truth["gz"])
    chunks = chunk_refs(refs, "gz")
    requests = data_requests(http_server, "data.h5")
    assert all(r[1] and r[1].startswith("bytes=") and r[2] == 206 for r in requests), requests
    assert 0 < len(requests) <= len(chunks) / 3, f"{len(requests)} requests for {len(chunks)} chunks"
    # every byte sent lies within the chunks' span
    lo = min(v[1] for v in chunks.values())
    hi = max(v[1] + v[2] for v in chunks.values())
    assert sum(r[3] for r in requests) <= hi - lo
    assert len(data_requests(http_server, "refs.json")) == 1


def test_http_far_apart_chunks_are_not_merged(h5, http_server):
    """Chunks of `big` are 128 KiB apart, more than the gap worth reading: rows 0 and 2 are two requests
    of one chunk each, nothing between them is fetched."""
    root, refs, truth = h5
    url = http_server.mount("refs-h5-far", root)
    g = zarrlite.open(f"{url}/refs.json")
    http_server.stats.reset()
    assert_same(g["big"][0:3:2], truth["big"][0:3:2])
    requests = data_requests(http_server, "data.h5")
    sizes = sorted(v[2] for k, v in chunk_refs(refs, "big").items() if k in ("big/0.0", "big/2.0"))
    assert sorted(r[3] for r in requests) == sizes


def test_http_netcdf_several_targets_relative_urls(netcdf, http_server):
    root, _, truth = netcdf
    url = http_server.mount("refs-nc", root)
    http_server.stats.reset()
    g = zarrlite.open(f"{url}/combined.json")
    assert_same(g["t2m"][...], truth["t2m"])
    for name in ("f0.nc", "f1.nc", "f2.nc"):
        assert data_requests(http_server, name), f"nothing read from {name}"


# ------------------------------------------------------------------------------------- errors


def test_missing_target_names_key_and_url(h5, http_server, fixture_dir):
    root, refs, _ = h5
    moved = fixture_dir("refs-missing")
    (moved / "refs.json").write_text(json.dumps(refs))  # data.h5 is not beside it
    url = http_server.mount("refs-missing", moved)
    with pytest.raises(zarrlite.ZarrliteError) as e:
        zarrlite.open(f"{url}/refs.json")["gz"][0:10, 0:14]
    assert "'gz/0.0'" in str(e.value) and f"{url}/data.h5" in str(e.value) and "missing" in str(e.value)


def test_short_target_names_key_and_url(fixture_dir, h5):
    root, refs, _ = h5
    short = fixture_dir("refs-short")
    (short / "data.h5").write_bytes((root / "data.h5").read_bytes()[:5000])
    (short / "refs.json").write_text(json.dumps(refs))
    with pytest.raises(zarrlite.ZarrliteError, match=r"'gz/\d\.\d'.*data\.h5.*holds only"):
        zarrlite.open(str(short / "refs.json"))["gz"][...]


def test_unknown_codec_names_the_codec(fixture_dir, h5):
    root, refs, _ = h5
    bad = json.loads(json.dumps(refs))
    meta = json.loads(bad["refs"]["gz/.zarray"])
    meta["filters"] = [{"id": "hdf5-lzf-not-a-codec"}]
    bad["refs"]["gz/.zarray"] = json.dumps(meta)
    with pytest.raises(zarrlite.CodecError, match="array 'gz'.*hdf5-lzf-not-a-codec"):
        zarrlite.open(bad)["gz"]


def test_remote_reference_file_cannot_read_local_files(fixture_dir, http_server):
    root = fixture_dir("refs-escape")
    secret = fixture_dir("refs-secret") / "secret.bin"
    secret.write_bytes(b"secret bytes")
    refs = {"version": 1, "refs": {".zgroup": '{"zarr_format": 2}',
                                   "a/.zarray": json.dumps({"zarr_format": 2, "shape": [12], "chunks": [12],
                                                            "dtype": "|u1", "compressor": None, "filters": None,
                                                            "fill_value": 0, "order": "C"}),
                                   "a/0": [f"file://{secret}", 0, 12]}}
    (root / "refs.json").write_text(json.dumps(refs))
    url = http_server.mount("refs-escape", root)
    with pytest.raises(zarrlite.KeyRejectedError, match="local file"):
        zarrlite.open(f"{url}/refs.json")["a"][...]


def test_json_url_that_is_not_references(fixture_dir, http_server):
    root = fixture_dir("refs-not")
    (root / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group"}))
    (root / "other.json").write_text(json.dumps({"hello": 1}))
    url = http_server.mount("refs-not", root)
    with pytest.raises(zarrlite.StoreError, match="zarr.json.*folder"):
        zarrlite.open(f"{url}/zarr.json")
    with pytest.raises(zarrlite.StoreError, match="not a kerchunk reference set"):
        zarrlite.open(f"{url}/other.json")


ZARRAY = json.dumps({"zarr_format": 2, "shape": [10], "chunks": [5], "dtype": "<i4", "compressor": None,
                     "filters": None, "fill_value": 0, "order": "C"})


def v1(refs=None, **extra):
    return {"version": 1, "refs": {".zgroup": '{"zarr_format": 2}', "a/.zarray": ZARRAY, **(refs or {})},
            **extra}


def gen(stop, **fields):
    return {"key": "a/{{i}}", "url": "x.bin", "dimensions": {"i": {"stop": stop}}, **fields}


HOSTILE = {
    "huge gen": (v1(gen=[gen(10**12)]), "more than 1,000,000 references"),
    "gen past sys.maxsize": (v1(gen=[gen(2**70)]), "more than"),
    "gen product": (v1(gen=[{**gen(2000), "dimensions": {"i": {"stop": 2000}, "j": {"stop": 2000}}}]), "more than"),
    "absurd offset": (v1({"a/0": ["x.bin", 2**60, 20]}), "offset"),
    "negative length": (v1({"a/0": ["x.bin", 0, -1]}), "length"),
    "absurd length": (v1({"a/0": ["x.bin", 0, 2**40]}), "length"),
    "length not a number": (v1({"a/0": ["x.bin", 0, "20"]}), "length"),
    "key escaping": (v1({"../a/0": ["x.bin", 0, 20]}), r"\.\."),
    "absolute key": (v1({"/etc/a/0": ["x.bin", 0, 20]}), "absolute"),
    "template of a template": (v1(templates={"a": "{{b}}", "b": "x"}), "refers to another template"),
    "unknown template": (v1({"a/0": ["{{nowhere}}/x.bin", 0, 20]}), "nowhere"),
    "code in a template": (v1(gen=[gen(2, url="{{ __import__('os').system('true') }}")]), "integer arithmetic"),
    "power in a template": (v1(gen=[gen(2, offset="{{ 9 ** 9 ** 9 }}", length="1")]), "integer arithmetic"),
    "jinja filter": (v1(gen=[gen(2, url="{{ i | string }}.bin")]), "integer arithmetic"),
    "big arithmetic": (v1(gen=[gen(2, offset="{{ 99999999999 * 99999999999 * 99999999999 }}", length="1")]),
                       "out of range"),
    "offset without length": (v1(gen=[gen(2, offset="0")]), "go together"),
    "bad base64": (v1({"a/0": "base64:!!!"}), "base64"),
    "version 2": ({"version": 2, "refs": {}}, "version 2"),
    "a value of another kind": (v1({"a/0": 12}), "expected a string"),
    "long key": (v1({"a/" + "0" * 5000: "x"}), "characters"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_reference_sets(name):
    doc, message = HOSTILE[name]
    started = time.monotonic()
    with pytest.raises(zarrlite.ZarrliteError, match=message):
        zarrlite.open(doc)["a"][...]
    assert time.monotonic() - started < 5, "bounded before any work"


def test_hostile_reference_file_of_a_zip_name_and_of_binary(fixture_dir):
    root = fixture_dir("refs-odd")
    (root / "blob.bin").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(zarrlite.StoreError, match="not a .zip"):
        zarrlite.open(str(root / "blob.bin"))
    (root / "broken.json").write_text('{"version": 1, "refs": {')
    with pytest.raises(zarrlite.StoreError, match="not a JSON reference file"):
        zarrlite.open(str(root / "broken.json"))


# ------------------------------------------------------------------------------------- merging, pure


@pytest.mark.parametrize("ranges, gap, size, runs", [
    ([], 10, 100, []),
    ([(0, 10), (10, 10), (20, 5)], 0, 100, [Run(0, 25, (0, 1, 2))]),
    ([(20, 5), (0, 10), (10, 10)], 0, 100, [Run(0, 25, (1, 2, 0))]),  # any order in, file order out
    ([(0, 10), (15, 10)], 4, 100, [Run(0, 10, (0,)), Run(15, 25, (1,))]),  # gap 5 > 4
    ([(0, 10), (15, 10)], 5, 100, [Run(0, 25, (0, 1))]),
    ([(0, 10), (5, 10), (0, 10)], 0, 100, [Run(0, 15, (0, 2, 1))]),  # overlapping and repeated
    ([(0, 40), (40, 40), (80, 40)], 0, 100, [Run(0, 80, (0, 1)), Run(80, 120, (2,))]),  # size bound
    ([(0, 500)], 0, 100, [Run(0, 500, (0,))]),  # larger than the bound alone
])
def test_merge_ranges(ranges, gap, size, runs):
    assert merge_ranges(ranges, gap, size) == runs


def test_merge_ranges_refuses_negative():
    with pytest.raises(ValueError):
        merge_ranges([(0, -1)])


def test_base64_and_text_values():
    truth = np.arange(10, dtype="<i4")
    doc = v1({"a/0": "base64:" + base64.b64encode(truth[:5].tobytes()).decode(),
              "a/1": truth[5:].tobytes().decode("ascii")})  # kerchunk writes ASCII values as text
    assert_same(zarrlite.open(doc)["a"][...], truth)


# ------------------------------------------------------------------------------------- the store contract


@pytest.fixture(scope="module")
def contract_refs(fixture_dir, http_server):
    """The contract's content as references: inline text, base64, a range inside a file (between other
    bytes) and a whole file; the files beside the reference file, or on the HTTP server."""
    root = fixture_dir("refs-contract")
    (root / "pad.bin").write_bytes(b"x" * 100 + contract.CONTENT["a/b/c"] + b"y" * 50)
    (root / "e.bin").write_bytes(contract.CONTENT["a/e"])
    refs = {"version": 1, "refs": {
        "zarr.json": contract.CONTENT["zarr.json"].decode(),
        "a/b/c": ["pad.bin", 100, len(contract.CONTENT["a/b/c"])],
        "a/d": "",
        "a/e": ["e.bin"],
        "with space/x": "base64:" + base64.b64encode(contract.CONTENT["with space/x"]).decode()}}
    (root / "refs.json").write_text(json.dumps(refs))
    return {"local": str(root / "refs.json"), "http": http_server.mount("refs-contract", root) + "/refs.json"}


@pytest.mark.parametrize("check", [c.__name__ for c in contract.CHECKS])
@pytest.mark.parametrize("where", ["local", "http"])
def test_store_contract(contract_refs, where, check):
    from zarrlite.stores.refs import reference_store_for

    store = reference_store_for(contract_refs[where], retries=0)
    assert asyncio.run(contract.run_checks(store, only={check})) == [check]


def test_a_reference_file_is_read_only_up_to_its_bound(h5, http_server, monkeypatch):
    """A server that would send more than the largest reference file is cut off: the file is asked for
    by range, and the answer is refused, not parsed."""
    import zarrlite.stores.refs as refs_module

    root, _, _ = h5
    url = http_server.mount("refs-bound", root)
    monkeypatch.setattr(refs_module, "MAX_DOCUMENT", 1000)
    http_server.stats.reset()
    with pytest.raises(zarrlite.StoreError, match="larger than"):
        zarrlite.open(f"{url}/refs.json")
    assert [r[1] for r in data_requests(http_server, "refs.json")] == ["bytes=0-1000"]
    assert sum(r[3] for r in data_requests(http_server, "refs.json")) == 1001


def test_a_whole_file_reference_is_bounded(fixture_dir, monkeypatch):
    import zarrlite.stores.refs as refs_module

    root = fixture_dir("refs-whole")
    (root / "big.bin").write_bytes(bytes(3000))
    doc = v1({"a/0": [str(root / "big.bin")]})
    monkeypatch.setattr(refs_module, "MAX_VALUE", 100)
    with pytest.raises(zarrlite.StoreError, match=r"'a/0'.*big\.bin.*larger than"):
        zarrlite.open(doc)["a"][0:5]


def test_references_and_targets_in_an_s3_bucket(h5, fixture_dir):
    """kerchunk files usually name s3:// targets: the reference file and the HDF5 file in a bucket of a
    loopback S3-compatible server (tests/s3server.py), read through the cloud stores with endpoint_url."""
    from s3server import S3Server

    root, refs, truth = h5
    bucket = fixture_dir("refs-s3")
    (bucket / "nc").mkdir()
    (bucket / "nc" / "data.h5").write_bytes((root / "data.h5").read_bytes())
    absolute = json.loads(json.dumps(refs))
    for v in absolute["refs"].values():
        if isinstance(v, list):
            v[0] = "s3://data/nc/data.h5"
    (bucket / "nc" / "refs.json").write_text(json.dumps(absolute))
    with S3Server() as s3:
        s3.add_bucket("data", bucket)
        g = zarrlite.open("s3://data/nc/refs.json", endpoint_url=s3.endpoint_url)
        assert_same(g["gz"][...], truth["gz"])
        chunk_reads = [e for e in s3.log if e.path.endswith("/data.h5")]
        assert 0 < len(chunk_reads) <= len(chunk_refs(refs, "gz")) / 3
        assert all(e.method == "GET" and e.range for e in chunk_reads)


def test_headers_go_only_to_the_reference_files_origin(h5, monkeypatch):
    """A reference file names any URL: the user's headers (credentials) for its server are not sent to
    the others."""
    import httpserver

    root, refs, truth = h5
    seen = []
    serve = httpserver._Handler.do_GET

    def recording(self, head=False):
        seen.append((self.server.server_address[1], self.path, self.headers.get("Authorization")))
        return serve(self, head)

    monkeypatch.setattr(httpserver._Handler, "do_GET", recording)
    home, other = httpserver.RangeHTTPServer(), httpserver.RangeHTTPServer()
    for server in (home, other):
        server.start()
    try:
        other_url = other.mount("d", root)
        moved = json.loads(json.dumps(refs))
        for key, v in moved["refs"].items():
            if isinstance(v, list) and key.startswith("gz/"):
                v[0] = f"{other_url}/data.h5"  # gz on the other server, the rest beside the file
        folder = root / "two-origins"
        folder.mkdir(exist_ok=True)
        (folder / "refs.json").write_text(json.dumps(moved))
        (folder / "data.h5").write_bytes((root / "data.h5").read_bytes())
        g = zarrlite.open(home.mount("d", folder) + "/refs.json", headers={"Authorization": "Bearer secret"})
        assert_same(g["gz"][...], truth["gz"])
        assert_same(g["raw"][...], truth["raw"])
    finally:
        home.stop()
        other.stop()
    home_port, other_port = home._httpd.server_address[1], other._httpd.server_address[1]
    assert {a for p, _, a in seen if p == home_port} == {"Bearer secret"}
    assert {a for p, _, a in seen if p == other_port} == {None}
    assert any(p == other_port for p, _, _ in seen)


def test_a_signed_reference_url_keeps_its_query(h5, http_server):
    """A signed URL's query belongs to the reference file; relative targets resolve without it."""
    root, _, truth = h5
    url = http_server.mount("refs-signed", root)
    http_server.stats.reset()
    g = zarrlite.open(f"{url}/refs.json?X-Signature=abc%2F1")
    assert_same(g["raw"][...], truth["raw"])
    paths = [entry[0] for entry in http_server.stats.log]
    assert "/refs-signed/refs.json?X-Signature=abc%2F1" in paths, paths
    assert any(p == "/refs-signed/data.h5" for p in paths), paths
