// One chunk worker of the pool (chunk-pool.js): fetches chunks and decodes them with the WASM codecs
// of codecs.js, on its own core, serving rpc.js calls; results are transferred. A cancelled call's
// fetch is aborted. Ready once the codecs are warm.
//
// A fetch with `hold` keeps a large body here instead of sending it: the reply says where it is held
// (`held`: handle, size and the first `hold` bytes, from which Python checks the header's stated size),
// and a later "decode" of that handle decodes it here. The compressed bytes then never cross to the
// zarrlite worker and back. Held bodies stay until Python drops them (its object for them is garbage:
// a read is done with it, or the chunk cache let it go); past HOLD_MAX bytes held, bodies are sent as
// without `hold`.
//
//   "fetch"  {url, range, ms, headers, hold}    -> fetchBytes' reply (the body transferred), or with the
//                                                  body held: [status, statusText, null, contentRange,
//                                                  contentLength, {handle, size, head}]
//   "decode" {name, bytes (transferred) | handle, limit} -> Uint8Array (transferred)
//   "read"   {handle} -> a copy of the held body (transferred);  "drop" {handle} -> nothing
// A handle not held (dropped, taken, or never) fails with an error named "HeldGone".
import { decode, warm } from "./codecs.js";
import { fetchBytes, owned } from "./chunk-pool.js";
import { serve, transferring } from "./rpc.js";

const HOLD_BELOW = 64 << 10;   // smaller bodies are sent: the zarrlite worker decodes them itself
const HOLD_MAX = 128 << 20;    // bytes held at most (a Python cache of held chunks keeps 64 MiB)

/** @type {Map<number, Uint8Array>} by handle; `self.zarrliteHeld` for a debugger (the tests) */
const held = new Map();
/** @type {any} */ (self).zarrliteHeld = held;
let heldBytes = 0;
let nextHandle = 1;

function heldBody(handle) {
  const body = held.get(handle);
  if (!body) throw Object.assign(new Error(`chunk bytes ${handle} are no longer held here`), { name: "HeldGone" });
  return body;
}

serve(/** @type {any} */ (self), {
  fetch: async ({ url, range, ms, headers, hold }, { signal }) => {
    const reply = await fetchBytes(url, range, ms, headers, signal);
    const body = reply[2];
    if (hold && body && body.byteLength >= HOLD_BELOW && heldBytes + body.byteLength <= HOLD_MAX) {
      const handle = nextHandle++;
      held.set(handle, body);
      heldBytes += body.byteLength;
      return [reply[0], reply[1], null, reply[3], reply[4],
              { handle, size: body.byteLength, head: body.slice(0, hold) }];
    }
    return transferring(reply, body ? [body.buffer] : []);
  },
  decode: async ({ name, bytes, handle, limit }) => {
    const out = owned(await decode(name, bytes ?? heldBody(handle), limit));
    return transferring(out, [out.buffer]);
  },
  read: async ({ handle }) => {
    const copy = heldBody(handle).slice();
    return transferring(copy, [copy.buffer]);
  },
  drop: async ({ handle }) => {
    const body = held.get(handle);
    if (body) { held.delete(handle); heldBytes -= body.byteLength; }
  },
}, { ready: warm() });
