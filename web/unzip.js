// Read the files of a zip archive (a wheel) with the platform's own inflate (DecompressionStream
// "deflate-raw"): native code, ~10x less CPU than inflating in JS (fflate took ~0.5-0.8 s for numpy's
// and zarrlite's 15 MB of files here, on the cores Pyodide boots on). The archive's whole bytes are in
// memory (a wheel is fetched whole, its sha256 checked), so the central directory is read from its end.

const EOCD = 0x06054b50;     // end of central directory record
const CENTRAL = 0x02014b50;  // central directory file header
const LOCAL = 0x04034b50;    // local file header

/**
 * The files of a zip archive, by path (directory entries left out), each in a buffer of its own.
 * Stored (0) and deflated (8) entries only, no zip64 and no encryption (wheels have none of these);
 * anything else, or an entry whose inflated size is not the one its header gives, throws.
 * @param {Uint8Array} zip
 * @returns {Promise<[string, Uint8Array][]>}
 */
export async function unzip(zip) {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const u16 = at => view.getUint16(at, true), u32 = at => view.getUint32(at, true);
  let end = zip.byteLength - 22;  // the record is 22 bytes plus a comment of at most 65535
  while (end >= 0 && end >= zip.byteLength - 22 - 0xffff && u32(end) !== EOCD) end--;
  if (end < 0 || u32(end) !== EOCD) throw new Error("not a zip archive (no end of central directory)");
  const count = u16(end + 10);
  let at = u32(end + 16);
  const names = new TextDecoder();
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.byteLength || u32(at) !== CENTRAL) throw new Error(`zip: central directory entry ${i} is broken`);
    const flags = u16(at + 8), method = u16(at + 10), packed = u32(at + 20), size = u32(at + 24);
    const nameLength = u16(at + 28), local = u32(at + 42);
    const name = names.decode(zip.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + u16(at + 30) + u16(at + 32);
    if (name.endsWith("/")) continue;
    if (flags & 1) throw new Error(`zip: ${name} is encrypted`);
    if (packed === 0xffffffff || size === 0xffffffff || local === 0xffffffff) throw new Error(`zip: ${name} needs zip64`);
    if (method !== 0 && method !== 8) throw new Error(`zip: ${name} uses compression method ${method}`);
    if (local + 30 > zip.byteLength || u32(local) !== LOCAL) throw new Error(`zip: ${name}: no local header`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + packed > zip.byteLength) throw new Error(`zip: ${name} runs past the archive's end`);
    entries.push({ name, method, size, data: zip.subarray(start, start + packed) });
  }
  return Promise.all(entries.map(async ({ name, method, size, data }) => {
    if (method === 0) {
      if (data.byteLength !== size) throw new Error(`zip: ${name}: stored size ${data.byteLength}, header says ${size}`);
      return /** @type {[string, Uint8Array]} */ ([name, data.slice()]);
    }
    return /** @type {[string, Uint8Array]} */ ([name, await inflate(name, data, size)]);
  }));
}

/** Inflate a raw deflate stream of `size` bytes into a buffer of its own. */
async function inflate(name, data, size) {
  const out = new Uint8Array(size);
  const stream = new DecompressionStream("deflate-raw");
  const writer = stream.writable.getWriter();
  writer.write(data).catch(() => {});   // a broken stream shows in the reader below
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (filled + value.byteLength > size) throw new Error(`inflates past the ${size} bytes its header says`);
      out.set(value, filled);
      filled += value.byteLength;
    }
  } catch (err) {
    throw new Error(`zip: ${name}: ${err.message}`, { cause: err });
  }
  if (filled !== size) throw new Error(`zip: ${name}: inflates to ${filled} bytes, its header says ${size}`);
  return out;
}
