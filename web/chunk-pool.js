// Chunk workers: a few module Web Workers (chunk-worker.js) that fetch chunks and decode the large
// compressed ones on other cores, so the zarrlite worker is left with Python: its own CPU time for a
// 2048² plane of 16 zstd chunks went from ~55 ms to ~26 ms here.
// Python sees the pool as two modules, `zarrlite_jsfetch` (`fetch`) and `zarrlite_jscodecs` (`names`,
// `decode`). The workers start when `start()` is called (the zarrlite worker does so once the first
// read is out: starting them takes CPU the first picture needs). Until they are ready, and for small
// chunks (a message round trip costs more than decoding them) and blob: URLs, the work is done in the
// zarrlite worker itself.

const INLINE_BELOW = 64 << 10;

/**
 * GET `url` (optionally a byte range) with `headers`: [status, statusText, body (for 200/206) or null,
 * Content-Range or null, Content-Length or null]. What the answer means is decided in Python
 * (py/zarrlite/stores/http_rules.py). A failed, timed-out or aborted request rejects ("TypeError:
 * Failed to fetch" for CORS and network errors, "TimeoutError", "AbortError").
 * @param {string} url
 * @param {string | null} range a Range header value
 * @param {number} ms timeout
 * @param {Record<string, string> | null} [headers] more request headers
 * @param {AbortSignal | null} [signal] aborts the request (with the timeout, whichever comes first)
 * @returns {Promise<[number, string, Uint8Array | null, string | null, string | null]>}
 */
export async function fetchBytes(url, range, ms, headers = null, signal = null) {
  const timeout = AbortSignal.timeout(ms);
  /** @type {RequestInit} */
  const init = { signal: signal ? AbortSignal.any([signal, timeout]) : timeout };
  if (range || headers) init.headers = range ? { ...headers, Range: range } : { ...headers };
  const resp = await fetch(url, init);
  const ok = resp.status === 200 || resp.status === 206;
  const body = ok ? new Uint8Array(await resp.arrayBuffer()) : null;
  return [resp.status, resp.statusText, body, resp.headers.get("Content-Range"), resp.headers.get("Content-Length")];
}

/** `data` itself when it owns its whole buffer (then it can be transferred), else a copy that does. */
export function owned(data) {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
}

/**
 * @typedef {{fetch: {inline: number, workers: number}, decode: {inline: number, workers: number},
 *   workers: number}} PoolStats requests and chunks handled here (`inline`) and by chunk workers, and
 *   the chunk workers alive
 */

/**
 * @param {{names: string[], decode: (name: string, data: Uint8Array, limit: number) => Promise<Uint8Array>}} codecs
 *   codecs.js, loaded in this worker
 * @param {URL} workerURL chunk-worker.js
 * @param {number} size chunk workers to start (0: everything here)
 */
export function chunkPool(codecs, workerURL, size) {
  const workers = [];  // {worker, ready, busy}
  const pending = new Map();  // id -> {resolve, reject, helper}
  const counts = { fetch: { inline: 0, workers: 0 }, decode: { inline: 0, workers: 0 } };
  let next = 1;

  const failed = (helper, message) => {
    const at = workers.indexOf(helper);
    if (at < 0) return;
    workers.splice(at, 1);  // later work goes to the others, or stays here
    helper.worker.terminate();
    for (const [id, p] of pending) {
      if (p.helper === helper) { pending.delete(id); p.reject(new Error(`chunk worker failed: ${message}`)); }
    }
  };
  const spawn = () => {
    const helper = { worker: new Worker(workerURL, { type: "module" }), ready: false, busy: 0 };
    helper.worker.onmessage = ({ data }) => {
      if (data.ready) { helper.ready = true; return; }
      const p = pending.get(data.id);
      if (!p) return;
      pending.delete(data.id);
      helper.busy--;
      if (data.error) p.reject(Object.assign(new Error(data.error.message), { name: data.error.name }));
      else p.resolve(data.result);
    };
    helper.worker.onerror = e => { e.preventDefault(); failed(helper, e.message || "it did not start"); };
    workers.push(helper);
  };
  let started = false;
  /** Start the chunk workers (once). */
  const start = () => {
    if (started) return;
    started = true;
    for (let i = 0; i < size; i++) spawn();
  };

  const idle = () => {
    let best = null;
    for (const w of workers) if (w.ready && (!best || w.busy < best.busy)) best = w;
    return best;
  };
  const post = (helper, message, transfer = []) => {
    const id = next++;
    helper.busy++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, helper });
      helper.worker.postMessage({ ...message, id }, transfer);
    });
  };

  /** `fetchBytes`, on a chunk worker when one is ready. */
  function fetchOn(url, range, ms) {
    const helper = url.startsWith("blob:") ? null : idle();
    counts.fetch[helper ? "workers" : "inline"]++;
    return helper ? post(helper, { op: "fetch", url, range, ms }) : fetchBytes(url, range, ms);
  }

  /** Decode one chunk (the Python side checks sizes first; see py/zarrlite/codecs/browser.py). */
  function decode(name, data, limit) {
    const helper = data.byteLength >= INLINE_BELOW ? idle() : null;
    counts.decode[helper ? "workers" : "inline"]++;
    if (!helper) return codecs.decode(name, data, limit);
    const bytes = owned(data);
    return post(helper, { op: "decode", name, bytes, limit }, [bytes.buffer]);
  }

  /** @returns {PoolStats} */
  const stats = () => ({ ...counts, workers: workers.length });

  return { fetch: { fetch: fetchOn }, codecs: { names: codecs.names, decode }, stats, start };
}
