// A rectilinear chunk grid in the viewer's pure geometry: tiles cut at the boundaries the image model
// gives (zarrlite.model ImageLevel.bounds), checked against an explicit list of chunk edges.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chunkParts, cuts } from "../../web/viewer/geometry.js";

const ROWS = [0, 5, 10, 20, 23, 30];        // edges 5, 5, 10, 3, 7
const COLS = [0, 1, 5, 9, 13, 25, 41];

/** The chunk holding position p of a dimension with boundaries b. */
const chunkOf = (p, b) => b.findIndex((v, i) => p >= v && p < b[i + 1]);

test("cuts: the boundaries inside a range, then its end; regular dimensions keep their step", () => {
  assert.deepEqual(cuts(3, 24, 0, ROWS), [5, 10, 20, 23, 24]);
  assert.deepEqual(cuts(5, 10, 0, ROWS), [10]);
  assert.deepEqual(cuts(3, 24, 8), [8, 16, 24]);
  assert.deepEqual(cuts(3, 24, 8, null), [8, 16, 24]);
});

test("chunkParts on a rectilinear grid covers a tile once, each part inside one chunk", () => {
  for (const t of [{ ty: 0, tx: 0, y0: 0, x0: 0, y1: 30, x1: 41 }, { ty: 1, tx: 1, y0: 4, x0: 3, y1: 21, x1: 26 }]) {
    const parts = chunkParts(t, 10, 16, [ROWS, COLS]);
    const seen = new Set();
    for (const p of parts) {
      assert.equal(chunkOf(p.y0, ROWS), chunkOf(p.y1 - 1, ROWS));
      assert.equal(chunkOf(p.x0, COLS), chunkOf(p.x1 - 1, COLS));
      for (let y = p.y0; y < p.y1; y++) for (let x = p.x0; x < p.x1; x++) {
        assert.ok(!seen.has(`${y},${x}`));
        seen.add(`${y},${x}`);
      }
    }
    assert.equal(seen.size, (t.y1 - t.y0) * (t.x1 - t.x0));
  }
});

test("chunkParts mixes a regular dimension (no bounds) with a rectilinear one", () => {
  const parts = chunkParts({ ty: 0, tx: 0, y0: 0, x0: 0, y1: 30, x1: 41 }, 12, 16, [null, COLS]);
  assert.deepEqual([...new Set(parts.map(p => p.y0))], [0, 12, 24]);
  assert.deepEqual([...new Set(parts.map(p => p.x0))], COLS.slice(0, -1));
});
