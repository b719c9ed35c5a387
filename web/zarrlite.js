// zarrlite in the browser: the main-thread API. A thin shim over a module Web Worker that runs the
// Python reader on Pyodide; results come back as transferred buffers, so the page never freezes and
// nothing is copied twice.
//
//   const zl = await Zarrlite.create({ onProgress: p => console.log(p.stage) });
//   const tree = await zl.open("https://example.org/data.zarr");
//   const { data, shape, dtype } = await zl.read("raw", "0,:,:");
//   canvas.getContext("2d").drawImage(await zl.render("raw", "0", { window: "auto" }), 0, 0);
//   const controller = new AbortController();   // every call takes { signal } last
//   zl.read("raw", "1,:,:", { signal: controller.signal }); controller.abort();  // rejects: AbortError
//   zl.close();
//
// When the worker dies (Pyodide's fatal error: a stack overflow or an out-of-memory in WASM; a script
// error), its pending calls reject with a WorkerDiedError and a new worker starts with the same options,
// re-opening the last source that opened; calls made meanwhile wait for it. `onRestart` hears of it.
// `zl._worker` is the current Worker (for a debugger).
import { reviveJSON, selectionString, typedArray, unpackValues } from "./protocol.js";
import { WorkerDiedError, abortError, connect } from "./rpc.js";

export { WorkerDiedError };

/** @typedef {import("./protocol.js").Node} Node */
/** @typedef {import("./protocol.js").RenderOptions} RenderOptions */

/**
 * @typedef {object} CreateOptions
 * @property {string | URL} [baseURL] where zarrlite.js, worker.js and pyodide/ are served (default:
 *   this module's folder)
 * @property {(p: {stage: string, loaded: number, total: number, ms: number}) => void} [onProgress]
 *   start-up stages ("pyodide", "packages", "codecs", "ready"); `ms` since the worker started
 * @property {string} [pyodideURL] a different Pyodide distribution (folder URL ending in "/", e.g. a
 *   full one on a CDN or on disk); its own numpy/numcodecs are then used and the zarrlite wheel is
 *   installed from `baseURL`
 * @property {number} [chunkWorkers] workers that fetch chunks and decode the large compressed ones
 *   (blosc, zstd, lz4, xz) on other cores, started once the first read is out (default: the number of
 *   cores, at most 4; 0: all of it in the zarrlite worker)
 * @property {(r: Restart) => void} [onRestart] the worker died and is restarting, or has restarted
 */

/**
 * What `onRestart` hears: `stage` "restarting" (the worker died of `cause`; its pending calls have
 * rejected), then "restarted" (`reopened`: the last source is open again, else `error` says why not) or
 * "failed" (the new worker did not start either, `error`; calls reject from then on).
 * @typedef {{stage: "restarting" | "restarted" | "failed", cause: Error, reopened?: boolean,
 *   error?: Error}} Restart
 */

/**
 * One worker and its start-up: `init`, then the re-opened source after a restart (`state` says which
 * is under way, "ready" once both are done).
 * @typedef {{worker: Worker, rpc: import("./rpc.js").Client, state: "starting" | "reopening" | "ready",
 *   ready: Promise<{reopened: boolean, error?: Error}>}} Runtime
 */

/**
 * @typedef {object} ReadResult
 * @property {import("./protocol.js").Values["data"]} data the values, C order: a typed array for numbers
 *   (a BigInt64Array for int64, Float32Array for float16, interleaved re/im floats for complex); for
 *   strings `string[]`, bytes `Uint8Array[]`, json2 arrays their JSON values, datetimes and timedeltas a
 *   BigInt64Array of counts of `scale` x `unit` (NaT: the int64 minimum), structured values
 *   `{fields: {name: {data, shape, dtype, ...}}}` (see protocol.js Values)
 * @property {number[]} shape of `data`, numpy's (a 0-d result: []; complex: plus a trailing 2)
 * @property {string} dtype of `data`, numpy `dtype.str` ("<u2", "<i8"), or "str", "bytes", "json", "struct"
 * @property {string} sourceDtype the array's own dtype (">u2", "<f2", "<c8", "<M8[ns]", "StringDType()", ...)
 * @property {string} [kind] for packed values: "datetime64", "timedelta64", "str", "bytes", "json", "struct"
 * @property {string} [unit] of datetimes and timedeltas ("s", "ns", "D", "generic")
 * @property {number} [scale] of datetimes and timedeltas: `data` counts units of `scale` x `unit`
 */

