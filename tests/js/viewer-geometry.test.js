// web/viewer/geometry.js against brute force: every expectation below is counted pixel by pixel or
// written out by hand, not computed with the functions under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chooseLevel, chunkParts, dataOffset, exprLevel, factors, levelIndex, nearestFirst, niceLength, pixelTile,
  planeKey, planeSize, steppedDim, tileAt, tileSelection, tileShape, tileSize, tilesIn, visibleTiles,
} from "../../web/viewer/geometry.js";

/** A (c, z, y, x) pyramid of 3 levels, z not downsampled, as image.js builds it. */
function pyramid() {
  const level = (shape, factor, chunks) => ({ path: String(factor[2] >> 1), shape, chunks, factor, shards: null,
    dtype: "<u2", outDtype: "<u2", codecs: [], fill_value: 0 });
  return {
    path: "", name: "", kind: "group", ndim: 4, yDim: 2, xDim: 3, cDim: 0, channels: [], multiscale: null,
    format: "zarr3", dtype: "<u2",
    axes: ["c", "z", "y", "x"].map(name => ({ name, type: null, unit: null, scale: 1 })),
    levels: [level([2, 9, 1000, 700], [1, 1, 1, 1], [1, 1, 128, 100]),
      level([2, 9, 500, 350], [1, 1, 2, 2], [1, 1, 128, 100]),
      level([2, 9, 250, 175], [1, 1, 4, 4], [1, 1, 128, 100])],
  };
}

test("tile sizes are whole chunks of about 256-1024 pixels, never past the array", () => {
  assert.equal(tileSize(64, 10000), 256);
  assert.equal(tileSize(100, 10000), 300);
  assert.equal(tileSize(512, 10000), 512);
  assert.equal(tileSize(1024, 10000), 1024);
  assert.equal(tileSize(4096, 10000), 512);
  assert.equal(tileSize(64, 90), 90);
  assert.equal(tileSize(1, 0), 1);
});

test("tilesIn returns exactly the tiles holding a pixel of the rectangle", () => {
  const tile = [30, 40], size = [95, 130];
  for (const rect of [{ y0: 0, y1: 95, x0: 0, x1: 130 }, { y0: 29.5, y1: 31, x0: -10, x1: 41 },
    { y0: -50, y1: 200, x0: 125, x1: 400 }, { y0: 60, y1: 60.2, x0: 80, x1: 80.1 }, { y0: 200, y1: 300, x0: 0, x1: 5 }]) {
    const want = new Set();
    for (let y = 0; y < size[0]; y++) for (let x = 0; x < size[1]; x++) {
      if (y + 1 > rect.y0 && y < rect.y1 && x + 1 > rect.x0 && x < rect.x1) want.add(`${Math.floor(y / 30)},${Math.floor(x / 40)}`);
    }
    const got = tilesIn(tile, size, rect);
    assert.deepEqual(new Set(got.map(t => `${t.ty},${t.tx}`)), want, JSON.stringify(rect));
    for (const t of got) {          // rectangles: the grid cell, cut at the plane's edge
      assert.deepEqual([t.y0, t.x0, t.y1, t.x1], [t.ty * 30, t.tx * 40, Math.min(95, t.ty * 30 + 30), Math.min(130, t.tx * 40 + 40)]);
    }
  }
});

test("the displayed plane's size, factors, index and key at each level", () => {
  const img = pyramid();
  assert.deepEqual(planeSize(img, 0), [1000, 700]);
  assert.deepEqual(planeSize(img, 2), [250, 175]);
  assert.deepEqual(factors(img, 1), [2, 2]);
  assert.deepEqual(levelIndex(img, [1, 7, 999, 699], 2), [1, 7, 249, 174]);
  assert.equal(planeKey(img, [1, 7, 500, 300], 1), "_,7,_,_");
  const swapped = { ...img, yDim: 3, xDim: 2 };
  assert.deepEqual(planeSize(swapped, 0), [700, 1000]);
  // z downsampled too: the level's own z index, never past its end
  const zpyr = pyramid();
  zpyr.levels[1] = { ...zpyr.levels[1], shape: [2, 4, 500, 350], factor: [1, 2, 2, 2] };
  assert.deepEqual(levelIndex(zpyr, [0, 8, 0, 0], 1), [0, 3, 0, 0]);
  assert.deepEqual(levelIndex(zpyr, [0, 5, 0, 0], 1), [0, 2, 0, 0]);
});

test("the level chosen for a zoom: its pixels are no larger than device pixels", () => {
  const img = pyramid();
  assert.equal(chooseLevel(img, 1, 1), 0);
  assert.equal(chooseLevel(img, 8, 1), 0);
  assert.equal(chooseLevel(img, 0.5, 1), 1);
  assert.equal(chooseLevel(img, 0.3, 1), 1);
  assert.equal(chooseLevel(img, 0.25, 1), 2);
  assert.equal(chooseLevel(img, 0.01, 1), 2);
  assert.equal(chooseLevel(img, 0.5, 2), 0);         // a high-DPI screen shows finer levels
});

test("an expression reads a plane of at most 4 Mpx", () => {
  const img = pyramid();
  img.levels[0] = { ...img.levels[0], shape: [2, 9, 4000, 2800] };
  img.levels[1] = { ...img.levels[1], shape: [2, 9, 2000, 1400] };
  assert.equal(exprLevel(img, 1, 1), 1);               // 11.2 Mpx at level 0, 2.8 at level 1
  assert.equal(exprLevel(img, 0.25, 1), 2);
  assert.equal(exprLevel(pyramid(), 1, 1), 0);
});

