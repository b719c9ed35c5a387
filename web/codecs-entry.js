// The browser codec back-end, bundled by esbuild into web/dist/codecs.js (see build-web.sh).
// The worker hands this module to Python as `zarrlite_jscodecs`; py/zarrlite/codecs/browser.py calls
// `decode` and `crc32c`. WASM builds: numcodecs.js (Blosc, Zstd, LZ4; its libzstd verifies frame
// checksums), xz-decompress (xz / lzma FORMAT_XZ), liblzma from node-liblzma (legacy .lzma, and raw
// streams once Python has given them a header: codecs/lzma_container.py), hash-wasm (CRC-32C).
import Blosc from "numcodecs/blosc";
import Zstd from "numcodecs/zstd";
import LZ4 from "numcodecs/lz4";
import { createCRC32 } from "hash-wasm";
import { XzReadableStream } from "xz-decompress";
import { WasmLzmaStream, autoDecoderInit, code, copyToWasm, end, initModule, LZMA_FINISH, LZMA_OK,
         LZMA_STREAM_END } from "node-liblzma/wasm";
import createLZMA from "node-liblzma/wasm/liblzma.js";
// The binary itself, bundled (esbuild's binary loader): the package's base64 copy ("inline") is of
// another build than its glue code and does not link.
import lzmaWasm from "node-liblzma/wasm/liblzma.wasm";

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
 * @param {string} name one of `names`, or "liblzma" (what liblzma's automatic decoder reads: .xz, .lzma)
 * @param {Uint8Array} data encoded bytes
 * @param {number} limit most decoded bytes allowed (xz stops reading past it, the others fail after)
 * @returns {Promise<Uint8Array>}
 */
export async function decode(name, data, limit) {
  if (name === "lzma") return xz(data, limit);
  if (name === "liblzma") return liblzma(data, limit);
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
  return concat(parts, size);
}

// liblzma allocates the dictionary a stream's header asks for before decoding: allow what the presets need
// (-9: 64 MiB), as CPython does (codecs/stdlib.py LZMA_MEMLIMIT).
const LZMA_MEMLIMIT = 96 << 20;
const LZMA_STEP = 1 << 20;

/**
 * .lzma or .xz through liblzma, one MiB of output at a time: it stops once past `limit`.
 * @param {Uint8Array} data
 * @param {number} limit
 * @returns {Promise<Uint8Array>}
 */
async function liblzma(data, limit) {
  const module = await initModule(() => createLZMA({ wasmBinary: lzmaWasm }));
  const stream = new WasmLzmaStream(module);
  const inPtr = copyToWasm(module, data);
  const outPtr = module._malloc(LZMA_STEP);
  const parts = [];
  let size = 0;
  try {
    autoDecoderInit(stream, LZMA_MEMLIMIT);
    stream.setInput(inPtr, data.byteLength);
    for (;;) {
      stream.setOutput(outPtr, LZMA_STEP);
      const ret = code(stream, LZMA_FINISH);
      const produced = LZMA_STEP - stream.availOut;
      size += produced;
      if (size > limit) throw tooBig(limit);
      if (produced) parts.push(module.HEAPU8.slice(outPtr, outPtr + produced));
      if (ret === LZMA_STREAM_END) break;
      if (ret !== LZMA_OK) {
        throw new Error(`liblzma error ${ret} (corrupt or truncated stream, or its dictionary exceeds ` +
                        `${LZMA_MEMLIMIT >> 20} MiB)`);
      }
      if (!produced && stream.availIn === 0) throw new Error("truncated stream");
    }
  } finally {
    module._free(inPtr);
    module._free(outPtr);
    end(stream);
    stream.free();
  }
  return concat(parts, size);
}

/**
 * @param {Uint8Array[]} parts
 * @param {number} size their total length
 */
function concat(parts, size) {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
