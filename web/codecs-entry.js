// The browser codec back-end, bundled by esbuild into web/dist/codecs.js (see build-web.sh).
// The worker hands this module to Python as `zarrlite_jscodecs`; py/zarrlite/codecs/browser.py calls
// `decode` and `crc32c`. WASM builds: numcodecs.js (Blosc, Zstd, LZ4; its libzstd verifies frame
// checksums), xz-decompress (xz / lzma FORMAT_XZ), hash-wasm (CRC-32C).
import Blosc from "numcodecs/blosc";
import Zstd from "numcodecs/zstd";
import LZ4 from "numcodecs/lz4";
import { createCRC32 } from "hash-wasm";
import { XzReadableStream } from "xz-decompress";

const wasm = { blosc: Blosc.fromConfig({ id: "blosc" }), zstd: Zstd.fromConfig({ id: "zstd" }),
               lz4: LZ4.fromConfig({ id: "lz4" }) };

const CASTAGNOLI = 0x82f63b78;  // CRC-32C's polynomial, reflected
/** @type {{hasher: import("hash-wasm").IHasher | null}} set once its WASM is instantiated, at import */
const crc = { hasher: null };
const crcReady = createCRC32(CASTAGNOLI).then(h => { crc.hasher = h; });

/** The codec names `decode` accepts. */
export const names = ["blosc", "zstd", "lz4", "lzma"];

/**
 * Instantiate the WASM codecs now (a round trip of a few zeros through each) rather than on the first
 * chunk. Never rejects.
 * @returns {Promise<void>}
 */
export async function warm() {
  const zeros = new Uint8Array(64);
  await Promise.allSettled([crcReady, ...Object.values(wasm).map(async c => c.decode(await c.encode(zeros)))]);
}

/**
 * CRC-32C of `data`, synchronously (the checksum codec in Python is synchronous). From Python, `data`
 * is a proxy of its bytes, read in place (a copy into a Uint8Array would cost as much as the checksum).
 * 2 MiB here: ~0.8 GB/s, where Pyodide's vectorised numpy manages ~0.1-0.2 GB/s.
 * @param {Uint8Array | {getBuffer(type: string): {data: Uint8Array, release(): void}}} data
 * @returns {number | null} the checksum, or null in the few milliseconds after import before the WASM
 *   is instantiated (the caller computes it another way)
 */
export function crc32c(data) {
  const hasher = crc.hasher;
  if (!hasher) return null;
  if (!(data instanceof Uint8Array)) {
    const view = data.getBuffer("u8");
    try { return crc32c(view.data); } finally { view.release(); }
  }
  hasher.init();
  hasher.update(data);
  const digest = hasher.digest("binary");  // big-endian
  return ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
}

/**
 * Decode one chunk.
 * @param {string} name one of `names`
 * @param {Uint8Array} data encoded bytes
 * @param {number} limit most decoded bytes allowed (xz stops reading past it, the others fail after)
 * @returns {Promise<Uint8Array>}
 */
export async function decode(name, data, limit) {
  if (name === "lzma") return xz(data, limit);
  const codec = wasm[name];
  if (!codec) throw new Error(`no browser codec ${name}`);
  // These decoders cannot stop early: Python has checked what the headers say first (native.py
  // check_decoded_size); a chunk worker still hands back nothing larger than asked for.
  const out = await codec.decode(data);
  if (out.length > limit) throw tooBig(limit);
  return out;
}

/** @param {number} limit */
function tooBig(limit) {
  return new Error(`decoded data exceeds the expected ${limit} bytes (corrupt chunk or decompression bomb)`);
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
      throw tooBig(limit);
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
