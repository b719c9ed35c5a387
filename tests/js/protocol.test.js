// web/protocol.js: selections as the worker parses them, typed arrays by dtype, and the JSON revival of
// values JSON cannot carry (checked against the Python side's own JSON where the venv is at hand).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";

import { reviveJSON, selectionString, typedArray } from "../../web/protocol.js";

test("selectionString: strings pass through, arrays become numpy-style text", () => {
  assert.equal(selectionString(undefined), "...");
  assert.equal(selectionString(null), "...");
  assert.equal(selectionString("0,12,:,100:900:2"), "0,12,:,100:900:2");
  assert.equal(selectionString([0, 12, null, [100, 900, 2]]), "0,12,:,100:900:2");
  assert.equal(selectionString([-1, [null, 5], [2, null, -1]]), "-1,:5,2::-1");
  assert.equal(selectionString([[1.9, 4.2]]), "1:4");
  assert.equal(selectionString([]), "...");
});

test("selectionString: anything else is a TypeError naming the entry", () => {
  assert.throws(() => selectionString([0, 1.5]), { name: "TypeError", message: /selection\[1\]/ });
  assert.throws(() => selectionString([[1]]), TypeError);
  assert.throws(() => selectionString([[1, 2, 3, 4]]), TypeError);
  assert.throws(() => selectionString(/** @type {any} */ (5)), TypeError);
});

test("typedArray: one constructor per dtype the worker sends, over the same buffer", () => {
  const buffer = new ArrayBuffer(16);
  const want = { "|b1": Uint8Array, "|u1": Uint8Array, "|i1": Int8Array, "<u2": Uint16Array, "<i2": Int16Array,
                 "<u4": Uint32Array, "<i4": Int32Array, "<u8": BigUint64Array, "<i8": BigInt64Array,
                 "<f4": Float32Array, "<f8": Float64Array };
  for (const [dtype, T] of Object.entries(want)) {
    const a = typedArray(buffer, dtype);
    assert.ok(a instanceof T, dtype);
    assert.equal(a.buffer, buffer);
    assert.equal(a.byteLength, 16);
  }
  assert.throws(() => typedArray(buffer, ">u2"), { name: "TypeError", message: /dtype >u2/ });
  assert.throws(() => typedArray(buffer, "<f2"), TypeError);
});

test("reviveJSON: tagged numbers, big integers and escaped objects come back exact", () => {
  const got = reviveJSON(JSON.stringify({
    nan: { $zarrlite: "number", value: "NaN" }, inf: { $zarrlite: "number", value: "Infinity" },
    neg: { $zarrlite: "number", value: "-Infinity" }, big: { $zarrlite: "bigint", value: "18446744073709551615" },
    min: { $zarrlite: "bigint", value: "-9223372036854775808" },
    kept: { $zarrlite: "object", value: [["$zarrlite", "bigint"], ["n", { $zarrlite: "bigint", value: "9007199254740993" }]] },
    plain: [1, "NaN", { a: null }],
  }));
  assert.ok(Number.isNaN(got.nan));
  assert.equal(got.inf, Infinity);
  assert.equal(got.neg, -Infinity);
  assert.equal(got.big, 18446744073709551615n);
  assert.equal(got.min, -9223372036854775808n);
  assert.deepEqual(got.kept, { $zarrlite: "bigint", n: 9007199254740993n });
  assert.deepEqual(got.plain, [1, "NaN", { a: null }]);
});

test("reviveJSON: a malformed tag is an error, not a silent value", () => {
  assert.throws(() => reviveJSON('{"$zarrlite": "number", "value": "1e400"}'), TypeError);
  assert.throws(() => reviveJSON('{"$zarrlite": "bigint", "value": "12abc"}'), TypeError);
  assert.throws(() => reviveJSON('{"$zarrlite": "code", "value": "alert(1)"}'), TypeError);
});

const PYTHON = new URL("../../.venv/bin/python", import.meta.url).pathname;

test("reviveJSON reads what the worker's Python side (webworker.json_text) writes", { skip: !existsSync(PYTHON) && "no .venv" }, () => {
  const script = `
import math
from zarrlite.webworker import json_text
print(json_text({"nan": math.nan, "inf": math.inf, "neg": -math.inf, "u8max": 2**64 - 1, "i8min": -2**63,
                 "safe": 2**53 - 1, "unsafe": 2**53 + 1, "f": 0.5, "c": 1 - 2j, "b": b"\\x01\\xff",
                 "tag": {"$zarrlite": "x"}, "nested": [{"deep": math.nan}]}))`;
  const run = spawnSync(PYTHON, ["-c", script], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const got = reviveJSON(run.stdout);
  assert.ok(Number.isNaN(got.nan) && Number.isNaN(got.nested[0].deep));
  assert.equal(got.inf, Infinity);
  assert.equal(got.neg, -Infinity);
  assert.equal(got.u8max, 2n ** 64n - 1n);
  assert.equal(got.i8min, -(2n ** 63n));
  assert.equal(got.safe, 2 ** 53 - 1);
  assert.equal(got.unsafe, 2n ** 53n + 1n);
  assert.equal(got.f, 0.5);
  assert.deepEqual(got.c, [1, -2]);
  assert.equal(got.b, "01ff");
  assert.deepEqual(got.tag, { $zarrlite: "x" });
});
