// The zarrlite worker (a module Web Worker): loads Pyodide from the site, installs zarrlite and numpy
// (unpacked by a helper worker while Pyodide boots; `loadPackage` when that fails or another Pyodide is
// used), hands Python the fetch and the WASM codecs of the chunk workers (chunk-pool.js), and serves
// the page's calls (rpc.js; the operations are listed in protocol.js) by running each as a Python task
// of one `zarrlite.webworker.Session`, which an abort cancels. Results leave as one copy out of WASM
// memory into a fresh ArrayBuffer, which is transferred, never cloned.
//
// A fatal error of Pyodide (a stack overflow or an out-of-memory in WASM) leaves it unusable: its public
// API throws from then on and its event loop is wedged, so pending and later Python tasks never finish
// (seen with Pyodide 0.27.7 in Chromium: "Cannot enter into task ... while another task is being
// executed"). This worker then tells the page it is dead (rpc.js `die`), and zarrlite.js starts another.
//
// For a debugger (DevTools' console in this worker, the tests): `self.pyodide` is the runtime. A page
// cannot reach a worker's globals; only messages of the protocol reach this worker.

import { chunkPool } from "./chunk-pool.js";
import { reviveJSON } from "./protocol.js";
import { Transferring, connect, errorInfo, serve, transferring } from "./rpc.js";

/** @type {any} the Pyodide runtime, once loaded */
let pyodide = null;
/** @type {any} the Session (a PyProxy), once ready */
let session = null;
/** @type {Promise<any> | null} */
let ready = null;
/** @type {ReturnType<typeof chunkPool> | null} the chunk workers (fetch and decode) handed to Python */
let pool = null;

const t0 = performance.now();
const page = serve(/** @type {any} */ (self), {
  init: async options => { ready ??= init(options); await ready; return { ready: true }; },
  open: async ({ source }, ctx) => reviveJSON(await python(ctx, "open_source", source)),
  read: (args, ctx) => read(args, ctx).finally(startChunkWorkers),
  render: (args, ctx) => render(args, ctx).finally(startChunkWorkers),
  viewer: (args, ctx) => viewerCall(args, ctx).then(startOnPixels),
  stats: async () => {
    if (!ready) throw new Error("zarrlite worker: not initialised");
    await ready;
    return { ...(pool ? pool.stats() : {}), ...reviveJSON(session.stats()), wasmBytes: wasmBytes() };
  },
}, { describeError: pythonErrorInfo });

/** The error that made Pyodide fail fatally (`err` when it is that error), or null while it works. */
function fatalError(err) {
  if (!pyodide) return null;
  try {
    void pyodide.globals;  // every public property throws once Pyodide has failed fatally
    return null;
  } catch (probe) {
    return err && err.pyodide_fatal_error ? err : probe;
  }
}

/** Tell the page this worker is dead when Pyodide has failed fatally (`err`: what was seen). */
function checkAlive(err) {
  const fatal = fatalError(err);
  if (fatal) page.die(fatal);
  return fatal;
}
self.addEventListener("error", e => { checkAlive(e.error); });
self.addEventListener("unhandledrejection", e => { checkAlive(e.reason); });

/** Bytes of WASM memory Pyodide holds (it grows, never shrinks). */
function wasmBytes() {
  return pyodide?._module?.HEAP8?.byteLength ?? null;
}

function progress(stage, loaded = 0, total = 0) {
  page.emit({ stage, loaded, total, ms: performance.now() - t0 });
}

/** A point of the start-up on this worker's performance timeline (DevTools, bench/viewer_bench.py). */
function mark(name) {
  performance.mark(`zarrlite:${name}`);
}

/** Once the first read is out: the chunk workers' start-up would have slowed it (2 cores: ~0.1 s). */
function startChunkWorkers() {
  pool?.start();
}

/**
 * A viewer call that returned an array (a tile, a thumbnail) was a read; one that returned JSON (the
 * colormaps, a tree, an image model) was not, and the first image's open and reads still come after it.
 * @param {any} result
 */
function startOnPixels(result) {
  if (result instanceof Transferring) startChunkWorkers();
  return result;
}

/**
 * Run Session.`op`(...args) as a Python task that the call's signal cancels (its fetches abort too).
 * @param {import("./rpc.js").CallContext} ctx
 * @param {string} op
 * @param {...any} args
 */
