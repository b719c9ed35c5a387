// Chunk workers: a few module Web Workers (chunk-worker.js) that fetch chunks and decode the large
// compressed ones on other cores, so the zarrlite worker is left with Python: its own CPU time for a
// 2048² plane of 16 zstd chunks went from ~55 ms to ~26 ms here.
// Python sees the pool as two modules, `zarrlite_jsfetch` (`fetch`, and for the bodies a chunk worker
// holds: `decodeHeld`, `readHeld`, `dropHeld`) and `zarrlite_jscodecs` (`names`, `decode`). The
// workers start when `start()` is called (the zarrlite worker does so once the first read is out:
// starting them takes CPU the first picture needs). Until they are ready, and for small
// chunks (a message round trip costs more than decoding them) and blob: URLs, the work is done in the
// zarrlite worker itself. A chunk worker that dies (fails to start, throws at its top level, or goes
// silent: a live one answers a fetch within the fetch's own timeout) has its pending work done here; one that had been working is replaced, `size` times at most in all
// (a pool whose workers keep dying goes on with fewer, down to none).

import { WorkerDiedError, connect } from "./rpc.js";

const INLINE_BELOW = 64 << 10;
const SILENT_MS = 2000;  // past a fetch's timeout, a chunk worker that has not answered it is dead

/**
 * GET `url` (optionally a byte range) with `headers`: [status, statusText, body (for 200/206) or null,
 * Content-Range or null, Content-Length or null]. What the answer means is decided in Python
 * (py/zarrlite/stores/http_rules.py, browser_fetch.py). Chromium rejects a CORS refusal and a broken
 * connection alike ("TypeError: Failed to fetch"), so such a request resolves with status 0 (the Fetch
 * standard's network error) and, as its statusText, what was seen:
 *   "body"     the answer began (status and headers came), then its body broke off
 *   "refused"  nothing readable came, yet the server answers a no-cors request for the same URL (whose
 *              answer a page may not read, so CORS does not apply): a CORS refusal, or a failure that
 *              has healed since
 *   "network"  nothing came, and nothing to the no-cors request either: the connection fails
 * A timed-out or aborted request rejects ("TimeoutError", "AbortError").
 * @param {string} url
 * @param {string | null} range a Range header value
 * @param {number} ms timeout
 * @param {Record<string, string> | null} [headers] more request headers
 * @param {AbortSignal | null} [signal] aborts the request (with the timeout, whichever comes first)
 * @returns {Promise<[number, string, Uint8Array | null, string | null, string | null]>}
 */
export async function fetchBytes(url, range, ms, headers = null, signal = null) {
  const timeout = AbortSignal.timeout(ms);
  const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  /** @type {RequestInit} */
  const init = { signal: stop };
  if (range || headers) init.headers = range ? { ...headers, Range: range } : { ...headers };
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;  // a time-out or an abort: a DOMException
    return [0, (await answersNoCors(url, stop)) ? "refused" : "network", null, null, null];
  }
  let body = null;
  if (resp.status === 200 || resp.status === 206) {
    try {
      body = new Uint8Array(await resp.arrayBuffer());
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      return [0, "body", null, null, null];
    }
  }
  return [resp.status, resp.statusText, body, resp.headers.get("Content-Range"), resp.headers.get("Content-Length")];
}

/** Whether the server answers a no-cors GET of `url` (not from the cache); its body is not read. */
async function answersNoCors(url, stop) {
  const done = new AbortController();
  try {
    await fetch(url, { mode: "no-cors", cache: "no-store", signal: AbortSignal.any([stop, done.signal]) });
    return true;
  } catch (err) {
    if (stop.aborted) throw err;
    return false;
  } finally {
    done.abort();
  }
}

/** `data` itself when it owns its whole buffer (then it can be transferred), else a copy that does. */
export function owned(data) {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
}

/**
 * @typedef {{fetch: {inline: number, workers: number, retried: number, held: number},
 *   decode: {inline: number, workers: number, retried: number}, workers: number, replaced: number}} PoolStats
 *   requests and chunks handled here (`inline`), by chunk workers, and done here again because their
 *   chunk worker died (`retried`); bodies a chunk worker kept (`held`); the chunk workers alive, and
 *   how many were replaced
 */

/**
 * @param {{names: string[], decode: (name: string, data: Uint8Array, limit: number) => Promise<Uint8Array>,
 *   crc32c: (data: Uint8Array) => number | null}} codecs codecs.js, loaded in this worker
 * @param {URL} workerURL chunk-worker.js
 * @param {number} size chunk workers to start (0: everything here)
 */
