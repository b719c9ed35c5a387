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
import { selectionString, typedArray } from "./protocol.js";
import { connect } from "./rpc.js";

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
 */

/**
 * @typedef {object} ReadResult
 * @property {ArrayBufferView} data the values, C order (a BigInt64Array for int64, Float32Array for
 *   float16, interleaved re/im floats for complex)
 * @property {number[]} shape of `data`, numpy's (a 0-d result: []; complex: plus a trailing 2)
 * @property {string} dtype of `data`, numpy `dtype.str` ("<u2")
 * @property {string} sourceDtype the array's own dtype (">u2", "<f2", "<c8", ...)
 */

/** @typedef {import("./protocol.js").HttpOptions} HttpOptions */

/** @typedef {{signal?: AbortSignal}} CallOptions aborting `signal` rejects the call with an AbortError
 *  and cancels its work in the worker (the Python task and its fetches) */

export class Zarrlite {
  /**
   * @param {Worker} worker
   * @param {import("./rpc.js").Client} rpc
   */
  constructor(worker, rpc) {
    this._worker = worker;
    this._rpc = rpc;
    /** @type {CreateOptions["onProgress"] | null} */
    this.onProgress = null;
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
    const worker = new Worker(new URL("worker.js", baseURL), { type: "module" });
    /** @type {Zarrlite | null} */
    let zl = null;
    const rpc = connect(worker, { name: "zarrlite worker", onEvent: p => zl?.onProgress?.(p) });
    zl = new Zarrlite(worker, rpc);
    zl.onProgress = options.onProgress ?? null;
    try {
      await rpc.call("init", { baseURL, pyodideURL: options.pyodideURL ?? null,
                               chunkWorkers: options.chunkWorkers ?? null }, { signal: options.signal });
    } catch (err) {
      zl.close();
      throw err;
    }
    return zl;
  }

  /**
   * Open a source and return its hierarchy.
   * @param {string | URL | FileList | File[] | FileSystemDirectoryHandle | File} source a URL, the files
   *   of a folder (from `<input webkitdirectory>` or a drop; each file's `webkitRelativePath`, or a
   *   `relativePath` property you set, gives its place), a directory handle, or a `.zip` File
   * @param {CallOptions & HttpOptions} [options] `headers`, `retries`, `timeout`, `backoff` for a URL
   * @returns {Promise<Node>}
   */
  async open(source, { signal, ...http } = {}) {
    return this._rpc.call("open", { source: toSource(source, http) }, { signal });
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
    const r = await this._rpc.call("read", { path, selection: selectionString(selection) }, { signal });
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
    const r = await this._rpc.call("render", { path, selection: selectionString(selection), options }, { signal });
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
    const r = await this._rpc.call("viewer", { fn, args }, { signal });
    if (r && r.buffer instanceof ArrayBuffer) return { ...r, data: typedArray(r.buffer, r.dtype), buffer: undefined };
    return r;
  }

  /**
   * What the worker has done so far: HTTP requests (`fetch`) and chunks the WASM codecs decoded
   * (`decode`), each counted where it ran, in the zarrlite worker (`inline`) or on chunk workers
   * (`workers`); how many chunk workers are alive; the Python event loop's batched callbacks (`loop`:
   * drains and the callbacks they ran, null when batching is off); Python requests `running`.
   * @returns {Promise<import("./protocol.js").Stats>}
   */
  async stats() {
    return this._rpc.call("stats", {});
  }

  /** Stop the worker; pending and later calls reject. */
  close() {
    this._rpc.close("zarrlite closed");
    this._worker.terminate();
  }
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
