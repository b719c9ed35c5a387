// web/protocol.js unpackValues on buffers laid out by hand as zarrlite.packed documents them, and the
// table pager's label (web/viewer/table.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { unpackValues } from "../../web/protocol.js";
import { pageLabel } from "../../web/viewer/table.js";

/** A buffer of `parts` ([offset, Uint8Array]) and its size. */
function bufferOf(size, parts) {
  const buf = new ArrayBuffer(size);
  for (const [offset, bytes] of parts) new Uint8Array(buf, offset, bytes.length).set(bytes);
  return buf;
}

test("strings and bytes: uint32 ends, then the bytes", () => {
  const text = new TextEncoder().encode("aZürich");           // "a", "", "Zürich"
  const ends = new Uint8Array(new Uint32Array([1, 1, text.length]).buffer);
  const buf = bufferOf(32, [[0, ends], [16, text]]);
  const strings = unpackValues(buf, { kind: "str", shape: [3], ends: 0, bytes: 16, length: text.length });
  assert.deepEqual(strings.data, ["a", "", "Zürich"]);
  assert.equal(strings.dtype, "str");
  const bytes = unpackValues(buf, { kind: "bytes", shape: [1, 3], ends: 0, bytes: 16, length: text.length });
  assert.deepEqual(bytes.data.map(b => Array.from(/** @type {Uint8Array} */ (b))), [[97], [], Array.from(text.slice(1))]);
  assert.deepEqual(bytes.shape, [1, 3]);
});

test("datetimes: int64 counts with unit and scale, NaT the int64 minimum", () => {
  const counts = new BigInt64Array([5n, -(2n ** 63n)]);
  const buf = bufferOf(16, [[0, new Uint8Array(counts.buffer)]]);
  const r = unpackValues(buf, { kind: "datetime64", shape: [2], dtype: "<i8", unit: "s", scale: 10, offset: 0 });
  assert.ok(r.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(/** @type {BigInt64Array} */ (r.data)), [5n, -(2n ** 63n)]);
  assert.equal(r.unit, "s");
  assert.equal(r.scale, 10);
});

test("structured values: one entry per field, nested, each with its shape", () => {
  const x = new Float32Array([1.5, -2]), y = new Int16Array([1, 2, 3, 4]);
  const buf = bufferOf(16, [[0, new Uint8Array(x.buffer)], [8, new Uint8Array(y.buffer)]]);
  const r = unpackValues(buf, { kind: "struct", shape: [2], fields: [
    ["x", { kind: "typed", shape: [2], dtype: "<f4", offset: 0 }],
    ["p", { kind: "struct", shape: [2], fields: [["y", { kind: "typed", shape: [2, 2], dtype: "<i2", offset: 8 }]] }],
  ] });
  const fields = /** @type {any} */ (r.data).fields;
  assert.deepEqual(Object.keys(fields), ["x", "p"]);
  assert.deepEqual(Array.from(fields.x.data), [1.5, -2]);
  assert.deepEqual(fields.p.data.fields.y.shape, [2, 2]);
  assert.deepEqual(Array.from(fields.p.data.fields.y.data), [1, 2, 3, 4]);
});

test("json values are revived; an unknown kind is refused", () => {
  const text = new TextEncoder().encode('[{"a":1},{"$zarrlite":"number","value":"NaN"}]');
  const buf = bufferOf(64, [[0, text]]);
  const r = unpackValues(buf, { kind: "json", shape: [2], offset: 0, length: text.length });
  assert.deepEqual(/** @type {any[]} */ (r.data)[0], { a: 1 });
  assert.ok(Number.isNaN(/** @type {any[]} */ (r.data)[1]));
  assert.throws(() => unpackValues(buf, /** @type {any} */ ({ kind: "pickle", shape: [1] })), /unknown layout kind/);
});

test("the pager says which rows and columns show", () => {
  assert.equal(pageLabel({ start: 100, rows: new Array(100), total: 1234, columns: ["value"], totalColumns: 1 }),
    "rows 100–199 of 1,234");
  assert.equal(pageLabel({ start: 0, rows: [[]], total: 1, columns: ["0", "1"], totalColumns: 90 }),
    "rows 0–0 of 1; the first 2 of 90 columns");
  assert.equal(pageLabel({ start: 0, rows: [], total: 0, columns: ["value"], totalColumns: 1 }), "no rows of 0");
});