/** @typedef {import("./protocol.js").HttpOptions} HttpOptions */

/** @typedef {{signal?: AbortSignal}} CallOptions aborting `signal` rejects the call with an AbortError
 *  and cancels its work in the worker (the Python task and its fetches) */

export class Zarrlite {
  /** @param {{baseURL: string, pyodideURL: string | null, chunkWorkers: number | null}} init */
  constructor(init) {
    this._init = init;
    /** @type {CreateOptions["onProgress"] | null} */
    this.onProgress = null;
    /** @type {CreateOptions["onRestart"] | null} */
    this.onRestart = null;
    /** @type {import("./protocol.js").Source | null} the last source that opened */
    this._source = null;
    /** @type {Error | null} set by close() */
    this._closed = null;
    /** @type {Runtime} */
    this._runtime = this._start(null);
  }

  /** The current worker. */
  get _worker() {
    return this._runtime.worker;
  }

  /**
   * Start the worker and load Pyodide, numpy and the zarrlite wheel. Rejects with a clear error when
   * the worker cannot start (worker.js missing, a script error).
   * @param {CreateOptions & CallOptions} [options]
   * @returns {Promise<Zarrlite>}
   */
  static async create(options = {}) {
    const base = new URL(options.baseURL ?? ".", import.meta.url).href;
    const baseURL = base.endsWith("/") ? base : base + "/";
    const zl = new Zarrlite({ baseURL, pyodideURL: options.pyodideURL ?? null,
                              chunkWorkers: options.chunkWorkers ?? null });
    zl.onProgress = options.onProgress ?? null;
    zl.onRestart = options.onRestart ?? null;
    const abort = () => zl.close();
    options.signal?.addEventListener("abort", abort);
    try {
      options.signal?.throwIfAborted();
      await zl._runtime.ready;
    } catch (err) {
      zl.close();
      throw options.signal?.aborted ? abortError(options.signal) : err;
    } finally {
      options.signal?.removeEventListener("abort", abort);
    }
    return zl;
  }

  /**
   * A new worker: `init`, then `reopen` (the last source) when restarting.
   * @param {import("./protocol.js").Source | null} reopen
   * @returns {Runtime}
   */
  _start(reopen) {
    const worker = new Worker(new URL("worker.js", this._init.baseURL), { type: "module" });
    const rpc = connect(worker, { name: "zarrlite worker", onEvent: p => this.onProgress?.(p),
                                  onEnd: err => this._ended(runtime, err) });
    /** @type {Runtime} */
    const runtime = { worker, rpc, state: "starting", ready: Promise.resolve({ reopened: false }) };
    runtime.ready = (async () => {
      await rpc.call("init", this._init);
      runtime.state = "reopening";
      try {
        if (reopen) await rpc.call("open", { source: reopen });
        return { reopened: Boolean(reopen) };
      } catch (error) {
        return { reopened: false, error };
      } finally {
        runtime.state = "ready";
      }
    })();
    runtime.ready.catch(() => {});  // create() and the calls see it
    return runtime;
  }