test("visible tiles: the level's tiles under the view, nearest the centre first", () => {
  const img = pyramid();
  assert.deepEqual(tileShape(img, 0), [256, 300]);
  assert.deepEqual(tileShape(img, 2), [250, 175]);
  const tiles = visibleTiles(img, 1, { y0: 0, y1: 1000, x0: 0, x1: 700 });   // all of level 1 (500 x 350)
  assert.deepEqual(tiles.map(t => [t.ty, t.tx]), [[0, 0], [0, 1], [1, 0], [1, 1]]);
  const part = visibleTiles(img, 0, { y0: 300, y1: 400, x0: 650, x1: 900 });
  assert.deepEqual(part.map(t => [t.ty, t.tx]), [[1, 2]]);
  const order = nearestFirst(visibleTiles(img, 0, { y0: 0, y1: 1000, x0: 0, x1: 700 }), 900, 650);
  assert.deepEqual([order[0].ty, order[0].tx], [3, 2]);
  assert.deepEqual([order.at(-1).ty, order.at(-1).tx], [0, 0]);
});

test("pixelTile finds the tile and the place of a level-0 pixel", () => {
  const img = pyramid();
  for (const [y, x, lv] of [[0, 0, 0], [999, 699, 0], [517, 333, 0], [517, 333, 1], [999, 699, 2]]) {
    const [fy, fx] = [2 ** lv, 2 ** lv];
    const ly = Math.floor(y / fy), lx = Math.floor(x / fx);
    const hit = pixelTile(img, lv, y, x);
    const holding = tilesIn(tileShape(img, lv), planeSize(img, lv), { y0: ly, y1: ly + 1, x0: lx, x1: lx + 1 });
    assert.equal(holding.length, 1);
    assert.deepEqual(hit.tile, holding[0]);
    assert.deepEqual([hit.row, hit.col], [ly - holding[0].y0, lx - holding[0].x0]);
  }
  assert.equal(pixelTile(img, 0, 1000, 0), null);
  assert.equal(pixelTile(img, 0, -1, 0), null);
});

test("dataOffset reads a transposed tile where the rows are the later dimension", () => {
  const h = 3, w = 4;
  const rowsFirst = Array.from({ length: h * w }, (_, k) => k);                 // value = r * w + c
  const colsFirst = Array.from({ length: h * w }, (_, k) => (k % h) * w + Math.floor(k / h));  // stored (c, r)
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
    assert.equal(rowsFirst[dataOffset(r, c, h, w, false)], r * w + c);
    assert.equal(colsFirst[dataOffset(r, c, h, w, true)], r * w + c);
  }
});

test("a tile's selection: its rows and columns, the channel, the level's index elsewhere", () => {
  const img = pyramid();
  const t = tileAt([256, 300], [500, 350], 1, 1);
  assert.deepEqual(t, { ty: 1, tx: 1, y0: 256, x0: 300, y1: 500, x1: 350 });
  assert.deepEqual(tileSelection(img, [0, 6, 10, 10], 1, t, 1), [1, 6, [256, 500], [300, 350]]);
});

test("chunkParts covers a tile once, each part inside one chunk", () => {
  for (const t of [{ ty: 0, tx: 0, y0: 0, x0: 0, y1: 256, x1: 300 }, { ty: 1, tx: 2, y0: 250, x0: 70, y1: 333, x1: 211 }]) {
    const parts = chunkParts(t, 64, 50);
    const count = new Map();
    for (const p of parts) {
      assert.equal(Math.floor(p.y0 / 64), Math.floor((p.y1 - 1) / 64));
      assert.equal(Math.floor(p.x0 / 50), Math.floor((p.x1 - 1) / 50));
      for (let y = p.y0; y < p.y1; y++) for (let x = p.x0; x < p.x1; x++) count.set(`${y},${x}`, (count.get(`${y},${x}`) ?? 0) + 1);
    }
    assert.equal(count.size, (t.y1 - t.y0) * (t.x1 - t.x0));
    assert.ok([...count.values()].every(n => n === 1));
  }
});

test("scale bars are 1, 2 or 5 times a power of ten", () => {
  assert.equal(niceLength(120), 100);
  assert.equal(niceLength(260), 200);
  assert.equal(niceLength(7.3), 5);
  assert.equal(niceLength(0.012), 0.01);
  assert.equal(niceLength(1), 1);
});

test("the plane keys step the first dimension that is not displayed, not channels, and not of size 1", () => {
  const img = (shape, yDim, xDim, cDim) => ({ axes: shape.map(() => ({})), yDim, xDim, cDim, levels: [{ shape }] });
  assert.equal(steppedDim(img([2, 1, 30, 64, 64], 3, 4, 0)), 2);   // c, t of 1, z: z
  assert.equal(steppedDim(img([3, 64, 64], 1, 2, 0)), -1);         // channels only
  assert.equal(steppedDim(img([64, 64], 0, 1, -1)), -1);           // a plane
  assert.equal(steppedDim(img([64, 5, 64], 0, 2, -1)), 1);         // rows z, columns x: y steps
});