export function chunkPool(codecs, workerURL, size) {
  /** @type {{worker: Worker, rpc: import("./rpc.js").Client, ready: boolean}[]} */
  const helpers = [];
  const counts = { fetch: { inline: 0, workers: 0, retried: 0, held: 0 }, decode: { inline: 0, workers: 0, retried: 0 },
                   replaced: 0 };

  const spawn = () => {
    const worker = new Worker(workerURL, { type: "module" });
    // A dead helper has had its pending calls rejected (they are retried here); later work goes to the
    // others, or stays here.
    const onEnd = err => {
      console.warn(`zarrlite: ${err.message}`);
      const at = helpers.indexOf(helper);
      if (at >= 0) helpers.splice(at, 1);
      worker.terminate();
      if (helper.ready && counts.replaced < size) {
        counts.replaced++;
        spawn();
      }
    };
    const helper = { worker, rpc: connect(worker, { name: "chunk worker", onEnd }), ready: false };
    helper.rpc.ready.then(() => { helper.ready = true; }, () => {});
    helpers.push(helper);
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
    for (const h of helpers) if (h.ready && (!best || h.rpc.pending() < best.rpc.pending())) best = h;
    return best;
  };

  /**
   * `fetchBytes`, on a chunk worker when one is ready; `signal` (the Python request's) aborts it. With
   * `hold` (how many first bytes Python checks: stores/base.py HeldValue.HEAD_BYTES), a large body may
   * stay on that chunk worker: the reply's sixth entry then says so (see chunk-worker.js; `helper`
   * added here), for `decodeHeld`, `readHeld` and `dropHeld`.
   */
  function fetchOn(url, range, ms, headers = null, signal = null, hold = 0) {
    const helper = url.startsWith("blob:") ? null : idle();
    counts.fetch[helper ? "workers" : "inline"]++;
    if (!helper) return fetchBytes(url, range, ms, headers, signal);
    const silent = setTimeout(() => {
      helper.rpc.close(new WorkerDiedError(`chunk worker stopped: no answer to a fetch in ${(ms + SILENT_MS) / 1000} s`));
    }, ms + SILENT_MS);
    return helper.rpc.call("fetch", { url, range, ms, headers, hold }, { signal: signal ?? undefined })
      .then(reply => {
        if (reply[5]) {
          reply[5].helper = helper;
          counts.fetch.held++;
        }
        return reply;
      })
      .catch(err => {
        if (!(err instanceof WorkerDiedError)) throw err;
        counts.fetch.retried++;
        return fetchBytes(url, range, ms, headers, signal);
      })
      .finally(() => clearTimeout(silent));
  }

  /** Decode one chunk (the Python side checks sizes first; see py/zarrlite/codecs/browser.py). */
  function decode(name, data, limit) {
    const helper = data.byteLength >= INLINE_BELOW ? idle() : null;
    counts.decode[helper ? "workers" : "inline"]++;
    if (!helper) return codecs.decode(name, data, limit);
    const bytes = data.slice();  // `data` kept for a retry here (copying 1 MiB takes ~0.1 ms)
    return helper.rpc.call("decode", { name, bytes, limit }, { transfer: [bytes.buffer] })
      .catch(err => {
        if (!(err instanceof WorkerDiedError)) throw err;
        counts.decode.retried++;
        return codecs.decode(name, data, limit);
      });
  }

  /** The chunk worker holding `held` died: its bytes are gone (Python fetches them again). */
  const gone = err => {
    if (!(err instanceof WorkerDiedError)) throw err;
    throw Object.assign(new Error(`the chunk worker holding the bytes stopped (${err.message})`), { name: "HeldGone" });
  };

  /**
   * Decode held bytes on their chunk worker (the Python side checks sizes first). Rejects with an
   * error named "HeldGone" when they are no longer held.
   * @param {{handle: number, helper: typeof helpers[number]}} held
   * @param {string} name
   * @param {number} limit
   * @returns {Promise<Uint8Array>}
   */
  function decodeHeld(held, name, limit) {
    counts.decode.workers++;
    return held.helper.rpc.call("decode", { name, handle: held.handle, limit }).catch(gone);
  }

  /** A copy of held bytes (as `decodeHeld`). @returns {Promise<Uint8Array>} */
  function readHeld(held) {
    return held.helper.rpc.call("read", { handle: held.handle }).catch(gone);
  }

  /** Let held bytes go (nothing to wait for; a dead chunk worker has let them go already). */
  function dropHeld(held) {
    held.helper.rpc.call("drop", { handle: held.handle }).catch(() => {});
  }

  /** @returns {PoolStats} */
  const stats = () => ({ fetch: { ...counts.fetch }, decode: { ...counts.decode }, replaced: counts.replaced,
                         workers: helpers.length });

  return { fetch: { fetch: fetchOn, decodeHeld, readHeld, dropHeld }, codecs: { names: codecs.names, decode, crc32c: codecs.crc32c }, stats, start };
}