  /**
   * A worker's client ended: close(), or the worker died. A worker that had started is replaced; the
   * last source is re-opened unless the worker died re-opening it (one that dies while starting is not
   * replaced: create() or the restart fails).
   * @param {Runtime} runtime
   * @param {Error} cause
   */
  _ended(runtime, cause) {
    runtime.worker.terminate();
    if (this._closed || runtime !== this._runtime || runtime.state === "starting") return;
    this.onRestart?.({ stage: "restarting", cause });
    const next = this._runtime = this._start(runtime.state === "ready" ? this._source : null);
    next.ready.then(({ reopened, error }) => {
      if (next === this._runtime) this.onRestart?.({ stage: "restarted", cause, reopened, error });
    }, error => {
      if (next === this._runtime && !this._closed) this.onRestart?.({ stage: "failed", cause, error });
    });
  }

  /**
   * Call the worker (the current one, once it is ready). A call that its worker's death ended rejects
   * with a WorkerDiedError saying so.
   * @param {string} op
   * @param {any} args
   * @param {{signal?: AbortSignal}} [options]
   */
  async _call(op, args, { signal } = {}) {
    if (this._closed) throw this._closed;
    const runtime = this._runtime;
    try {
      await untilAborted(runtime.ready, signal);
    } catch (err) {
      if (err?.name === "AbortError") throw err;
      throw this._closed ?? new WorkerDiedError(
        `the zarrlite runtime stopped and could not be restarted (${err.message})`, { cause: err });
    }
    try {
      return await runtime.rpc.call(op, args, { signal });
    } catch (err) {
      if (!(err instanceof WorkerDiedError) || this._closed) throw err;
      const why = err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : err.message;
      throw new WorkerDiedError(`the zarrlite runtime stopped (${why}) and is restarting; call again`,
                                { cause: err });
    }
  }

  /**
   * Open a source and return its hierarchy.
   * @param {string | URL | FileList | File[] | FileSystemDirectoryHandle | File} source a URL, the files
   *   of a folder (from `<input webkitdirectory>` or a drop; each file's `webkitRelativePath`, or a
   *   `relativePath` property you set, gives its place), a directory handle, or a `.zip` File
   * @param {CallOptions & HttpOptions} [options] `headers`, `retries`, `timeout`, `backoff` for a URL;
   *   `region`, `endpoint_url` (and `addressing_style`, `account_name`) for an `s3://` `gs://` `az://` URL
   * @returns {Promise<Node>}
   */
  async open(source, { signal, ...http } = {}) {
    const sent = toSource(source, http);
    this._source = null;  // a source that kills the worker as it opens is not re-opened
    const tree = await this._call("open", { source: sent }, { signal });
    this._source = sent;
    return tree;
  }

  /**
   * Read a selection of an array.
   * @param {string} path the array's path inside the opened source ("" for a root array)
   * @param {string | (number | null | (number | null)[])[]} [selection] "0,12,:,100:900:2" or
   *   [0, 12, null, [100, 900, 2]]; omitted trailing dimensions mean everything
   * @param {CallOptions} [options]
   * @returns {Promise<ReadResult>}
   */
  async read(path, selection, { signal } = {}) {
    const r = await this._call("read", { path, selection: selectionString(selection) }, { signal });
    if (r.layout) return { ...unpackValues(r.buffer, reviveJSON(r.layout)), sourceDtype: r.sourceDtype };
    return { data: typedArray(r.buffer, r.dtype), shape: r.shape, dtype: r.dtype, sourceDtype: r.sourceDtype };
  }

  /**
   * Render a 2-D selection (or channels x 2-D) to RGBA: window/level, colormap, channel composite.
   * @param {string} path
   * @param {string | (number | null | (number | null)[])[]} selection must leave 2 dimensions (3 with `channels`)
   * @param {RenderOptions} [options] window [lo, hi] or "auto" (0.1/99.9 percentiles), colormap "gray" |
   *   "viridis" | "magma" | "inferno" | "#rrggbb", invert; channels: [{index, color, window, visible}]
   *   composited additively along `channelAxis` (default 0)
   * @param {CallOptions} [callOptions]
   * @returns {Promise<ImageBitmap | ImageData>} an ImageBitmap where createImageBitmap exists
   */
  async render(path, selection, options = {}, { signal } = {}) {
    const r = await this._call("render", { path, selection: selectionString(selection), options }, { signal });
    const image = new ImageData(new Uint8ClampedArray(r.buffer), r.width, r.height);
    return typeof createImageBitmap === "function" ? createImageBitmap(image) : image;
  }

