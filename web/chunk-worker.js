// One chunk worker of the pool (chunk-pool.js): fetches chunks and decodes them with the WASM codecs
// of codecs.js, on its own core. Results are transferred.
//
// Requests: { id, op: "fetch", url, range, ms }  ->  { id, result: [status, statusText, body] }
//           { id, op: "decode", name, bytes (transferred), limit }  ->  { id, result: Uint8Array }
// Failures: { id, error: { name, message } }.  Once, when started: { ready: true }.
import { decode, warm } from "./codecs.js";
import { fetchBytes, owned } from "./chunk-pool.js";

self.onmessage = async ({ data: msg }) => {
  try {
    if (msg.op === "fetch") {
      const result = await fetchBytes(msg.url, msg.range, msg.ms);
      self.postMessage({ id: msg.id, result }, result[2] ? [result[2].buffer] : []);
    } else {
      const result = owned(await decode(msg.name, msg.bytes, msg.limit));
      self.postMessage({ id: msg.id, result }, [result.buffer]);
    }
  } catch (err) {
    self.postMessage({ id: msg.id, error: { name: (err && err.name) || "Error", message: String((err && err.message) || err) } });
  }
};

warm().then(() => self.postMessage({ ready: true }));
