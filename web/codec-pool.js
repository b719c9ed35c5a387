// The browser codec back-end as Python sees it (`zarrlite_jscodecs`: `names`, `decode`), spreading the
// decoding of large chunks over a few decoder workers (codec-worker.js) so that it runs on other cores
// while the zarrlite worker fetches and assembles: a plane of 16 zstd chunks spent ~30 ms decoding on
// the worker's own thread. Small chunks, and everything until the decoders are ready, decode inline:
// a message round trip costs more than they do.

const INLINE_BELOW = 64 << 10;

/**
 * @param {{names: string[], decode: (name: string, data: Uint8Array, limit: number) => Promise<Uint8Array>}} codecs
 *   codecs.js, loaded in this worker
 * @param {URL} workerURL codec-worker.js
 * @param {number} size decoders to start (0: decode everything inline)
 * @returns {{names: string[], decode: (name: string, data: Uint8Array, limit: number) => Promise<Uint8Array>,
 *   stats: {inline: number, workers: number, decoders: number}}} `stats` counts chunks decoded here and
 *   on decoder workers, and the decoders alive
 */
export function codecPool(codecs, workerURL, size) {
  const decoders = [];  // {worker, ready, busy}
  const pending = new Map();  // id -> {resolve, reject, decoder}
  const stats = { inline: 0, workers: 0, decoders: 0 };
  let next = 1;

  const failed = (decoder, message) => {
    const at = decoders.indexOf(decoder);
    if (at < 0) return;
    decoders.splice(at, 1);  // later chunks go to the others, or inline
    stats.decoders = decoders.length;
    decoder.worker.terminate();
    for (const [id, p] of pending) {
      if (p.decoder === decoder) { pending.delete(id); p.reject(new Error(`decoder worker failed: ${message}`)); }
    }
  };
  for (let i = 0; i < size; i++) {
    const decoder = { worker: new Worker(workerURL, { type: "module" }), ready: false, busy: 0 };
    decoder.worker.onmessage = ({ data }) => {
      if (data.ready) { decoder.ready = true; return; }
      const p = pending.get(data.id);
      if (!p) return;
      pending.delete(data.id);
      decoder.busy--;
      if (data.error) p.reject(new Error(data.error));
      else p.resolve(data.out);
    };
    decoder.worker.onerror = e => { e.preventDefault(); failed(decoder, e.message || "it did not start"); };
    decoders.push(decoder);
  }
  stats.decoders = decoders.length;

  /** Decode one chunk (the Python side checks sizes; see py/zarrlite/codecs/browser.py). */
  function decode(name, data, limit) {
    let decoder = null;
    if (data.byteLength >= INLINE_BELOW) {
      for (const d of decoders) if (d.ready && (!decoder || d.busy < decoder.busy)) decoder = d;
    }
    if (!decoder) {
      stats.inline++;
      return codecs.decode(name, data, limit);
    }
    stats.workers++;
    // Transfer when `data` owns its buffer (the copy Python's to_js made), else send a copy.
    const bytes = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    const id = next++;
    decoder.busy++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, decoder });
      decoder.worker.postMessage({ id, name, bytes, limit }, [bytes.buffer]);
    });
  }

  return { names: codecs.names, decode, stats };
}
