// Tile colouring on the main thread (web/viewer/colors.js composite) against zarrlite.render: the
// expected SHA-256 of the RGBA bytes were computed in Python with
//   render_plane(plane, window=..., colormap=..., invert=...)   (zarrlite.render)
// for the 6 x 10 planes made below (values (i * 7919) mod 1024, shifted or wrapped per data type).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { composite } from "../../web/viewer/colors.js";

const H = 6, W = 10;
const values = Array.from({ length: H * W }, (_, i) => (i * 7919) % 1024);
const sha = u8 => createHash("sha256").update(u8).digest("hex");

const CASES = [
  [Uint16Array, v => v, [100, 900], "gray", false, "e92fe2ce55fe8689201250c81fbe5f0f8015f2a4388b29e6093380c3f04acd3f"],
  [Uint16Array, v => v, [0, 1023], "#ff8000", true, "71c39d342fffa4e38c2602c0b411f9e4f0a801697fdf993997be233448b5c4a2"],
  [Uint8Array, v => v % 256, [10, 200], "#00ff00", false, "772a3efe07905cd24aeaf14b007d408eb2649a39d0096f7f1dcead6a7dcf35a5"],
  [Int16Array, v => v - 400, [-300, 700], "gray", false, "c6cca0c88158d4e4b26f9f4b7a6a7d77121b90dee7662f8a5c8660960f24fbc7"],
  [Uint16Array, v => v, [500, 500], "gray", false, "0b42fb9181023aed590913cb545d7bae8992f08dab721d7049977cd4307aede5"],
];

for (const [Type, shift, window, color, invert, want] of CASES) {
  test(`one ${Type.name} layer, window ${window}, ${color}${invert ? ", inverted" : ""}: the bytes zarrlite.render makes`, () => {
    const data = Type.from(values, shift);
    assert.equal(sha(composite([{ data, window, color, invert }], W, H)), want);
    // stored transposed (columns, rows), as a tile whose y dimension comes after x
    const t = new Type(H * W);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) t[x * H + y] = data[y * W + x];
    assert.equal(sha(composite([{ data: t, window, color, invert, transposed: true }], W, H)), want);
    // into a given buffer at an offset a 32-bit view cannot take (the general loop)
    const out = new Uint8ClampedArray(new ArrayBuffer(H * W * 4 + 1), 1, H * W * 4);
    assert.equal(sha(composite([{ data, window, color, invert }], W, H, out)), want);
  });
}
