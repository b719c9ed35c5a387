// The pure parts of web/viewer/labels.js and web/viewer/plate.js: expectations written out by hand or
// counted cell by cell, not computed with the functions under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hoverText, imageFrame, labelIndex, labelModel } from "../../web/viewer/labels.js";
import { GAP, HEAD, cellOrigin, cellsInView, fitCellSize, plateCells } from "../../web/viewer/plate.js";

const image = {
  axes: [{ name: "c", scale: 1, type: "channel", unit: null }, { name: "y", scale: 0.5, type: "space", unit: "µm" },
    { name: "x", scale: 0.5, type: "space", unit: "µm" }],
  levels: [{ shape: [2, 100, 80], fillValue: 2n ** 60n }], yDim: 1, xDim: 2, cDim: 0, labels: ["labels/a"], path: "",
};
const overlay = { path: "labels/a", name: "a", dims: [1, 2], levels: [{ path: "labels/a/0", shape: [50, 40], chunks: [16, 16], factor: [2, 2] }] };

test("the image frame sent to Python carries no fill values (BigInt cannot be JSON)", () => {
  const f = imageFrame(/** @type {any} */ (image));
  assert.deepEqual(f, { axes: [{ name: "c", scale: 1 }, { name: "y", scale: 0.5 }, { name: "x", scale: 0.5 }],
    levels: [{ shape: [2, 100, 80] }], yDim: 1, xDim: 2, labels: ["labels/a"] });
  assert.doesNotThrow(() => JSON.stringify(f));
});

test("a label model finds the image's displayed dimensions among its own", () => {
  assert.deepEqual(labelModel(overlay, /** @type {any} */ (image)), { levels: overlay.levels, yDim: 0, xDim: 1, cDim: -1 });
  assert.deepEqual(labelModel(overlay, /** @type {any} */ ({ ...image, yDim: 2, xDim: 1 })), { levels: overlay.levels, yDim: 1, xDim: 0, cDim: -1 });
  assert.equal(labelModel(overlay, /** @type {any} */ ({ ...image, yDim: 0, xDim: 2 })), null);   // c is not a label axis
  assert.equal(labelModel({ ...overlay, error: "bad" }, /** @type {any} */ (image)), null);
  assert.deepEqual(labelIndex({ ...overlay, dims: [-1, 1, 2] }, [1, 40, 30]), [0, 40, 30]);
});

test("hover text names each label image, its id and properties", () => {
  assert.equal(hoverText([{ name: "coins", id: 17, properties: { area: 3, class: "big" } }, { name: "seg", id: 2n ** 60n + 1n, properties: null }]),
    "coins 17 · area 3 · class big   seg 1152921504606846977");
});

test("plate cells are named row then column", () => {
  const cells = plateCells({ path: "p", name: null, rows: ["A", "B"], columns: ["01", "02", "03"], fieldCount: 1,
    wells: [{ path: "B/03", row: 1, column: 2 }, { path: "A/01", row: 0, column: 0 }] });
  assert.deepEqual(cells, [{ path: "B/03", row: 1, column: 2, name: "B03" }, { path: "A/01", row: 0, column: 0, name: "A01" }]);
});

test("cells fit the pane when they can stay 48 px or more, else they are 48 px and the grid scrolls", () => {
  assert.equal(HEAD.left, 30); assert.equal(HEAD.top, 22); assert.equal(GAP, 4);
  assert.equal(fitCellSize(8, 12, 30 + 12 * 64, 22 + 8 * 64), 60);           // 64 px a cell, less the gap
  assert.equal(fitCellSize(16, 24, 800, 600), 48);
  assert.equal(fitCellSize(2, 3, 2000, 2000), 160);
});

test("only the cells meeting the scrolled window (plus margin) are in view, row by row", () => {
  const cells = [];
  for (let row = 0; row < 16; row++) for (let column = 0; column < 24; column++) cells.push({ path: `${row}/${column}`, row, column, name: "" });
  const size = 50;    // pitch 54: cell (r, c) spans x 30 + 54c .. +50, y 22 + 54r .. +50
  assert.deepEqual(cellOrigin(cells[25], size), [30 + 54, 22 + 54]);
  const seen = cellsInView(cells, size, { left: 0, top: 0, width: 100, height: 80 });
  assert.deepEqual(seen.map(c => c.path), ["0/0", "0/1", "1/0", "1/1"]);      // x < 100: columns 0, 1; y < 80: rows 0, 1
  const later = cellsInView(cells, size, { left: 30 + 54 * 10, top: 22 + 54 * 5, width: 54, height: 54 });
  assert.deepEqual(later.map(c => c.path), ["5/10"]);
  assert.equal(cellsInView(cells, size, { left: 30 + 54 * 10, top: 22 + 54 * 5, width: 54, height: 54 }, 10).length, 9);
});
