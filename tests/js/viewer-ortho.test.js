// The pure parts of web/viewer/ortho.js: each view's image model, the crosshair, what a click picks and
// the region a view shows, with expectations written out by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { crosshairOf, pickAt, regionOf, viewAcross, viewModel } from "../../web/viewer/ortho.js";

// (c, z, y, x) with two levels; level 1 halves y and x only
const image = {
  yDim: 2, xDim: 3, cDim: 0, channels: [{ index: 0 }, { index: 1 }],
  levels: [{ shape: [2, 20, 48, 40], factor: [1, 1, 1, 1] }, { shape: [2, 20, 24, 20], factor: [1, 1, 2, 2] }],
};
const plan = { views: { xy: { dims: [2, 3] }, xz: { dims: [1, 3] }, yz: { dims: [1, 2] } } };

test("a view's model shows its rows and columns, the rows' factors stretched by the aspect", () => {
  const xz = viewModel(/** @type {any} */ (image), [1, 3], 2.5);
  assert.equal(xz.yDim, 1); assert.equal(xz.xDim, 3);
  assert.deepEqual(xz.levels.map(L => L.factor), [[1, 2.5, 1, 1], [1, 2.5, 2, 2]]);
  assert.equal(xz.channels, image.channels);                   // the page's channel objects: one window each
  assert.deepEqual(image.levels[1].factor, [1, 1, 2, 2]);       // the page's model is left as it was
});

test("the crosshair sits at the centre of the shared voxel, rows stretched", () => {
  assert.deepEqual(crosshairOf([0, 7, 30, 12], [1, 3], 2.5), { x: 12.5, y: 18.75 });
  assert.deepEqual(crosshairOf([0, 7, 30, 12], [2, 3], 1), { x: 12.5, y: 30.5 });
});

test("a click picks the voxel under it along the view's rows and columns, clamped", () => {
  const shape = image.levels[0].shape;
  assert.deepEqual(pickAt(12.9, 18.75, [1, 3], 2.5, shape), { 1: 7, 3: 12 });
  assert.deepEqual(pickAt(-3, 1000, [1, 2], 2.5, shape), { 1: 19, 2: 0 });
});

test("the region a view shows, in level-0 pixels within the shape", () => {
  const shape = image.levels[0].shape;
  assert.deepEqual(regionOf({ x0: -10, x1: 25.2, y0: 5, y1: 30 }, [1, 3], 2.5, shape), { 1: [2, 12], 3: [0, 26] });
  // nothing of the plane in view: the whole of each dimension
  assert.deepEqual(regionOf({ x0: 100, x1: 120, y0: -50, y1: -40 }, [2, 3], 1, shape), { 2: [0, 48], 3: [0, 40] });
  assert.deepEqual(regionOf({ x0: 0, x1: Infinity, y0: 0, y1: Infinity }, [1, 2], 2.5, shape), { 1: [0, 20], 2: [0, 48] });
});

test("a projection along an axis is seen in the view whose plane is fixed along it", () => {
  assert.equal(viewAcross(/** @type {any} */ (plan), 1), "xy");
  assert.equal(viewAcross(/** @type {any} */ (plan), 2), "xz");
  assert.equal(viewAcross(/** @type {any} */ (plan), 3), "yz");
});
