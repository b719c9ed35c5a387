// web/unzip.js (the wheel unpacker's reader) on archives that fflate's zipSync wrote: every file back
// byte for byte, stored and deflated alike; damaged archives rejected with what is wrong.
import assert from "node:assert/strict";
import { test } from "node:test";

import { zipSync } from "fflate";

import { unzip } from "../../web/unzip.js";

/** Bytes that compress (text) and bytes that do not (noise), of a few sizes, 0 included. */
function files() {
  let seed = 7;
  const noise = n => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  const text = n => new TextEncoder().encode("import numpy as np\n".repeat(Math.ceil(n / 19)).slice(0, n));
  return {
    "pkg/__init__.py": text(1000), "pkg/_core.so": noise(300_000), "pkg/empty.py": new Uint8Array(0),
    "pkg/data/big.txt": text(2_000_000), "pkg-1.0.dist-info/RECORD": text(77), "pkg/ünïcode.py": text(5),
  };
}

const sorted = entries => [...entries].sort(([a], [b]) => (a < b ? -1 : 1));

for (const level of [0, 6, 9]) {
  test(`every file comes back as written (zipSync level ${level})`, async () => {
    const want = files();
    const zip = zipSync({ ...want, "pkg/subdir/": new Uint8Array(0) }, { level });
    const got = sorted(await unzip(zip));
    assert.deepEqual(got.map(([p]) => p), Object.keys(want).sort(), "directories are left out");
    for (const [path, data] of got) {
      assert.deepEqual(data, want[path], path);
      assert.equal(data.byteOffset, 0, `${path}: a buffer of its own (transferable)`);
      assert.equal(data.buffer.byteLength, data.byteLength, path);
    }
  });
}

test("a zip that is not one, or is cut short, or whose data is damaged, is refused", async () => {
  await assert.rejects(unzip(new TextEncoder().encode("<html>not found</html>")), /not a zip archive/);
  const zip = zipSync(files(), { level: 6 });
  await assert.rejects(unzip(zip.subarray(0, zip.byteLength - 30)), /zip/);
  const at = zip.byteLength >> 1;   // inside the deflated text
  const damaged = zip.slice();
  for (let i = 0; i < 64; i++) damaged[at + i] ^= 0x5a;
  await assert.rejects(unzip(damaged), /zip: pkg\//);
});

test("an entry whose inflated size differs from its header's is refused", async () => {
  const zip = zipSync({ "a.txt": new TextEncoder().encode("hello hello hello hello") }, { level: 6 });
  const view = new DataView(zip.buffer);
  let cd = zip.byteLength - 22;
  while (view.getUint32(cd, true) !== 0x06054b50) cd--;
  const entry = view.getUint32(cd + 16, true);
  view.setUint32(entry + 24, 5, true);  // the central directory's uncompressed size: 5, not 23
  await assert.rejects(unzip(zip), /a\.txt: inflates past the 5 bytes/);
});