async function python(ctx, op, ...args) {
  if (!ready) throw new Error("zarrlite worker: not initialised");
  await ready;
  ctx.signal.throwIfAborted();
  const dead = checkAlive(null);
  if (dead) throw dead;
  const task = session.start(ctx.id, op, ...args);
  const cancel = () => session.cancel(ctx.id);
  ctx.signal.addEventListener("abort", cancel);
  try {
    return await task;
  } catch (err) {
    checkAlive(err);
    throw err;
  } finally {
    ctx.signal.removeEventListener("abort", cancel);
  }
}

/** Python exceptions arrive as PythonError with the whole traceback: keep the exception's own text. */
function pythonErrorInfo(err) {
  const text = String((err && err.message) || err);
  if (err && err.type && text.includes("Traceback")) {
    const lines = text.trimEnd().split("\n");
    let at = lines.length - 1;
    const head = new RegExp(`^([\\w.]+\\.)?${err.type}(:|$)`);
    while (at > 0 && !head.test(lines[at])) at--;
    const message = lines.slice(at).join("\n").replace(/^[\w.]+: /, "");
    return { name: err.type, message, traceback: text };
  }
  return errorInfo(err);
}

async function init({ baseURL, pyodideURL, chunkWorkers }) {
  const t0 = performance.now();
  const localPyodide = new URL("pyodide/", baseURL).href;
  const indexURL = pyodideURL ? new URL(pyodideURL, baseURL).href : localPyodide;
  progress("pyodide", 0, 3);
  const codecsModule = import(new URL("codecs.js", baseURL).href);
  // the site's lock: fetched early (it names the wheel when another Pyodide is used)
  const siteLock = fetch(new URL("pyodide-lock.json", localPyodide)).then(r => r.json());
  // The site's own runtime: fetch and inflate the wheels on another core while Pyodide boots.
  const unpacked = pyodideURL ? null : siteLock.then(lock => unpackWheels(lock, localPyodide, baseURL));
  unpacked?.catch(() => {});  // awaited below; loadPackage is the fallback
  const { loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href);
  mark("pyodide.mjs");
  /** @type {any} */
  const options = { indexURL, checkAPIVersion: false };
  // the site's own lock lists zarrlite; another distribution keeps its own lock
  if (!pyodideURL) options.lockFileURL = new URL("pyodide-lock.json", localPyodide).href;
  pyodide = await loadPyodide(options);
  mark("loadPyodide");
  /** @type {any} */ (self).pyodide = pyodide;
  // Pyodide calls `on_fatal` (an internal hook) as it fails: pending calls end at once, not at the next
  if (pyodide._api) pyodide._api.on_fatal = err => { checkAlive(err); };
  progress("packages", 1, 3);
  const quiet = () => {};
  if (pyodideURL) {
    // A full distribution: its numpy (and numcodecs, preferred over the WASM back-end when present).
    await pyodide.loadPackage(["numpy"], { messageCallback: quiet });
    try { await pyodide.loadPackage(["numcodecs"], { messageCallback: quiet, errorCallback: quiet }); } catch {}
    const wheel = (await siteLock).packages.zarrlite.file_name;
    await pyodide.loadPackage(new URL(wheel, localPyodide).href, { messageCallback: quiet });
  } else {
    try {
      const wheels = await /** @type {NonNullable<typeof unpacked>} */ (unpacked);
      mark("unpacked");
      install(pyodide, wheels);
    } catch (err) {
      console.warn("zarrlite: unpacking the wheels in a helper worker failed, using loadPackage:", err);
      await pyodide.loadPackage(["zarrlite"], { messageCallback: quiet });
    }
  }
  mark("installed");
  progress("codecs", 2, 3);
  try {
    chunkWorkers ??= Math.min(navigator.hardwareConcurrency || 2, 4);
    pool = chunkPool(await codecsModule, new URL("chunk-worker.js", baseURL), chunkWorkers);
    mark("codecs");
    pyodide.registerJsModule("zarrlite_jsfetch", pool.fetch);
    pyodide.registerJsModule("zarrlite_jscodecs", pool.codecs);
  } catch (err) {
    console.warn("zarrlite: WASM codecs unavailable:", err);
  }
  pyodide.pyimport("numpy").destroy();
  mark("numpy");
  const { Session } = pyodide.pyimport("zarrlite.webworker");
  mark("zarrlite");
  session = Session();
  mark("session");
  progress("ready", 3, 3);
  /** @type {any} */ (self).zarrliteStartup = performance.now() - t0;
}

