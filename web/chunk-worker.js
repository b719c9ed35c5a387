// One chunk worker of the pool (chunk-pool.js): fetches chunks and decodes them with the WASM codecs
// of codecs.js, on its own core, serving rpc.js calls; results are transferred. A cancelled call's
// fetch is aborted. Ready once the codecs are warm.
//
//   "fetch"  {url, range, ms, headers}         -> fetchBytes' reply (the body transferred)
//   "decode" {name, bytes (transferred), limit} -> Uint8Array (transferred)
import { decode, warm } from "./codecs.js";
import { fetchBytes, owned } from "./chunk-pool.js";
import { serve, transferring } from "./rpc.js";

serve(/** @type {any} */ (self), {
  fetch: async ({ url, range, ms, headers }, { signal }) => {
    const reply = await fetchBytes(url, range, ms, headers, signal);
    return transferring(reply, reply[2] ? [reply[2].buffer] : []);
  },
  decode: async ({ name, bytes, limit }) => {
    const out = owned(await decode(name, bytes, limit));
    return transferring(out, [out.buffer]);
  },
}, { ready: warm() });
