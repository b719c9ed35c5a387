// Node tests of the pure parts of the labelled-array views: the tick range of coords.js and the
// line plot's level and value range (plot.js).
import test from "node:test";
import assert from "node:assert/strict";

import { tickRange } from "../../web/viewer/coords.js";
import { profileLevel, valueRange } from "../../web/viewer/plot.js";

test("tickRange: the visible part widened to a power-of-two grid, ticks in proportion", () => {
  // a 36-row axis fitted with margins (world -20 .. 56): only the 36 rows in view count
  assert.deepEqual(tickRange(-20, 56, 36), { start: 0, stop: 36, count: 6 });
  // zoomed in on rows 1000..1100 of 10^7: a 128-aligned window around them, 6 ticks per 100 rows
  const r = tickRange(1000, 1100, 1e7);
  assert.equal(r.start % 128, 0);
  assert.ok(r.start <= 1000 && r.stop >= 1100 && r.stop - r.start <= 512);
  assert.equal(r.count, Math.round(6 * (r.stop - r.start) / 100));
  // a small pan inside the grid asks for the same range (the cache answers it)
  assert.deepEqual(tickRange(1010, 1110, 1e7), r);
});

test("profileLevel: the coarsest level that keeps the plotted dimension whole", () => {
  const img = /** @type {any} */ ({ levels: [{ shape: [100, 512, 512] }, { shape: [100, 256, 256] }, { shape: [50, 128, 128] }] });
  assert.equal(profileLevel(img, 0), 1);
  assert.equal(profileLevel(img, 1), 0);
});

test("valueRange: finite values only; flat lines get a span; none is null", () => {
  assert.deepEqual(valueRange([3, NaN, -1, 7]), [-1, 7]);
  assert.deepEqual(valueRange([2, 2]), [1.5, 2.5]);
  assert.equal(valueRange([NaN, NaN]), null);
});
