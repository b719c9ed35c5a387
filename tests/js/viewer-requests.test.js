// web/viewer/requests.js over a small in-memory reader with zl.read's contract (selection entries: an
// index or [start, stop]; AbortError when the signal is aborted). Expected tiles are computed from the
// values' formula, pixel by pixel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { exprRequest, numeric, readByChunk, tileRequest } from "../../web/viewer/requests.js";

const value = (c, z, y, x) => c * 100000 + z * 10000 + y * 100 + x;

/** A reader of a (c, z, y, x) array whose values are `value`, with chunks that fail to decode. */
function reader(shape, chunks, badChunks = []) {
  const calls = [];
  const read = async (path, sel, { signal } = {}) => {
    calls.push({ path, sel: JSON.stringify(sel), signal });
    await null;
    if (signal?.aborted) throw Object.assign(new Error("aborted"), { name: "AbortError" });
    const ranges = sel.map((v, d) => (Array.isArray(v) ? v : [v, v + 1]));
    for (const bad of badChunks) {
      if (ranges.every(([a, b], d) => a < (bad[d] + 1) * chunks[d] && b > bad[d] * chunks[d])) {
        throw Object.assign(new Error(`chunk ${bad.join("/")} truncated`), { name: "ChunkError" });
      }
    }
    const out = [];
    const walk = (d, at) => {
      if (d === shape.length) { out.push(value(...at)); return; }
      for (let i = ranges[d][0]; i < ranges[d][1]; i++) walk(d + 1, [...at, i]);
    };
    walk(0, []);
    return { data: Uint32Array.from(out), shape: ranges.filter((_, d) => Array.isArray(sel[d])).map(([a, b]) => b - a) };
  };
  return { read, viewer: async (fn, args, options) => ({ data: new Float32Array([fn.length, args.length]), shape: [1, 2], options }), calls };
}

function image(yDim = 2, xDim = 3) {
  const shape = [2, 3, 40, 50];
  return { path: "", name: "", kind: "array", ndim: 4, yDim, xDim, cDim: 0, channels: [], multiscale: null, format: "zarr3",
    dtype: "<u4", axes: [], levels: [{ path: "a", shape, chunks: [1, 1, 16, 20], factor: [1, 1, 1, 1], shards: null,
      dtype: "<u4", outDtype: "<u4", codecs: [], fill_value: 0 }] };
}

/** The tile as displayed, [row][col] -> value, from the formula. */
function expected(t, c, z, transposed) {
  const rows = [];
  for (let y = t.y0; y < t.y1; y++) {
    const row = [];
    for (let x = t.x0; x < t.x1; x++) row.push(transposed ? value(c, z, x, y) : value(c, z, y, x));
    rows.push(row);
  }
  return rows;
}

function displayed(res, t, transposed) {
  const h = t.y1 - t.y0, w = t.x1 - t.x0, rows = [];
  for (let r = 0; r < h; r++) {
    const row = [];
    for (let c = 0; c < w; c++) row.push(res.data[transposed ? c * h + r : r * w + c]);
    rows.push(row);
  }
  return rows;
}

const tile = { ty: 1, tx: 0, y0: 16, x0: 0, y1: 40, x1: 50 };

test("a tile request reads the tile of the level's plane and passes the signal on", async () => {
  const zl = reader([2, 3, 40, 50], [1, 1, 16, 20]);
  const req = tileRequest(zl, image(), [0, 2, 7, 7], 0, tile, { index: 1 });
  assert.equal(req.key, "0|_,2,_,_|1|1|0");
  const signal = new AbortController().signal;
  const res = await req.load(signal);
  assert.deepEqual(res.shape, [24, 50]);
  assert.deepEqual(displayed(res, tile, false), expected(tile, 1, 2, false));
  assert.equal(zl.calls.length, 1);
  assert.equal(zl.calls[0].signal, signal);
  assert.equal(zl.calls[0].sel, JSON.stringify([1, 2, [16, 40], [0, 50]]));
});