/**
 * Fetch (sha256-checked) and inflate zarrlite's wheel and those it depends on, per the site's lock,
 * in a helper worker (unpack.js).
 * @returns {Promise<{names: string[], urls: string[], files: [string, Uint8Array][]}>}
 */
async function unpackWheels(lock, pyodideFolder, baseURL) {
  const names = [];
  const visit = name => {
    if (names.includes(name)) return;
    const pkg = lock.packages[name];
    if (!pkg) throw new Error(`pyodide-lock.json lacks ${name}`);
    pkg.depends.forEach(visit);
    names.push(name);
  };
  visit("zarrlite");
  const wheels = names.map(n => ({ url: new URL(lock.packages[n].file_name, pyodideFolder).href,
                                   sha256: lock.packages[n].sha256 }));
  const unpacker = new Worker(new URL("unpack.js", baseURL), { type: "module" });
  const rpc = connect(unpacker, { name: "the wheel unpacker (unpack.js)" });
  try {
    const { files } = await rpc.call("unpack", { wheels });
    return { names, urls: wheels.map(w => w.url), files };
  } finally {
    rpc.close();
    unpacker.terminate();
  }
}

/**
 * Write unpacked wheels into site-packages, as loadPackage would. Their shared libraries are not
 * preloaded: importing an extension module loads it (a synchronous compile, allowed in a worker).
 */
function install(pyodide, { names, urls, files }) {
  // pyimport, not runPython: the first runPython imports Python's parser machinery (~150 ms)
  const paths = pyodide.pyimport("site").getsitepackages();
  const site = paths.get(0);
  paths.destroy();
  for (const [path, data] of files) {
    const dest = `${site}/${path}`;
    pyodide.FS.mkdirTree(dest.slice(0, dest.lastIndexOf("/")));
    pyodide.FS.writeFile(dest, data, { canOwn: true });
  }
  names.forEach((name, i) => { pyodide.loadedPackages[name] = urls[i]; });
  // No importlib.invalidate_caches() (~150 ms: it imports importlib.metadata): the import system
  // re-lists site-packages when its mtime changes, which writing into it just did.
}

/** Copy a numpy array's bytes out of WASM memory once; the copy's buffer is ours to transfer. */
function copyOut(ndarray) {
  const view = ndarray.getBuffer();
  try {
    if (!view.c_contiguous) throw new Error("internal: result is not C-contiguous");
    return { data: view.data.slice(), shape: view.shape };
  } finally {
    view.release();
  }
}

/** The (ndarray, ...rest) tuple a Session method returned: the array copied out, the rest as JS. */
function unpackTuple(res) {
  try {
    const arr = res.get(0);
    const { data, shape } = copyOut(arr);
    arr.destroy();
    return { data, shape, rest: Array.from({ length: res.length - 1 }, (_, i) => res.get(i + 1)) };
  } finally {
    res.destroy();
  }
}

async function read({ path, selection }, ctx) {
  const { data, shape, rest: [dtype, sourceDtype, layout] } = unpackTuple(await python(ctx, "read", path, selection));
  return transferring({ buffer: data.buffer, shape, dtype, sourceDtype, layout: layout ?? null }, [data.buffer]);
}

async function render({ path, selection, options }, ctx) {
  const rgba = await python(ctx, "render", path, selection, JSON.stringify(options ?? {}));
  try {
    const { data, shape } = copyOut(rgba);
    return transferring({ buffer: data.buffer, height: shape[0], width: shape[1] }, [data.buffer]);
  } finally {
    rgba.destroy();
  }
}

/** Viewer helpers (zarrlite.viewer_api.call): JSON text back, or (ndarray, meta JSON) as a buffer. */
async function viewerCall({ fn, args }, ctx) {
  const res = await python(ctx, "viewer", fn, JSON.stringify(args ?? []));
  if (typeof res === "string") return reviveJSON(res);
  const { data, shape, rest: [meta] } = unpackTuple(res);
  return transferring({ ...reviveJSON(meta), buffer: data.buffer, shape }, [data.buffer]);
}
