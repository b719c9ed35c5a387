// The zarrlite worker (a module Web Worker): loads Pyodide from the site, installs zarrlite and numpy
// (unpacked by a helper worker while Pyodide boots; `loadPackage` when that fails or another Pyodide is
// used), hands Python the fetch and the WASM codecs of the chunk workers (chunk-pool.js), and answers
// the page's requests (see protocol.js). Results leave as one copy out of WASM memory into a
// fresh ArrayBuffer, which is transferred, never cloned.

import { chunkPool } from "./chunk-pool.js";

let py = null;        // zarrlite.webworker, once ready
let ready = null;     // Promise of py
let pyodideRef = null; // the runtime, for modules imported on demand (zarrlite.viewer_api)
let pool = null;      // the chunk workers (fetch and decode) handed to Python

self.onmessage = async e => {
  const msg = e.data;
  try {
    if (msg.op === "init") {
      ready ??= init(msg);
      await ready;
      reply(msg.id, { ready: true });
      return;
    }
    await ready;
    if (!py) throw new Error("zarrlite worker: not initialised");
    if (msg.op === "open") reply(msg.id, JSON.parse(await py.open_source(msg.source)));
    else if (msg.op === "read") await read(msg).finally(startChunkWorkers);
    else if (msg.op === "render") await render(msg).finally(startChunkWorkers);
    else if (msg.op === "viewer") await viewerCall(msg);
    else if (msg.op === "stats") reply(msg.id, pool ? pool.stats() : null);
    else throw new Error(`unknown op ${msg.op}`);
  } catch (err) {
    self.postMessage({ id: msg.id, ok: false, error: errorInfo(err) });
  }
};

/** Once the first read is out: the chunk workers' start-up would have slowed it (2 cores: ~0.1 s). */
function startChunkWorkers() {
  pool?.start();
}

function reply(id, result, transfer = []) {
  self.postMessage({ id, ok: true, result }, transfer);
}

const t0 = performance.now();
function progress(stage, loaded = 0, total = 0) {
  self.postMessage({ op: "progress", stage, loaded, total, ms: performance.now() - t0 });
}

/** Python exceptions arrive as PythonError with the whole traceback: keep the exception's own text. */
function errorInfo(err) {
  const text = String((err && err.message) || err);
  if (err && err.type && text.includes("Traceback")) {
    const lines = text.trimEnd().split("\n");
    let at = lines.length - 1;
    const head = new RegExp(`^([\\w.]+\\.)?${err.type}(:|$)`);
    while (at > 0 && !head.test(lines[at])) at--;
    const message = lines.slice(at).join("\n").replace(/^[\w.]+: /, "");
    return { name: err.type, message, traceback: text };
  }
  return { name: (err && err.name) || "Error", message: text };
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
  const options = { indexURL, checkAPIVersion: false };
  // the site's own lock lists zarrlite; another distribution keeps its own lock
  if (!pyodideURL) options.lockFileURL = new URL("pyodide-lock.json", localPyodide).href;
  const pyodide = await loadPyodide(options);
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
      install(pyodide, await unpacked);
    } catch (err) {
      console.warn("zarrlite: unpacking the wheels in a helper worker failed, using loadPackage:", err);
      await pyodide.loadPackage(["zarrlite"], { messageCallback: quiet });
    }
  }
  progress("codecs", 2, 3);
  try {
    chunkWorkers ??= Math.min(navigator.hardwareConcurrency || 2, 4);
    pool = chunkPool(await codecsModule, new URL("chunk-worker.js", baseURL), chunkWorkers);
    pyodide.registerJsModule("zarrlite_jsfetch", pool.fetch);
    pyodide.registerJsModule("zarrlite_jscodecs", pool.codecs);
  } catch (err) {
    console.warn("zarrlite: WASM codecs unavailable:", err);
  }
  pyodideRef = pyodide;
  py = pyodide.pyimport("zarrlite.webworker");
  py.setup();
  progress("ready", 3, 3);
  self.zarrliteStartup = performance.now() - t0;
  return py;
}

/**
 * Fetch (sha256-checked) and inflate zarrlite's wheel and those it depends on, per the site's lock,
 * in a helper worker (unpack.js).
 * @returns {Promise<{names: string[], urls: string[], files: [string, Uint8Array][]}>}
 */
function unpackWheels(lock, pyodideFolder, baseURL) {
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
  return new Promise((resolve, reject) => {
    const unpacker = new Worker(new URL("unpack.js", baseURL), { type: "module" });
    unpacker.onmessage = e => {
      unpacker.terminate();
      if (e.data.error) reject(new Error(e.data.error));
      else resolve({ names, urls: wheels.map(w => w.url), files: e.data.files });
    };
    unpacker.onerror = e => { unpacker.terminate(); reject(new Error(e.message || "unpack.js failed to start")); };
    unpacker.postMessage({ wheels });
  });
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

async function read({ id, path, selection }) {
  const res = await py.read(path, selection);
  try {
    const arr = res.get(0);
    const { data, shape } = copyOut(arr);
    arr.destroy();
    reply(id, { buffer: data.buffer, shape, dtype: res.get(1), sourceDtype: res.get(2) }, [data.buffer]);
  } finally {
    res.destroy();
  }
}

async function render({ id, path, selection, options }) {
  const rgba = await py.render(path, selection, JSON.stringify(options ?? {}));
  try {
    const { data, shape } = copyOut(rgba);
    reply(id, { buffer: data.buffer, height: shape[0], width: shape[1] }, [data.buffer]);
  } finally {
    rgba.destroy();
  }
}

/** Viewer helpers (zarrlite.viewer_api.call): JSON text back, or (ndarray, meta JSON) as a buffer. */
let viewerApi = null;
async function viewerCall({ id, fn, args }) {
  viewerApi ??= pyodideRef.pyimport("zarrlite.viewer_api");
  const res = await viewerApi.call(fn, JSON.stringify(args ?? []));
  if (typeof res === "string") return reply(id, JSON.parse(res));
  try {
    const arr = res.get(0);
    const { data, shape } = copyOut(arr);
    arr.destroy();
    reply(id, { ...JSON.parse(res.get(1)), buffer: data.buffer, shape }, [data.buffer]);
    startChunkWorkers();
  } finally {
    res.destroy();
  }
}
