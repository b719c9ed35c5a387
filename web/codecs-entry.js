// The browser codec back-end, bundled by esbuild into web/dist/codecs.js (see build-web.sh).
// The worker hands this module to Python as `zarrlite_jscodecs`; py/zarrlite/codecs/browser.py calls
// `decode`. WASM builds: numcodecs.js (Blosc, Zstd, LZ4), xz-decompress (xz / lzma FORMAT_XZ).
import Blosc from "numcodecs/blosc";
import Zstd from "numcodecs/zstd";
import LZ4 from "numcodecs/lz4";
import { XzReadableStream } from "xz-decompress";

const wasm = { blosc: Blosc.fromConfig({ id: "blosc" }), zstd: Zstd.fromConfig({ id: "zstd" }),
               lz4: LZ4.fromConfig({ id: "lz4" }) };

/** The codec names `decode` accepts. */
export const names = ["blosc", "zstd", "lz4", "lzma"];

/**
 * Instantiate the WASM codecs now (a round trip of a few zeros through each) rather than on the first
 * chunk. Never rejects.
 * @returns {Promise<void>}
 */
export async function warm() {
  const zeros = new Uint8Array(64);
  await Promise.allSettled(Object.values(wasm).map(async c => c.decode(await c.encode(zeros))));
}

/**
 * Decode one chunk.
 * @param {string} name one of `names`
 * @param {Uint8Array} data encoded bytes
 * @param {number} limit most decoded bytes allowed (xz stops reading past it)
 * @returns {Promise<Uint8Array>}
 */
export async function decode(name, data, limit) {
  if (name === "lzma") return xz(data, limit);
  const codec = wasm[name];
  if (!codec) throw new Error(`no browser codec ${name}`);
  return codec.decode(data);
}

async function xz(data, limit) {
  const reader = new XzReadableStream(new Blob([data]).stream()).getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`decoded data exceeds the expected ${limit} bytes (corrupt chunk or decompression bomb)`);
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
