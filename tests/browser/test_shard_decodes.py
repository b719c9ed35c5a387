"""Inner chunks of one shard decode a few at once in the browser (its decoders are asynchronous: chunk
workers on other cores), not one after another: a 2048² plane that is one shard of 64 inner chunks had
its decodes strictly in turn, each waiting for the previous one's message round trip. Observed in the
zarrlite worker by counting the decodes in flight (the WASM codec's `decode_async`, wrapped for the
test); values against numpy, data written by zarr-python 3."""

from __future__ import annotations

import pytest
from cases import SUMMARY_JS, expected
from writers import make_data, zarr_python

SHAPE = (2, 256, 256)

# Wrap WasmCodec.decode_async to count the decodes in flight (the most at once); undone by UNWATCH.
WATCH = """
import zarrlite.codecs.browser as wasm_codecs
watch = {"now": 0, "most": 0, "calls": 0}
plain_decode = wasm_codecs.WasmCodec.decode_async
async def counted(self, data, limit):
    watch["now"] += 1
    watch["calls"] += 1
    watch["most"] = max(watch["most"], watch["now"])
    try:
        return await plain_decode(self, data, limit)
    finally:
        watch["now"] -= 1
wasm_codecs.WasmCodec.decode_async = counted
wasm_codecs.test_watch = (watch, plain_decode)
"""
UNWATCH = """
import zarrlite.codecs.browser as wasm_codecs
wasm_codecs.WasmCodec.decode_async = wasm_codecs.test_watch[1]
del wasm_codecs.test_watch
"""
WATCHED = "import json, zarrlite.codecs.browser as wasm_codecs; json.dumps(wasm_codecs.test_watch[0])"

READ_JS = f"""async ({{url, selection}}) => {{
  const zl = await window.zarrlite;
  await zl.open(url);
  return ({SUMMARY_JS})(await zl.read("", selection));
}}"""


@pytest.fixture(scope="module")
def sharded(server):
    from zarr.codecs import ZstdCodec

    data = make_data(SHAPE, "<u2", seed=11)
    # a shard per plane, 16 inner chunks of 64 x 64 each
    return zarr_python(server.data / "shard-decodes", data, zarr_format=3, chunks=(1, 64, 64),
                       shards=(1, 256, 256), compressors=[ZstdCodec(level=3)])


def _python(worker, code):
    return worker.evaluate("code => self.pyodide.runPython(code)", code)


@pytest.mark.parametrize("selection", [(0,), (1, slice(10, 200), slice(30, 250))], ids=["plane", "box"])
def test_inner_chunks_of_one_shard_decode_concurrently(shared_page, server, sharded, selection):
    import json

    text = ",".join(str(s) if isinstance(s, int) else f"{s.start}:{s.stop}" for s in selection)
    worker = next(w for w in shared_page.workers if w.url.endswith("/worker.js"))
    _python(worker, WATCH)
    try:
        got = shared_page.evaluate(READ_JS, {"url": f"{server.url}/data/shard-decodes", "selection": text})
        watch = json.loads(_python(worker, WATCHED))
    finally:
        _python(worker, UNWATCH)
    assert got == expected(sharded, selection)
    assert watch["calls"] >= 9, watch  # one shard read: its inner chunks are the decodes counted
    assert watch["most"] > 1, watch