  /**
   * Call a helper of `zarrlite.viewer_api` in the worker (the viewer page's extras: "describe",
   * "chunk_map", "evaluate", "colormaps"). Arrays come back as `{data: TypedArray, shape, dtype, ...}`.
   * @param {string} fn
   * @param {any[]} [args] JSON-serialisable arguments
   * @param {CallOptions} [options]
   * @returns {Promise<any>}
   */
  async viewer(fn, args = [], { signal } = {}) {
    const r = await this._call("viewer", { fn, args }, { signal });
    if (r && r.buffer instanceof ArrayBuffer) return { ...r, data: typedArray(r.buffer, r.dtype), buffer: undefined };
    return r;
  }

  /**
   * What the worker has done so far: HTTP requests (`fetch`) and chunks the WASM codecs decoded
   * (`decode`), each counted where it ran, in the zarrlite worker (`inline`) or on chunk workers
   * (`workers`), and `retried` here because their chunk worker died; how many chunk workers are alive
   * and how many were `replaced`; the bytes of WASM memory the worker's Python holds (`wasmBytes`); the
   * Python event loop's batched callbacks (`loop`: drains and the callbacks they ran, null when batching
   * is off); Python requests `running`; the keys
   * of the open URL that the server refused with 403 and that read as missing (`forbidden`: their
   * `count` and the first `keys`; null for other sources): an expired signed URL looks like this.
   * @returns {Promise<import("./protocol.js").Stats>}
   */
  async stats() {
    return this._call("stats", {});
  }

  /** Stop the worker; pending and later calls reject. */
  close() {
    this._closed ??= new Error("zarrlite closed");
    this._runtime.rpc.close(this._closed.message);
  }
}

/**
 * `promise`, or an AbortError as soon as `signal` aborts (a call waiting for a restart rejects at once).
 * @template T
 * @param {Promise<T>} promise
 * @param {AbortSignal} [signal]
 * @returns {Promise<T>}
 */
function untilAborted(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  let onAbort = () => {};
  const aborted = new Promise((_, reject) => { onAbort = () => reject(abortError(signal)); });
  signal.addEventListener("abort", onAbort);
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

/**
 * @param {any} source
 * @param {HttpOptions} [http]
 * @returns {import("./protocol.js").Source}
 */
function toSource(source, http = {}) {
  if (typeof source === "string" || source instanceof URL) {
    return { kind: "url", url: new URL(String(source), location.href).href, options: http };
  }
  if (typeof FileSystemDirectoryHandle !== "undefined" && source instanceof FileSystemDirectoryHandle) {
    return { kind: "directory", handle: source };
  }
  if (source instanceof File) {
    return { kind: "zip", file: source };
  }
  const files = Array.from(source ?? []);
  if (files.length && files.every(f => f instanceof File)) {
    return { kind: "files", files, paths: relativePaths(files) };
  }
  throw new TypeError("open(): a URL, a FileList/File[], a FileSystemDirectoryHandle or a .zip File");
}

/** Paths inside the picked folder: the folder's own name (shared first segment) is dropped. */
function relativePaths(files) {
  const paths = files.map(f => (f.relativePath || f.webkitRelativePath || f.name).replace(/^\/+/, ""));
  const first = paths[0].split("/")[0];
  if (paths.every(p => p.includes("/") && p.split("/")[0] === first)) {
    return paths.map(p => p.slice(first.length + 1));
  }
  return paths;
}

export default Zarrlite;
