// One decoder of the codec pool (codec-pool.js): a module Web Worker that decodes chunks with the WASM
// codecs of codecs.js, on its own core.
//
// Request:  { id, name, bytes: Uint8Array (transferred), limit }
// Reply:    { id, out: Uint8Array (transferred) } or { id, error }; { ready: true } once, at start
import { decode, warm } from "./codecs.js";

self.onmessage = async ({ data: { id, name, bytes, limit } }) => {
  try {
    const out = await decode(name, bytes, limit);
    const owned = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
    self.postMessage({ id, out: owned }, [owned.buffer]);
  } catch (err) {
    self.postMessage({ id, error: String((err && err.message) || err) });
  }
};

warm().then(() => self.postMessage({ ready: true }));