test("a failed tile is read chunk by chunk: good chunks kept, bad ones listed, zero-filled", async () => {
  const zl = reader([2, 3, 40, 50], [1, 1, 16, 20], [[1, 2, 1, 1]]);
  const res = await tileRequest(zl, image(), [0, 2, 7, 7], 0, tile, { index: 1 }).load(new AbortController().signal);
  const want = expected(tile, 1, 2, false);
  const got = displayed(res, tile, false);
  const badRect = { y0: 16, y1: 32, x0: 20, x1: 40 };
  assert.deepEqual(res.bad.map(b => b.rect), [badRect]);
  assert.match(res.bad[0].error.message, /chunk 1\/2\/1\/1 truncated/);
  for (let r = 0; r < 24; r++) for (let c = 0; c < 50; c++) {
    const y = r + 16, inBad = y >= 16 && y < 32 && c >= 20 && c < 40;
    assert.equal(got[r][c], inBad ? 0 : want[r][c], `${r},${c}`);
  }
});

test("chunk by chunk with the rows as the later dimension (a transposed view)", async () => {
  const zl = reader([2, 3, 40, 50], [1, 1, 16, 20], [[0, 1, 0, 0]]);
  const img = image(3, 2);                    // rows: x (50), columns: y (40)
  const t = { ty: 0, tx: 0, y0: 0, x0: 0, y1: 50, x1: 40 };
  const res = await tileRequest(zl, img, [0, 1, 0, 0], 0, t, { index: 0 }).load(new AbortController().signal);
  assert.deepEqual(res.shape, [40, 50]);      // dimension order
  const want = expected(t, 0, 1, true), got = displayed(res, t, true);
  for (let r = 0; r < 50; r++) for (let c = 0; c < 40; c++) {
    const inBad = c < 16 && r < 20;           // chunk (y 0..16, x 0..20)
    assert.equal(got[r][c], inBad ? 0 : want[r][c], `${r},${c}`);
  }
});

test("an aborted read is not retried chunk by chunk: the abort goes to the loader", async () => {
  const zl = reader([2, 3, 40, 50], [1, 1, 16, 20], [[1, 2, 1, 1]]);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(tileRequest(zl, image(), [0, 2, 0, 0], 0, tile, { index: 1 }).load(ac.signal), { name: "AbortError" });
  assert.equal(zl.calls.length, 1);
});

test("a one-chunk tile, or one whose every chunk fails, fails with the tile's own error", async () => {
  const all = [];
  for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) all.push([1, 2, y, x]);
  const zl = reader([2, 3, 40, 50], [1, 1, 16, 20], all);
  const err = new Error("tile failed");
  await assert.rejects(readByChunk(zl, "a", [1, 2, [16, 40], [0, 50]], tile, { yDim: 2, xDim: 3, chunk: [16, 20] }, err), err);
  const one = { ty: 0, tx: 0, y0: 0, x0: 0, y1: 16, x1: 20 };
  await assert.rejects(readByChunk(zl, "a", [1, 2, [0, 16], [0, 20]], one, { yDim: 2, xDim: 3, chunk: [16, 20] }, err), err);
});

test("an expression request evaluates the whole plane of the channel, with the signal", async () => {
  const zl = reader([2, 3, 40, 50], [1, 1, 16, 20]);
  let seen = null;
  zl.viewer = async (fn, args, options) => { seen = { fn, args, options }; return { data: new Float32Array(4), shape: [2, 2] }; };
  const signal = new AbortController().signal;
  const req = exprRequest(zl, image(), [0, 2, 5, 5], 0, { index: 1 }, "np.log1p(x)");
  assert.equal(req.key, "expr|np.log1p(x)|0|_,2,_,_|1");
  await req.load(signal);
  assert.deepEqual(seen.args, ["a", "1,2,:,:", "np.log1p(x)"]);
  assert.equal(seen.fn, "evaluate");
  assert.equal(seen.options.signal, signal);
});

test("64-bit integers become float64 numbers; other arrays pass as they are", () => {
  assert.deepEqual(Array.from(numeric(new BigUint64Array([0n, 2n ** 53n]))), [0, 2 ** 53]);
  const u16 = new Uint16Array([1, 2]);
  assert.equal(numeric(u16), u16);
});
