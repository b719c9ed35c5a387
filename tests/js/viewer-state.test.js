// web/viewer/state.js (the view in the URL), paint.js's pure helpers and app.js's window rule, with
// expectations written out by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyState, stateQuery } from "../../web/viewer/state.js";
import { snappedRect, tileDims } from "../../web/viewer/paint.js";
import { debounced, setWindowOf, windowOf } from "../../web/viewer/app.js";

function image() {
  return {
    path: "cells", name: "cells", kind: "group", ndim: 4, yDim: 2, xDim: 3, cDim: 0, format: "zarr3", dtype: "<u2",
    axes: ["c", "z", "y", "x"].map(name => ({ name, type: null, unit: null, scale: 1 })),
    levels: [{ path: "cells/0", shape: [2, 9, 512, 512], chunks: [1, 1, 128, 128], factor: [1, 1, 1, 1] }],
    channels: [{ index: 0, label: "a", color: "#2f9bff", window: [0, 732], visible: true },
      { index: 1, label: "b", color: "viridis", window: null, visible: false }],
  };
}

test("a view as a readable query string", () => {
  const q = stateQuery({ source: "../sample/cells.ome.zarr", image: /** @type {any} */ (image()), index: [0, 6, 255, 255],
    zoom: 3.04159, cx: 256.04, cy: 100, invert: true, expr: "np.log1p(x)", chunkMap: true });
  assert.equal(q, "source=../sample/cells.ome.zarr&path=cells&d.z=6&zoom=3.042&x=256&y=100&ch=1:0:732:2f9bff,0:::viridis" +
    "&invert=1&expr=np.log1p(x)&chunks=1");
});

test("a bucket's region and endpoint_url stay in the link, so it reopens the same bucket", () => {
  const q = stateQuery({ source: "s3://bkt/a.zarr", image: null, index: [], zoom: 1, cx: 0, cy: 0, invert: false,
    expr: "", chunkMap: false, sourceOptions: { region: "eu-west-1", endpoint_url: "http://127.0.0.1:9000" } });
  const p = new URLSearchParams(q);
  assert.equal(p.get("source"), "s3://bkt/a.zarr");
  assert.equal(p.get("region"), "eu-west-1");
  assert.equal(p.get("endpoint_url"), "http://127.0.0.1:9000");
});

test("a saved view restores the plane, the channels, the axes and the rest", () => {
  const img = image(), index = [0, 4, 255, 255];
  const rest = applyState(new URLSearchParams("d.z=7&ch=0:10:20:ff0000,1:1:2:magma&invert=1&expr=x*2"), /** @type {any} */ (img), index);
  assert.deepEqual(index, [0, 7, 255, 255]);
  assert.deepEqual(img.channels.map(c => [c.visible, c.window, c.color]), [[false, [10, 20], "#ff0000"], [true, [1, 2], "magma"]]);
  assert.deepEqual(rest, { invert: true, linkExpr: "x*2", chunkMap: false });   // shown, not applied
  const swapped = image(), i2 = [0, 0, 0, 0];
  applyState(new URLSearchParams("axes=0,3&d.z=99"), /** @type {any} */ (swapped), i2);
  assert.deepEqual([swapped.yDim, swapped.xDim, swapped.cDim], [0, 3, -1]);     // the channel axis is displayed
  assert.deepEqual(swapped.channels.map(c => c.label), ["values"]);
  assert.equal(i2[1], 8);                                                     // clamped to the last plane
});

test("tile dims as displayed, and tile rectangles snapped to device pixels", () => {
  assert.deepEqual(tileDims([30, 40], 1200, false), [30, 40]);
  assert.deepEqual(tileDims([30, 40], 1200, true), [40, 30]);
  assert.deepEqual(tileDims([7], 7, false), [1, 7]);
  const toScreen = (x, y) => [x * 0.3 + 0.1, y * 0.3 + 0.2];
  // x: 0.1 .. 30.1 CSS px, at dpr 2 snapped to halves: 0 .. 30; y: 0.2 .. 15.2 -> 0 .. 15
  assert.deepEqual(snappedRect(toScreen, 2, 0, 0, 100, 50), [0, 0, 30, 15]);
  // neighbours share the snapped edge
  const [ax, , aw] = snappedRect(toScreen, 1.5, 0, 0, 37, 10), [bx] = snappedRect(toScreen, 1.5, 37, 0, 37, 10);
  assert.equal(ax + aw, bx);
});

test("the window in use is the expression's while one is applied", () => {
  const ch = { index: 1, window: [0, 10] };
  const app = /** @type {any} */ ({ expr: "", exprWindows: new Map() });
  assert.deepEqual(windowOf(app, ch), [0, 10]);
  app.expr = "np.log1p(x)";
  assert.equal(windowOf(app, ch), null);
  setWindowOf(app, ch, [1, 2]);
  assert.deepEqual(windowOf(app, ch), [1, 2]);
  assert.deepEqual(ch.window, [0, 10]);
});

test("debounced calls once after a burst", async () => {
  let n = 0;
  const f = debounced(() => n++, 20);
  f(); f(); f();
  await new Promise(r => setTimeout(r, 60));
  assert.equal(n, 1);
});

test("a link's object-store options are what zl.open takes, and only for URL sources", async () => {
  const { linkOptions } = await import("../../web/viewer/sources.js");
  const q = "?source=az://c/x.zarr&plane=3&region=eu&endpoint_url=http%3A%2F%2F127.0.0.1%3A9000"
    + "&addressing_style=virtual&account_name=acct&window=0,9";
  assert.deepEqual(linkOptions("az://c/x.zarr", q),
    { region: "eu", endpoint_url: "http://127.0.0.1:9000", addressing_style: "virtual", account_name: "acct" });
  assert.deepEqual(linkOptions({ files: [] }, q), {});
});
