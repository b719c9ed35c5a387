"""HTTP through fetch: partial shard reads fetch only what they need; CORS and 404 say what is wrong;
the main thread keeps running while the worker reads."""

from __future__ import annotations

import numpy as np
import pytest
from cases import SUMMARY_JS, expected
from writers import make_data

import zarr

OPEN_READ_JS = f"""async ({{url, path, selection, reset}}) => {{
  const zl = await window.zarrlite;
  await zl.open(url);
  if (reset) await fetch(reset);
  return ({SUMMARY_JS})(await zl.read(path, selection));
}}"""


@pytest.fixture(scope="module")
def big_shard(server):
    """One 2 MiB shard of 256 64x64 uint16 chunks (random: incompressible), no compressor."""
    root = server.data / "big-shard.zarr"
    data = make_data((1, 1024, 1024), "<u2", seed=5)
    a = zarr.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(1, 64, 64),
                          shards=(1, 1024, 1024), compressors=None, overwrite=True)
    a[...] = data
    return data


def test_partial_shard_read_fetches_only_what_it_needs(shared_page, server, big_shard):
    shard = server.data / "big-shard.zarr" / "c" / "0" / "0" / "0"
    shard_size = shard.stat().st_size
    server.counters.reset()
    got = shared_page.evaluate(OPEN_READ_JS, {"url": f"{server.url}/data/big-shard.zarr", "path": "",
                                              "selection": "0,100:160,200:260", "reset": None})
    assert got == expected(big_shard, (0, slice(100, 160), slice(200, 260)))
    sent = server.counters.sent("/data/big-shard.zarr/c/")
    # the index (16 KiB + 4) by a suffix range, then 4 chunks of 8 KiB (possibly coalesced)
    assert 0 < sent < shard_size / 20, f"{sent} of {shard_size} shard bytes fetched"
    ranges = [r for p, r, s in server.counters.requests if p.startswith("/data/big-shard.zarr/c/")]
    assert ranges and all(r and r.startswith("bytes=") for r in ranges), ranges


def test_cors_failure_names_the_headers(shared_page, nocors_server, big_shard):
    err = shared_page.evaluate("""async url => {
      const zl = await window.zarrlite;
      try { await zl.open(url); return null; } catch (e) { return e.name + ": " + e.message; }
    }""", f"{nocors_server.url}/data/big-shard.zarr")
    assert err is not None and "Access-Control-Allow-Origin" in err, err


def test_missing_url_is_a_clear_error(shared_page, server):
    err = shared_page.evaluate("""async url => {
      const zl = await window.zarrlite;
      try { await zl.open(url); return null; } catch (e) { return e.name + ": " + e.message; }
    }""", f"{server.url}/data/does-not-exist.zarr")
    assert err is not None and "does-not-exist" in err, err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def large(server):
    root = server.data / "large.zarr"
    data = make_data((2048, 2048), "<u2", seed=9)
    a = zarr.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(256, 256), overwrite=True)
    a[...] = data
    return data


def test_main_thread_stays_responsive_during_a_large_read(shared_page, server, large):
    result = shared_page.evaluate("""async url => {
      const zl = await window.zarrlite;
      await zl.open(url);
      let ticks = 0, last = performance.now(), worst = 0;
      const timer = setInterval(() => {
        const now = performance.now(); worst = Math.max(worst, now - last); last = now; ticks++;
      }, 5);
      const t0 = performance.now();
      const r = await zl.read("", "...");
      const ms = performance.now() - t0;
      clearInterval(timer);
      return {ms, ticks, worst, n: r.data.length};
    }""", f"{server.url}/data/large.zarr")
    assert result["n"] == 2048 * 2048
    assert result["ticks"] >= result["ms"] / 50, result     # the timer kept firing through the read
    assert result["worst"] < 150, result                    # no long freeze of the main thread
